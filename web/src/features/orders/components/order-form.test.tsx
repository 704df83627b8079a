import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError, toProblem } from '@/api/errors';
import type { CreateOrder } from '@/api/types';
import { OrderForm } from './order-form';

function validationError(errors: { field: string; message: string }[]) {
  return new ApiError(
    toProblem(
      {
        type: 'https://docs.mechanica.dev/problems/validation',
        title: 'Invalid request',
        status: 422,
        detail: 'the request has invalid fields',
        request_id: 'req_422',
        errors,
      },
      422,
    ),
  );
}

describe('OrderForm', () => {
  it('shows 422 field errors beside their inputs and the rest in the summary', async () => {
    const user = userEvent.setup();
    const onSubmit = vi.fn<(body: CreateOrder) => Promise<unknown>>().mockRejectedValue(
      validationError([
        { field: 'origin.postal_code', message: 'must not be empty' },
        { field: 'parcels[0].weight_grams', message: 'is required' },
        { field: 'surprise', message: 'is an unknown field' },
      ]),
    );
    render(<OrderForm onSubmit={onSubmit} onCancel={() => {}} />);

    await user.type(screen.getByLabelText('Reference'), 'PO-1');
    await user.click(screen.getByRole('button', { name: 'Place order' }));

    expect(onSubmit).toHaveBeenCalledOnce();
    expect(onSubmit.mock.calls[0]?.[0].reference).toBe('PO-1');

    const origin = screen.getByRole('group', { name: 'Origin' });
    const postalCode = within(origin).getByLabelText('Postal code');
    expect(postalCode).toHaveAttribute('aria-invalid', 'true');
    expect(postalCode).toHaveAccessibleDescription('must not be empty');

    const weight = within(screen.getByRole('group', { name: 'Parcel 1' })).getByLabelText('Weight (g)');
    expect(weight).toHaveAttribute('aria-invalid', 'true');
    expect(weight).toHaveAccessibleDescription('is required');

    const destination = screen.getByRole('group', { name: 'Destination' });
    expect(within(destination).getByLabelText('Postal code')).not.toHaveAttribute('aria-invalid');

    const summary = screen.getByRole('alert');
    expect(summary).toHaveTextContent('The order was not placed.');
    expect(summary).toHaveTextContent('surprise is an unknown field');
    expect(summary).toHaveTextContent('Request ID: req_422');
  });

  it('shows a duplicate reference beside the reference', async () => {
    const user = userEvent.setup();
    const duplicate = new ApiError(
      toProblem(
        {
          type: 'https://docs.mechanica.dev/problems/duplicate-reference',
          title: 'Conflict',
          status: 409,
          detail: 'an order with reference PO-1 exists',
          request_id: 'req_409',
        },
        409,
      ),
    );
    render(<OrderForm onSubmit={() => Promise.reject(duplicate)} onCancel={() => {}} />);
    await user.type(screen.getByLabelText('Reference'), 'PO-1');
    await user.click(screen.getByRole('button', { name: 'Place order' }));
    const reference = screen.getByLabelText('Reference');
    expect(reference).toHaveAttribute('aria-invalid', 'true');
    expect(reference).toHaveAccessibleDescription(/an order with reference PO-1 exists/);
  });

  it('adds and removes parcel and metadata rows', async () => {
    const user = userEvent.setup();
    render(<OrderForm onSubmit={() => Promise.resolve()} onCancel={() => {}} />);
    expect(screen.getByRole('button', { name: 'Remove parcel 1' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Add parcel' }));
    expect(screen.getByRole('group', { name: 'Parcel 2' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Remove parcel 2' }));
    expect(screen.queryByRole('group', { name: 'Parcel 2' })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Add metadata' }));
    const entry = screen.getByRole('group', { name: 'Entry 1' });
    expect(within(entry).getByLabelText('Key')).toBeInTheDocument();
    expect(within(entry).getByLabelText('Value')).toBeInTheDocument();
  });
});
