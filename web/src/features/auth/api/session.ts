import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import type { PortalSession } from '@/api/types';
import { endSession } from '@/lib/session';

export const sessionKey = ['portal-session', 'current'] as const;

/** Who is signed in, and until when. */
export function useCurrentSession() {
  return useQuery({
    queryKey: sessionKey,
    queryFn: ({ signal }) =>
      unwrap<PortalSession>(api.GET('/v1/portal-sessions/current', { signal })),
    staleTime: 5 * 60_000,
    retry: false,
  });
}

/** Revokes this session (when its id is known), forgets the token and shows "Signed out". */
export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (sessionId: string | undefined) => {
      if (!sessionId) return;
      try {
        await unwrap(
          api.DELETE('/v1/portal-sessions/{id}', { params: { path: { id: sessionId } } }),
        );
      } catch {
        // The session may already be gone; signing out locally is what matters.
      }
    },
    onSettled: () => {
      endSession('signed-out');
      queryClient.clear();
    },
  });
}
