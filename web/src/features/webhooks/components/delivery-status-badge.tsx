import type { DeliveryStatus } from '@/api/types';
import { Badge, type Tone } from '@/components/badge';
import { humanize } from '@/lib/format';

const TONES: Record<DeliveryStatus, Tone> = {
  pending: 'warning',
  delivered: 'success',
  failed: 'danger',
};

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return <Badge tone={TONES[status] ?? 'neutral'}>{humanize(status)}</Badge>;
}
