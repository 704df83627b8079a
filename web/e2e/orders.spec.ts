// Orders in the portal: what the API refuses is shown beside the field it names, and an order
// is cancelled only while the lifecycle allows it.
import { advance, createEndpoint, placeOrder } from './support/api';
import { expect, idInUrl, test } from './support/fixtures';

test("the API's field errors appear beside their inputs, and nothing is placed", async ({
  page,
  customer,
  signIn,
}) => {
  await placeOrder(customer, 'PO-TAKEN');
  await signIn();
  await page.goto('/portal/orders/new');
  await page.getByLabel('Reference').fill('PO-TAKEN');
  for (const group of ['Origin', 'Destination']) {
    const address = page.getByRole('group', { name: group });
    await address.getByLabel('Name').fill('Acme DC');
    await address.getByLabel('Address line 1').fill('Kade 1');
    await address.getByLabel('Postal code').fill('3011 AA');
    await address.getByLabel('City').fill('Rotterdam');
    await address.getByLabel('Country').selectOption('NL');
  }
  const parcel = page.getByRole('group', { name: 'Parcel 1', exact: true });
  for (const label of ['Weight (g)', 'Length (mm)', 'Width (mm)', 'Height (mm)']) {
    await parcel.getByLabel(label).fill('100');
  }
  await page.getByRole('button', { name: 'Place order' }).click();
  const reference = page.getByLabel('Reference');
  await expect(reference).toHaveAttribute('aria-invalid', 'true');
  await expect(reference).toHaveAccessibleDescription(/already/i);
  await expect(page).toHaveURL(/\/portal\/orders\/new$/);

  // A weight the API refuses (over its limit) is named by its dotted path and shown there.
  await reference.fill('PO-NEW');
  const weight = parcel.getByLabel('Weight (g)');
  await weight.fill('99999999');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(weight).toHaveAttribute('aria-invalid', 'true');
  await expect(weight).toHaveAccessibleDescription(/.+/);
  await expect(page.getByRole('alert').first()).toContainText('The order was not placed.');
  await page.goto('/portal/orders');
  await expect(page.getByRole('table', { name: 'Orders' }).getByRole('row')).toHaveCount(2);
});

test('an order is cancelled from its page while allowed, and the change is a webhook', async ({
  page,
  customer,
  receiver,
  signIn,
}) => {
  await createEndpoint(customer, receiver.url, ['order.status_changed']);
  const order = await placeOrder(customer, 'PO-CANCEL');
  const shipped = await placeOrder(customer, 'PO-SHIPPED');
  await advance(shipped, 'confirmed');
  await advance(shipped, 'picked_up');
  await signIn();

  await page.goto(`/portal/orders/${shipped}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Order PO-SHIPPED');
  await expect(page.getByRole('button', { name: 'Cancel order' }), 'picked up: too late').toHaveCount(0);

  await page.goto(`/portal/orders/${order}`);
  await page.getByRole('button', { name: 'Cancel order' }).click();
  const dialog = page.getByRole('dialog', { name: 'Cancel this order?' });
  await dialog.getByRole('button', { name: 'Keep order' }).click();
  await expect(dialog).toBeHidden();
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await dialog.getByRole('button', { name: 'Yes, cancel order' }).click();
  await expect(page.getByRole('button', { name: 'Cancel order' })).toHaveCount(0);
  const timeline = page.getByRole('list', { name: 'Status changes, oldest first' });
  await expect(timeline.getByRole('listitem')).toHaveCount(2);
  await expect(timeline.getByRole('listitem').last()).toContainText(/cancelled/i);
  expect(idInUrl(page)).toBe(order);

  await expect.poll(() => receiver.types(), { timeout: 15_000 }).toContain('order.status_changed');
  const cancelled = receiver.received.find(
    (r) => (r.body.data.order as { id: string; status: string }).id === order,
  );
  expect(cancelled?.body.data.order).toMatchObject({ status: 'cancelled', previous_status: 'pending' });
});
