import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { expectKeysOfRetriedThenEditedSubmission, json, mockApi, problem } from '@/testing/fetch';
import { renderRoute } from '@/testing/render-route';
import { NewEndpointRoute } from './new-endpoint';

const CREATE = 'POST /v1/webhook-endpoints';

const endpoint = {
  id: 'ep_1',
  url: 'https://example.com/hook',
  enabled: true,
  created_at: '2030-01-01T00:00:00Z',
  updated_at: '2030-01-01T00:00:00Z',
  secret: 'whsec_x',
};

describe('NewEndpointRoute', () => {
  it('retries a submission under its key and draws a new one for changed values', async () => {
    const answers: (() => Response | Promise<Response>)[] = [
      () => Promise.reject(new TypeError('Failed to fetch')),
      () => problem(503, 'unavailable', 'Try again in a moment.'),
      () => problem(503, 'unavailable', 'Try again in a moment.'),
      () => json(endpoint, 201),
    ];
    const api = mockApi({
      'GET /v1/event-types': () => json({ data: [], next_cursor: null }),
      [CREATE]: () => answers.shift()!(),
    });
    const user = userEvent.setup();
    renderRoute('/webhooks/new', <NewEndpointRoute />, { '/webhooks/:id': <p>Endpoint page</p> });
    const add = () => user.click(screen.getByRole('button', { name: 'Add endpoint' }));

    await user.type(screen.getByLabelText('Endpoint URL'), 'https://example.com/hook');
    await add();
    expect(await screen.findByRole('alert')).toHaveTextContent('The API could not be reached.');
    await add();
    expect(await screen.findByRole('alert')).toHaveTextContent('Try again in a moment.');
    await user.type(screen.getByLabelText(/Description/), 'Orders');
    await add();
    expect(await screen.findByRole('alert')).toHaveTextContent('Try again in a moment.');
    await add();
    expect(await screen.findByText('Endpoint page')).toBeInTheDocument();

    const sent = api.sent(CREATE);
    expectKeysOfRetriedThenEditedSubmission(sent);
    expect(await sent[2]!.json()).toEqual({ url: 'https://example.com/hook', description: 'Orders' });
  });
});
