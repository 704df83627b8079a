import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { expectKeysOfRetriedThenEditedSubmission, json, mockApi, problem } from '@/testing/fetch';
import { renderRoute } from '@/testing/render-route';
import { NewOrderRoute } from './new-order';

const CREATE = 'POST /v1/orders';

describe('NewOrderRoute', () => {
  it('sends a retried order under the same key and a changed one under a new key', async () => {
    const answers: (() => Response)[] = [
      () => problem(504, 'timeout', 'The request timed out.'),
      () => problem(504, 'timeout', 'The request timed out.'),
      () => problem(504, 'timeout', 'The request timed out.'),
      () => json({ id: 'ord_1' }, 201),
    ];
    const api = mockApi({ [CREATE]: () => answers.shift()!() });
    const user = userEvent.setup();
    renderRoute('/orders/new', <NewOrderRoute />, { '/orders/:id': <p>Order page</p> });
    const place = () => user.click(screen.getByRole('button', { name: 'Place order' }));

    await user.type(screen.getByLabelText('Reference'), 'PO-1');
    await place();
    expect(await screen.findByRole('alert')).toHaveTextContent('The request timed out.');
    await place();
    expect(await screen.findByRole('alert')).toHaveTextContent('The request timed out.');
    await user.type(screen.getByLabelText('Reference'), '0');
    await place();
    expect(await screen.findByRole('alert')).toHaveTextContent('The request timed out.');
    await place();
    expect(await screen.findByText('Order page')).toBeInTheDocument();

    const sent = api.sent(CREATE);
    expectKeysOfRetriedThenEditedSubmission(sent);
    expect(await sent[3]!.json()).toMatchObject({ reference: 'PO-10' });
  });
});
