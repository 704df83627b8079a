import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { EventTypeInfo, Page } from './types';

/** The event catalog: shared by the catalog page and the endpoint forms. */
export function useEventTypes() {
  return useQuery({
    queryKey: ['event-types'],
    queryFn: ({ signal }) =>
      unwrap<Page<EventTypeInfo>>(api.GET('/v1/event-types', { signal })),
    staleTime: 60 * 60_000,
  });
}
