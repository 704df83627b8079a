import type { Endpoint } from '@/api/types';
import { Badge } from '@/components/badge';
import { Time } from '@/components/time';

/** Why an endpoint was disabled, in words. */
export function disabledReasonText(reason: string | null | undefined): string {
  switch (reason) {
    case 'gone':
      return 'the receiver answered 410 Gone';
    case 'auto_disabled':
      return 'failing for too long';
    default:
      // `manual`, `disabled_by_customer` or none: the customer turned it off.
      return 'disabled by you';
  }
}

type EndpointHealth = Pick<Endpoint, 'enabled' | 'disabled_reason' | 'failing_since'>;

/** Enabled / Disabled (with the reason) / Failing since <time>. */
export function EndpointState({ endpoint }: { endpoint: EndpointHealth }) {
  if (!endpoint.enabled) {
    return (
      <span className="state">
        <Badge tone="neutral">Disabled</Badge>{' '}
        <span className="state__reason">{disabledReasonText(endpoint.disabled_reason)}</span>
      </span>
    );
  }
  if (endpoint.failing_since) {
    return (
      <span className="state">
        <Badge tone="danger">Failing</Badge>{' '}
        <span className="state__reason">
          since <Time value={endpoint.failing_since} />
        </span>
      </span>
    );
  }
  return (
    <span className="state">
      <Badge tone="success">Enabled</Badge>
    </span>
  );
}
