import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import type { EndpointStats } from '@/api/types';
import { endpointKeys } from './endpoints';

/** The periods the endpoint page charts, each in hourly buckets. */
export const STATS_PERIODS = {
  '24h': { label: 'Last 24 hours', hours: 24 },
  '7d': { label: 'Last 7 days', hours: 168 },
} as const;

export type StatsPeriod = keyof typeof STATS_PERIODS;

/** One endpoint's hourly statistics over `period`, up to now; refreshed every minute. */
export function useEndpointStats(endpointId: string, period: StatsPeriod) {
  return useQuery({
    queryKey: [...endpointKeys.detail(endpointId), 'stats', period],
    queryFn: ({ signal }) => {
      const until = new Date();
      const since = new Date(until.getTime() - STATS_PERIODS[period].hours * 3_600_000);
      return unwrap<EndpointStats>(
        api.GET('/v1/webhook-endpoints/{id}/stats', {
          params: {
            path: { id: endpointId },
            query: { bucket: 'hour', since: since.toISOString(), until: until.toISOString() },
          },
          signal,
        }),
      );
    },
    refetchInterval: 60_000,
  });
}
