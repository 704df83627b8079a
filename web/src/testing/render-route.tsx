import { QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { createQueryClient } from '@/lib/query-client';

/** Renders `element` at `path` with a fresh query cache; `others` are the routes it may go to. */
export function renderRoute(path: string, element: ReactNode, others: Record<string, ReactNode> = {}) {
  const router = createMemoryRouter(
    [
      { path, element },
      ...Object.entries(others).map(([p, e]) => ({ path: p, element: e })),
    ],
    { initialEntries: [path] },
  );
  return render(
    <QueryClientProvider client={createQueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}
