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

/** The page of endpoint `ep_1`. */
function renderOverview() {
  const router = createMemoryRouter(
    [
      {
        path: '/webhooks/:endpointId',
        element: <EndpointLayoutRoute />,
        children: [{ index: true, element: <EndpointOverviewRoute /> }],
      },
    ],
    { initialEntries: ['/webhooks/ep_1'] },
  );
  render(
    <QueryClientProvider client={createQueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

describe('EndpointOverviewRoute', () => {
  it('shows what the last creation or change was accepted despite, until a change without it', async () => {
    mockApi({
      'GET /v1/event-types': () => json({ data: [], next_cursor: null }),
      'POST /v1/webhook-endpoints': () =>
        json({ ...endpoint, secret: 'whsec_x', warnings: [warning('hooks.example.invalid')] }, 201),
      'GET /v1/webhook-endpoints/ep_1': () => json(endpoint),
      'PATCH /v1/webhook-endpoints/ep_1': async (request) => {
        const body = (await request.json()) as { url?: string; enabled?: boolean };
        return body.url
          ? json({ ...endpoint, url: body.url, warnings: [warning('other.example.invalid')] })
          : json({ ...endpoint, enabled: body.enabled ?? true });
      },
    });
    const user = userEvent.setup();
    renderFlow();
    await user.type(screen.getByLabelText('Endpoint URL'), endpoint.url);
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));

    const shown = await screen.findByText('Saved, with a warning');
    expect(within(shown.parentElement!).getByRole('listitem')).toHaveTextContent(
      'hooks.example.invalid does not resolve yet',
    );

    // A change with a warning of its own shows that one instead.
    await user.click(screen.getByRole('button', { name: 'Edit endpoint' }));
    const url = screen.getByLabelText('Endpoint URL');
    await user.clear(url);
    await user.type(url, 'https://other.example.invalid/orders');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await screen.findByRole('button', { name: 'Edit endpoint' });
    const again = screen.getByText('Saved, with a warning');
    expect(within(again.parentElement!).getByRole('listitem')).toHaveTextContent(
      'other.example.invalid does not resolve yet',
    );

    // A change that warns of nothing (here disabling it) clears it.
    await user.click(screen.getByRole('button', { name: 'Disable endpoint' }));
    await screen.findByRole('button', { name: 'Enable endpoint' });
    expect(screen.queryByText('Saved, with a warning')).not.toBeInTheDocument();
  });

  it('sends custom headers when adding, shows them masked, and changes them as a merge patch', async () => {
    const stored = { ...endpoint, headers: { 'x-api-key': '****6c30', 'x-tenant': '****' } };
    const api = mockApi({
      'GET /v1/event-types': () => json({ data: [], next_cursor: null }),
      'POST /v1/webhook-endpoints': () => json({ ...stored, secret: 'whsec_x' }, 201),
      'GET /v1/webhook-endpoints/ep_1': () => json(stored),
      'PATCH /v1/webhook-endpoints/ep_1': () =>
        json({ ...endpoint, headers: { 'x-api-key': '****', 'x-route': '****' } }),
    });
    const user = userEvent.setup();
    renderFlow();
    await user.type(screen.getByLabelText('Endpoint URL'), endpoint.url);
    await user.click(screen.getByRole('button', { name: 'Add header' }));
    await user.type(screen.getByLabelText('Header 1 name'), 'X-Api-Key');
    await user.type(screen.getByLabelText('Header 1 value'), 'erp-4f9c2b7d1e8a6c30');
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    await screen.findByRole('button', { name: 'Edit endpoint' });
    expect(await api.sent('POST /v1/webhook-endpoints')[0]!.json()).toEqual({
      url: endpoint.url,
      headers: { 'X-Api-Key': 'erp-4f9c2b7d1e8a6c30' },
    });
    // Shown masked, never in full.
    expect(screen.getByText('****6c30')).toBeInTheDocument();
    expect(screen.queryByText(/erp-4f9c2b7d1e8a6c30/)).not.toBeInTheDocument();

    // One value replaced, one header removed, one added; the form never held the stored values.
    await user.click(screen.getByRole('button', { name: 'Edit endpoint' }));
    const key = screen.getByLabelText('New value for x-api-key');
    expect(key).toHaveValue('');
    expect(key).toHaveAttribute('placeholder', 'Keep ****6c30');
    await user.type(key, 'k2');
    await user.click(screen.getByRole('button', { name: 'Remove x-tenant' }));
    await user.click(screen.getByRole('button', { name: 'Add header' }));
    await user.type(screen.getByLabelText('Header 1 name'), 'X-Route');
    await user.type(screen.getByLabelText('Header 1 value'), 'eu-west');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await screen.findByRole('button', { name: 'Edit endpoint' });
    expect(await api.sent('PATCH /v1/webhook-endpoints/ep_1')[0]!.json()).toEqual({
      url: endpoint.url,
      description: null,
      event_types: null,
      headers: { 'x-api-key': 'k2', 'x-tenant': null, 'X-Route': 'eu-west' },
    });
  });

  it('charts the last day or week of the endpoint statistics, hour by hour', async () => {
    const hour = (start: string, total: number, succeeded: number) => ({
      start,
      attempts: { total, succeeded, http: total - succeeded, timeout: 0, connection: 0, dns: 0, blocked_target: 0 },
      success_rate: total ? succeeded / total : null,
      latency_ms: { p50: total ? 40 : null, p95: total ? 90 : null },
    });
    const api = mockApi({
      'GET /v1/event-types': () => json({ data: [], next_cursor: null }),
      'GET /v1/webhook-endpoints/ep_1': () => json(endpoint),
      'GET /v1/webhook-endpoints/ep_1/stats': (request) => {
        const since = new URL(request.url).searchParams.get('since') ?? '';
        const week = Date.now() - Date.parse(since) > 2 * 86_400_000;
        return json({
          endpoint_id: 'ep_1',
          bucket: 'hour',
          since,
          until: since,
          data: week
            ? [hour('2030-01-01T00:00:00.000Z', 8, 8), hour('2030-01-01T01:00:00.000Z', 12, 10)]
            : [hour('2030-01-01T01:00:00.000Z', 4, 3)],
        });
      },
    });
    renderOverview();
    const user = userEvent.setup();
    expect(
      await screen.findByRole('img', { name: /Success rate per hour, last 24 hours: 75\.0 % of 4 attempts/ }),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Last 24 hours' })).toHaveAttribute('aria-pressed', 'true');

    await user.click(screen.getByRole('button', { name: 'Last 7 days' }));
    expect(
      await screen.findByRole('img', { name: /Success rate per hour, last 7 days: 90\.0 % of 20 attempts/ }),
    ).toBeInTheDocument();
    const sent = api.sent('GET /v1/webhook-endpoints/ep_1/stats').map((r) => new URL(r.url).searchParams);
    expect(sent.map((q) => q.get('bucket'))).toEqual(['hour', 'hour']);
    const spans = sent.map((q) => Date.parse(q.get('until') ?? '') - Date.parse(q.get('since') ?? ''));
    expect(spans).toEqual([86_400_000, 604_800_000]);
  });

  it('sets, shows and removes a rate limit as a merge patch', async () => {
    let stored: number | null = null;
    const api = mockApi({
      'GET /v1/event-types': () => json({ data: [], next_cursor: null }),
      'GET /v1/webhook-endpoints/ep_1': () => json({ ...endpoint, rate_limit_per_second: stored }),
      'PATCH /v1/webhook-endpoints/ep_1': async (request) => {
        const body = (await request.json()) as { rate_limit_per_second?: number | null };
        if (body.rate_limit_per_second !== undefined) stored = body.rate_limit_per_second;
        return json({ ...endpoint, rate_limit_per_second: stored });
      },
    });
    renderOverview();
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Edit endpoint' }));
    await user.type(screen.getByLabelText(/Rate limit/), '50');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('50 deliveries a second')).toBeInTheDocument();

    // Saving again without touching it sends no limit; clearing it removes it.
    await user.click(screen.getByRole('button', { name: 'Edit endpoint' }));
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await screen.findByText('50 deliveries a second');
    await user.click(screen.getByRole('button', { name: 'Edit endpoint' }));
    await user.clear(screen.getByLabelText(/Rate limit/));
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await screen.findByRole('button', { name: 'Edit endpoint' });
    const bodies = await Promise.all(
      api.sent('PATCH /v1/webhook-endpoints/ep_1').map((r) => r.json() as Promise<Record<string, unknown>>),
    );
    expect(bodies.map((b) => b.rate_limit_per_second)).toEqual([50, undefined, null]);
  });
});
