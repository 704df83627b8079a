import { QueryClient } from '@tanstack/react-query';
import { ApiError } from '@/api/errors';

/** Server state lives in this cache. A 4xx is an answer, not a glitch: it is not retried. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        retry: (failures, error) =>
          !(error instanceof ApiError && error.status < 500) && failures < 2,
      },
      mutations: { retry: false },
    },
  });
}
