import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';
import { createQueryClient } from '@/lib/query-client';
import { json, mockApi } from '@/testing/fetch';
import { EndpointLayoutRoute } from './endpoint-layout';
import { EndpointOverviewRoute } from './endpoint-overview';
import { NewEndpointRoute } from './new-endpoint';

const endpoint = {
  id: 'ep_1',
  url: 'https://hooks.example.invalid/orders',
  enabled: true,
  created_at: '2030-01-01T00:00:00Z',
  updated_at: '2030-01-01T00:00:00Z',
};
const warning = (host: string) =>
  `url: the host ${host} does not resolve yet (host not found); the endpoint is registered`;

function renderFlow() {
  const router = createMemoryRouter(
    [
      { path: '/webhooks/new', element: <NewEndpointRoute /> },
      {
        path: '/webhooks/:endpointId',
        element: <EndpointLayoutRoute />,
        children: [{ index: true, element: <EndpointOverviewRoute /> }],
      },
    ],
    { initialEntries: ['/webhooks/new'] },
  );
  render(
    <QueryClientProvider client={createQueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

describe('EndpointOverviewRoute', () => {
  it('shows what a creation and a change were accepted despite, once', async () => {
    mockApi({
      'GET /v1/event-types': () => json({ data: [], next_cursor: null }),
      'POST /v1/webhook-endpoints': () =>
        json({ ...endpoint, secret: 'whsec_x', warnings: [warning('hooks.example.invalid')] }, 201),
      'GET /v1/webhook-endpoints/ep_1': () => json(endpoint),
      'PATCH /v1/webhook-endpoints/ep_1': () =>
        json({ ...endpoint, url: 'https://example.com/orders' }),
    });
    const user = userEvent.setup();
    renderFlow();
    await user.type(screen.getByLabelText('Endpoint URL'), endpoint.url);
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));

    const shown = await screen.findByText('Saved, with a warning');
    expect(within(shown.parentElement!).getByRole('listitem')).toHaveTextContent(
      'hooks.example.invalid does not resolve yet',
    );

    // A change that warns of nothing clears it.
    await user.click(screen.getByRole('button', { name: 'Edit endpoint' }));
    const url = screen.getByLabelText('Endpoint URL');
    await user.clear(url);
    await user.type(url, 'https://example.com/orders');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await screen.findByRole('button', { name: 'Edit endpoint' });
    expect(screen.queryByText('Saved, with a warning')).not.toBeInTheDocument();
  });
});
