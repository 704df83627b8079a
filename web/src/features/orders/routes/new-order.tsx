import { Link, useNavigate } from 'react-router';
import { useSubmissionKey } from '@/api/idempotency';
import { PageHeader } from '@/components/page';
import { useCreateOrder } from '../api/orders';
import { OrderForm } from '../components/order-form';

export function NewOrderRoute() {
  const navigate = useNavigate();
  const create = useCreateOrder();
  // One key for this form: the same order sent again (after a timeout, a double submission)
  // is not placed twice.
  const submission = useSubmissionKey();
  return (
    <>
      <PageHeader
        title="Place order"
        eyebrow={
          <Link to="/orders" className="back-link">
            ← Orders
          </Link>
        }
        description="Every field marked (optional) may be left empty."
      />
      <OrderForm
        onSubmit={async (body) => {
          const order = await create.mutateAsync({ body, idempotencyKey: submission.for(body) });
          submission.succeeded();
          await navigate(`/orders/${order.id}`);
        }}
        onCancel={() => void navigate('/orders')}
      />
    </>
  );
}
