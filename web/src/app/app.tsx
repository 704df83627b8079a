import { QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { RouterProvider } from 'react-router';
import { LinkExpired, SignInRequired, SignedOut } from '@/features/auth/components/session-pages';
import { createQueryClient } from '@/lib/query-client';
import { useAuthState } from '@/lib/session';
import { createRouter } from './router';

const queryClient = createQueryClient();

/** The portal: the router while signed in, otherwise a page saying why not. */
export function App() {
  const auth = useAuthState();
  const [router] = useState(createRouter);

  useEffect(() => {
    // Nothing of a session outlives it.
    if (auth !== 'signed-in') queryClient.clear();
  }, [auth]);

  switch (auth) {
    case 'missing':
      return <SignInRequired />;
    case 'expired':
      return <LinkExpired />;
    case 'signed-out':
      return <SignedOut />;
    default:
      return (
        <QueryClientProvider client={queryClient}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      );
  }
}
