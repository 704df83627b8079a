import { Link, useParams } from 'react-router';
import type { Attempt, Delivery } from '@/api/types';
import { isNotFound } from '@/api/errors';
import { EmptyState, ErrorView, Loading } from '@/components/feedback';
import { JsonBlock } from '@/components/json-block';
import { PageHeader } from '@/components/page';
import { Time } from '@/components/time';
import { formatNumber, humanize } from '@/lib/format';
import { useSingleFlight } from '@/lib/single-flight';
import { useDelivery, useRetryDelivery } from '../api/deliveries';
import { DeliveryStatusBadge } from '../components/delivery-status-badge';

const FAILURE_REASONS: Record<string, string> = {
  attempts_exhausted: 'Every scheduled attempt failed.',
  endpoint_disabled: 'The endpoint was disabled or deleted before the delivery succeeded.',
  endpoint_gone: 'The receiver answered 410 Gone, which disabled the endpoint.',
};

export function failureReasonText(reason: string): string {
  return FAILURE_REASONS[reason] ?? humanize(reason);
}

export function DeliveryDetailRoute() {
  const { deliveryId = '' } = useParams();
  const delivery = useDelivery(deliveryId);

  if (delivery.isPending) {
    return (
      <>
        <PageHeader title="Delivery" />
        <Loading />
      </>
    );
  }
  if (delivery.isError) {
    if (isNotFound(delivery.error)) {
      return (
        <>
          <PageHeader title="Delivery not found" />
          <EmptyState
            title="There is no delivery with this id"
            action={
              <Link className="button button--secondary" to="/webhooks">
                Back to webhooks
              </Link>
            }
          >
            <p>Id: <code>{deliveryId}</code></p>
          </EmptyState>
        </>
      );
    }
    return (
      <>
        <PageHeader title="Delivery" />
        <ErrorView error={delivery.error} context="The delivery could not be loaded." />
      </>
    );
  }
  return <DeliveryView delivery={delivery.data} />;
}

function DeliveryView({ delivery }: { delivery: Delivery }) {
  const retry = useRetryDelivery(delivery.id);
  const once = useSingleFlight();
  const pending = delivery.status === 'pending';
  const attempts = delivery.attempts ?? [];
  return (
    <>
      <PageHeader
        title="Delivery"
        eyebrow={
          <Link to={`/webhooks/${delivery.endpoint_id}/deliveries`} className="back-link">
            ← Delivery log
          </Link>
        }
        description={
          <>
            <DeliveryStatusBadge status={delivery.status} /> <code>{delivery.event_type}</code> ·{' '}
            <code>{delivery.id}</code>
          </>
        }
        actions={
          pending ? null : (
            <button
              type="button"
              className="button button--primary"
              disabled={retry.isPending}
              onClick={() => once(() => retry.mutateAsync())}
            >
              {retry.isPending ? 'Retrying…' : 'Retry'}
            </button>
          )
        }
      />
      {retry.isError ? <ErrorView error={retry.error} context="The delivery was not retried." /> : null}
      <p role="status" className="inline-status">
        {pending
          ? 'Waiting for the next attempt. This page refreshes every 2 seconds.'
          : retry.isSuccess
            ? 'Retry queued.'
            : ''}
      </p>

      <section className="card" aria-labelledby="delivery-heading">
        <h2 id="delivery-heading" className="card__title">
          Summary
        </h2>
        <dl className="details">
          <dt>Status</dt>
          <dd>
            <DeliveryStatusBadge status={delivery.status} />
          </dd>
          <dt>Event type</dt>
          <dd>
            <code>{delivery.event_type}</code>
          </dd>
          <dt>
            Event ID <span className="muted">(webhook-id)</span>
          </dt>
          <dd>
            <code className="selectable">{delivery.event_id}</code>
          </dd>
          <dt>Endpoint</dt>
          <dd>
            <Link to={`/webhooks/${delivery.endpoint_id}`}>
              <code>{delivery.endpoint_id}</code>
            </Link>
          </dd>
          <dt>Attempts</dt>
          <dd>{delivery.attempt_count}</dd>
          <dt>Last response</dt>
          <dd>{delivery.last_status_code ?? <span className="muted">None</span>}</dd>
          {delivery.failure_reason ? (
            <>
              <dt>Failure reason</dt>
              <dd>
                {failureReasonText(delivery.failure_reason)}{' '}
                <code className="muted">{delivery.failure_reason}</code>
              </dd>
            </>
          ) : null}
          <dt>Created</dt>
          <dd>
            <Time value={delivery.created_at} seconds />
          </dd>
          <dt>Last attempt</dt>
          <dd>
            <Time value={delivery.last_attempt_at} seconds fallback="None yet" />
          </dd>
          <dt>Next attempt</dt>
          <dd>
            <Time value={delivery.next_attempt_at} seconds fallback="None scheduled" />
          </dd>
        </dl>
      </section>

      <section className="section" aria-labelledby="payload-heading">
        <h2 id="payload-heading" className="section__title">
          Payload
        </h2>
        {delivery.payload === undefined || delivery.payload === null ? (
          <p className="muted">The payload is not available.</p>
        ) : (
          <JsonBlock value={delivery.payload} />
        )}
      </section>

      <section className="section" aria-labelledby="attempts-heading">
        <h2 id="attempts-heading" className="section__title">
          Attempts
        </h2>
        {attempts.length === 0 ? (
          <p className="muted">No attempt has been made yet.</p>
        ) : (
          <ol className="attempts">
            {attempts.map((attempt) => (
              <AttemptItem key={attempt.attempt} attempt={attempt} />
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

function succeeded(attempt: Attempt): boolean {
  return (
    !attempt.error_class &&
    attempt.status_code !== null &&
    attempt.status_code !== undefined &&
    attempt.status_code >= 200 &&
    attempt.status_code < 300
  );
}

function AttemptItem({ attempt }: { attempt: Attempt }) {
  const ok = succeeded(attempt);
  const headers = Object.entries((attempt.response_headers ?? {}) as Record<string, unknown>);
  const headingId = `attempt-${attempt.attempt}`;
  return (
    <li className="card attempt">
      <div className="card__header">
        <h3 id={headingId} className="card__title">
          Attempt {attempt.attempt}
        </h3>
        <span className={`badge badge--${ok ? 'success' : 'danger'}`}>{ok ? 'Succeeded' : 'Failed'}</span>
      </div>
      <dl className="details">
        <dt>Started</dt>
        <dd>
          <Time value={attempt.started_at} seconds />
        </dd>
        <dt>Response status</dt>
        <dd>{attempt.status_code ?? <span className="muted">No response</span>}</dd>
        <dt>Error class</dt>
        <dd>{attempt.error_class ? <code>{attempt.error_class}</code> : <span className="muted">None</span>}</dd>
        {attempt.error_message ? (
          <>
            <dt>Error</dt>
            <dd>{attempt.error_message}</dd>
          </>
        ) : null}
        <dt>Duration</dt>
        <dd>{formatNumber(attempt.duration_ms)} ms</dd>
      </dl>
      {headers.length ? (
        <div className="table-wrap">
          <table className="table table--compact">
            <caption className="table__caption">Response headers</caption>
            <thead>
              <tr>
                <th scope="col">Header</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {headers.map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">
                    <code>{name}</code>
                  </th>
                  <td className="break-anywhere">
                    <code>{typeof value === 'string' ? value : JSON.stringify(value)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {attempt.response_body ? (
        <div>
          <h4 className="subheading">Response body (first 20 KB)</h4>
          <JsonBlock value={attempt.response_body} />
        </div>
      ) : null}
    </li>
  );
}
