import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, idempotencyKey, unwrap } from '@/api/client';
import type { Keyed } from '@/api/idempotency';
import type { CreateOrder, HistoryEntry, Order, OrderStatus, Page } from '@/api/types';

export interface OrderListQuery {
  status?: OrderStatus | undefined;
  cursor?: string | undefined;
}

export const orderKeys = {
  all: ['orders'] as const,
  lists: () => [...orderKeys.all, 'list'] as const,
  list: (query: OrderListQuery) => [...orderKeys.lists(), query] as const,
  detail: (id: string) => [...orderKeys.all, 'detail', id] as const,
  history: (id: string) => [...orderKeys.detail(id), 'history'] as const,
};

export function useOrders(query: OrderListQuery) {
  return useQuery({
    queryKey: orderKeys.list(query),
    queryFn: ({ signal }) =>
      unwrap<Page<Order>>(api.GET('/v1/orders', { params: { query }, signal })),
  });
}

export function useOrder(id: string) {
  return useQuery({
    queryKey: orderKeys.detail(id),
    queryFn: ({ signal }) =>
      unwrap<Order>(api.GET('/v1/orders/{id}', { params: { path: { id } }, signal })),
  });
}

export function useOrderHistory(id: string) {
  return useQuery({
    queryKey: orderKeys.history(id),
    queryFn: ({ signal }) =>
      unwrap<Page<HistoryEntry>>(
        api.GET('/v1/orders/{id}/history', { params: { path: { id } }, signal }),
      ),
  });
}

/**
 * Places an order with the `Idempotency-Key` of its submission (see `SubmissionKey`): a retry
 * of the same submission places no second order.
 */
export function useCreateOrder() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ body, idempotencyKey: key }: Keyed<CreateOrder>) =>
      unwrap<Order>(api.POST('/v1/orders', { body, headers: { 'Idempotency-Key': key } })),
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(order.id), order);
      return queryClient.invalidateQueries({ queryKey: orderKeys.lists() });
    },
  });
}

/** Cancels the order; each confirmation is its own action with a fresh key. */
export function useCancelOrder(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap<Order>(
        api.POST('/v1/orders/{id}/cancel', {
          params: { path: { id } },
          headers: { 'Idempotency-Key': idempotencyKey() },
        }),
      ),
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(id), order);
      return Promise.all([
        queryClient.invalidateQueries({ queryKey: orderKeys.history(id) }),
        queryClient.invalidateQueries({ queryKey: orderKeys.lists() }),
      ]);
    },
  });
}
