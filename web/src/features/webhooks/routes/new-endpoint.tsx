import { Link, useNavigate } from 'react-router';
import { useSubmissionKey } from '@/api/idempotency';
import type { CreateEndpoint } from '@/api/types';
import { PageHeader } from '@/components/page';
import { useCreateEndpoint } from '../api/endpoints';
import { EndpointForm } from '../components/endpoint-form';
import { setHeaders } from '../components/headers-editor';
import { handOverCreated } from '../lib/secret-store';

export function NewEndpointRoute() {
  const navigate = useNavigate();
  const create = useCreateEndpoint();
  // One key for this form: the same endpoint sent again (after a timeout, a double
  // submission) is not added twice.
  const submission = useSubmissionKey();
  return (
    <>
      <PageHeader
        title="Add endpoint"
        eyebrow={
          <Link to="/webhooks" className="back-link">
            ← Webhooks
          </Link>
        }
        description="Deliveries are signed with a secret you will see once, on the next page."
      />
      <EndpointForm
        submitLabel="Add endpoint"
        pendingLabel="Adding endpoint…"
        failure="The endpoint was not added."
        onSubmit={async (values) => {
          const body: CreateEndpoint = {
            url: values.url,
            ...(values.description ? { description: values.description } : {}),
            ...(values.eventTypes.length ? { event_types: values.eventTypes } : {}),
            ...(Object.keys(values.headers).length ? { headers: setHeaders(values.headers) } : {}),
            ...(values.rateLimit ? { rate_limit_per_second: Number(values.rateLimit) } : {}),
          };
          const endpoint = await create.mutateAsync({ body, idempotencyKey: submission.for(body) });
          submission.succeeded();
          if (endpoint.secret) {
            handOverCreated(endpoint.id, {
              secret: endpoint.secret,
              warnings: endpoint.warnings ?? [],
            });
          }
          await navigate(`/webhooks/${endpoint.id}`);
        }}
        onCancel={() => void navigate('/webhooks')}
      />
    </>
  );
}
