import { Link, useNavigate } from 'react-router';
import { PageHeader } from '@/components/page';
import { useCreateOrder } from '../api/orders';
import { OrderForm } from '../components/order-form';

export function NewOrderRoute() {
  const navigate = useNavigate();
  const create = useCreateOrder();
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
          const order = await create.mutateAsync(body);
          await navigate(`/orders/${order.id}`);
        }}
        onCancel={() => void navigate('/orders')}
      />
    </>
  );
}
