import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, idempotencyKey, unwrap } from '@/api/client';
import type { Keyed } from '@/api/idempotency';
import type {
  CreateEndpoint,
  Endpoint,
  Page,
  Recovered,
  Rotated,
  TestQueued,
  UpdateEndpoint,
} from '@/api/types';

export const endpointKeys = {
  all: ['endpoints'] as const,
  lists: () => [...endpointKeys.all, 'list'] as const,
  list: (cursor: string | undefined) => [...endpointKeys.lists(), { cursor }] as const,
  detail: (id: string) => [...endpointKeys.all, 'detail', id] as const,
  deliveries: (id: string) => [...endpointKeys.detail(id), 'deliveries'] as const,
};

export function useEndpoints(cursor: string | undefined) {
  return useQuery({
    queryKey: endpointKeys.list(cursor),
    queryFn: ({ signal }) =>
      unwrap<Page<Endpoint>>(
        api.GET('/v1/webhook-endpoints', { params: { query: { cursor } }, signal }),
      ),
  });
}

export function useEndpoint(id: string) {
  return useQuery({
    queryKey: endpointKeys.detail(id),
    queryFn: ({ signal }) =>
      unwrap<Endpoint>(
        api.GET('/v1/webhook-endpoints/{id}', { params: { path: { id } }, signal }),
      ),
  });
}

/**
 * Registers an endpoint with the `Idempotency-Key` of its submission (see `SubmissionKey`): a
 * retry of the same submission adds no second endpoint. The answer carries its signing
 * secret, shown once.
 */
export function useCreateEndpoint() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ body, idempotencyKey: key }: Keyed<CreateEndpoint>) =>
      unwrap<Endpoint>(
        api.POST('/v1/webhook-endpoints', { body, headers: { 'Idempotency-Key': key } }),
      ),
    onSuccess: (endpoint) => {
      // Cache the endpoint without its secret: the secret travels only in memory, once.
      const { secret: _secret, ...stored } = endpoint;
      void _secret;
      queryClient.setQueryData(endpointKeys.detail(endpoint.id), stored);
      return queryClient.invalidateQueries({ queryKey: endpointKeys.lists() });
    },
  });
}

export function useUpdateEndpoint(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: UpdateEndpoint) =>
      unwrap<Endpoint>(
        api.PATCH('/v1/webhook-endpoints/{id}', { params: { path: { id } }, body }),
      ),
    onSuccess: (endpoint) => {
      queryClient.setQueryData(endpointKeys.detail(id), endpoint);
      return Promise.all([
        queryClient.invalidateQueries({ queryKey: endpointKeys.lists() }),
        queryClient.invalidateQueries({ queryKey: endpointKeys.deliveries(id) }),
      ]);
    },
  });
}

export function useDeleteEndpoint(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(api.DELETE('/v1/webhook-endpoints/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: endpointKeys.detail(id) });
      return queryClient.invalidateQueries({ queryKey: endpointKeys.lists() });
    },
  });
}

export function useRotateSecret(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (graceSeconds: number) =>
      unwrap<Rotated>(
        api.POST('/v1/webhook-endpoints/{id}/rotate-secret', {
          params: { path: { id } },
          body: { grace_period_seconds: graceSeconds },
          headers: { 'Idempotency-Key': idempotencyKey() },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: endpointKeys.detail(id) }),
  });
}

export function useSendTestEvent(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap<TestQueued>(
        api.POST('/v1/webhook-endpoints/{id}/test', {
          params: { path: { id } },
          headers: { 'Idempotency-Key': idempotencyKey() },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: endpointKeys.deliveries(id) }),
  });
}

export function useRecoverDeliveries(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (since: string) =>
      unwrap<Recovered>(
        api.POST('/v1/webhook-endpoints/{id}/recover', {
          params: { path: { id } },
          body: { since },
          headers: { 'Idempotency-Key': idempotencyKey() },
        }),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: endpointKeys.deliveries(id) }),
        queryClient.invalidateQueries({ queryKey: ['deliveries'] }),
      ]),
  });
}
