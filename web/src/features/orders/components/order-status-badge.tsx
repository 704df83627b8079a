import type { OrderStatus } from '@/api/types';
import { Badge, type Tone } from '@/components/badge';
import { humanize } from '@/lib/format';

const TONES: Record<OrderStatus, Tone> = {
  pending: 'neutral',
  confirmed: 'info',
  picked_up: 'progress',
  in_transit: 'progress',
  out_for_delivery: 'progress',
  delivered: 'success',
  cancelled: 'neutral',
  exception: 'danger',
  returned: 'warning',
};

export function orderStatusLabel(status: string): string {
  return humanize(status);
}

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  return <Badge tone={TONES[status] ?? 'neutral'}>{orderStatusLabel(status)}</Badge>;
}
