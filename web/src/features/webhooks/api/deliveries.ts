import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, idempotencyKey, unwrap } from '@/api/client';
import type { Delivery, DeliveryStatus, EventType, Page } from '@/api/types';
import { endpointKeys } from './endpoints';

export interface DeliveryListQuery {
  status?: DeliveryStatus | undefined;
  event_type?: EventType | undefined;
  created_after?: string | undefined;
  created_before?: string | undefined;
  cursor?: string | undefined;
}

export const deliveryKeys = {
  all: ['deliveries'] as const,
  detail: (id: string) => [...deliveryKeys.all, id] as const,
};

/** The delivery log of one endpoint. */
export function useDeliveries(endpointId: string, query: DeliveryListQuery) {
  return useQuery({
    queryKey: [...endpointKeys.deliveries(endpointId), query],
    queryFn: ({ signal }) =>
      unwrap<Page<Delivery>>(
        api.GET('/v1/webhook-endpoints/{id}/deliveries', {
          params: { path: { id: endpointId }, query },
          signal,
        }),
      ),
  });
}

/** One delivery; refetched every 2 s while it is pending. */
export function useDelivery(id: string) {
  return useQuery({
    queryKey: deliveryKeys.detail(id),
    queryFn: ({ signal }) =>
      unwrap<Delivery>(
        api.GET('/v1/webhook-deliveries/{id}', { params: { path: { id } }, signal }),
      ),
    refetchInterval: (query) => (query.state.data?.status === 'pending' ? 2000 : false),
  });
}

export function useRetryDelivery(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/webhook-deliveries/{id}/retry', {
          params: { path: { id } },
          headers: { 'Idempotency-Key': idempotencyKey() },
        }),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: deliveryKeys.detail(id) }),
        queryClient.invalidateQueries({ queryKey: endpointKeys.all }),
      ]),
  });
}
