import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/api/client';
import { ApiError } from '@/api/errors';
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

/**
 * Signs out: revokes the session this app is signed in with (`DELETE
 * /v1/portal-sessions/current`, which needs no id), then forgets the token and shows "Signed
 * out". A 401 means the session had already ended: the app is signed out just the same (the
 * client shows "This link has expired" when the answer says so). Any other failure leaves
 * the app signed in, with the token that still works, and is the mutation's error.
 */
export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      try {
        await unwrap(api.DELETE('/v1/portal-sessions/current'));
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 401)) throw error;
      }
    },
    onSuccess: () => {
      endSession('signed-out');
      queryClient.clear();
    },
  });
}
