// Managing endpoints: rotating the secret, subscriptions, deletion, and what a failing
// receiver looks like — retried and recovered from the portal.
import { advance, createEndpoint, deliveries, first, placeOrder, sqlNumber } from './support/api';
import { clipboard, expect, test } from './support/fixtures';
import { Receiver } from './support/receiver';

test('a rotated secret signs what follows; the old one too until its grace period ends', async ({
  page,
  customer,
  receiver,
  signIn,
}) => {
  const endpoint = await createEndpoint(customer, receiver.url);
  await signIn();
  await page.goto(`/portal/webhooks/${endpoint.id}`);
  const panel = page.getByRole('region', { name: 'Signing secret' });

  // With the default grace period (24 h) both secrets sign.
  await expect(page.getByLabel('Grace period')).toHaveValue('86400');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await expect(page.getByText(/The previous secret keeps signing until/)).toBeVisible();
  await panel.getByRole('button', { name: 'Copy' }).click();
  await expect(panel.getByRole('status')).toHaveText('Copied');
  const second = await clipboard(page);
  expect(second).toMatch(/^whsec_/);
  expect(second).not.toBe(endpoint.secret);
  await page.getByRole('button', { name: 'Send test event' }).click();
  await expect(page.getByText('Test event queued.')).toBeVisible();
  await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
  expect(receiver.verifiedWith(second)).toHaveLength(1);
  expect(receiver.verifiedWith(endpoint.secret), 'the old secret signs during the grace period').toHaveLength(1);

  // Without one, only the newest signs.
  await page.getByLabel('Grace period').selectOption('0');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await expect(panel).not.toContainText(second);
  await panel.getByRole('button', { name: 'Copy' }).click();
  await expect(panel.getByRole('status')).toHaveText('Copied');
  const third = await clipboard(page);
  expect(third).not.toBe(second);
  await page.getByRole('button', { name: 'Send test event' }).click();
  await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(2);
  const latest = receiver.received.slice(1);
  expect(latest.every((r) => r.body.type === 'webhook.test')).toBe(true);
  expect(first(latest).body.data.endpoint_id).toBe(endpoint.id);
  expect(receiver.verifiedWith(third)).toHaveLength(1);
  expect(receiver.verifiedWith(second), 'no grace period: the previous secret stops at once').toHaveLength(1);
  expect(receiver.verifiedWith(endpoint.secret)).toHaveLength(1);

  await page.getByRole('link', { name: 'View delivery' }).click();
  await expect(page.getByRole('heading', { name: 'Attempt 1' })).toBeVisible();
});

test('an endpoint receives only the event types it subscribed to, until it is deleted', async ({
  page,
  customer,
  receiver,
  signIn,
}) => {
  const everything = await createEndpoint(customer, receiver.url);
  const createdOnly = await Receiver.start();
  try {
    await signIn();
    await page.goto('/portal/webhooks/new');
    await page.getByLabel('Endpoint URL').fill(createdOnly.url);
    await page.getByRole('checkbox', { name: 'order.created' }).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.getByRole('region', { name: 'Signing secret' })).toBeVisible();
    const subscribedId = new URL(page.url()).pathname.split('/').pop() ?? '';

    const order = await placeOrder(customer, 'PO-SUB-1');
    await advance(order, 'confirmed');
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(2);
    await expect.poll(() => createdOnly.received.length, { timeout: 15_000 }).toBe(1);
    expect(createdOnly.types()).toEqual(['order.created']);
    expect((await deliveries(customer, subscribedId)).map((d) => d.event_type)).toEqual(['order.created']);
    expect((await deliveries(customer, everything.id)).length).toBe(2);

    // Deleting the endpoint, with confirmation.
    await page.goto(`/portal/webhooks/${subscribedId}`);
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await dialog.getByRole('button', { name: 'Keep endpoint' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole('button', { name: 'Delete endpoint' })).toBeFocused();
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await dialog.getByRole('button', { name: 'Yes, delete endpoint' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhooks');
    const table = page.getByRole('table', { name: 'Webhook endpoints' });
    await expect(table).toContainText(receiver.url);
    await expect(table).not.toContainText(createdOnly.url);

    const second = await placeOrder(customer, 'PO-SUB-2');
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(3);
    expect(receiver.received.at(-1)?.body.data.order).toMatchObject({ id: second });
    // The fan-out of an event is written with the event: the deleted endpoint got no delivery.
    expect(
      sqlNumber(`select count(*) from webhook_deliveries where endpoint_id = '${subscribedId}'`),
      'a deleted endpoint gets no new deliveries',
    ).toBe(1);
    expect(createdOnly.received.length).toBe(1);
  } finally {
    await createdOnly.close();
  }
});

test('a failing receiver: the attempts show why, and retry and recover deliver once it is fixed', async ({
  page,
  customer,
  receiver,
  signIn,
}) => {
  test.setTimeout(90_000);
  receiver.answer(500);
  const endpoint = await createEndpoint(customer, receiver.url);
  const since = new Date(Date.now() - 60_000);
  const firstOrder = await placeOrder(customer, 'PO-FAIL-1');
  await placeOrder(customer, 'PO-FAIL-2');
  await placeOrder(customer, 'PO-FAIL-3');
  // Three attempts each (at once, after 1 s, after 2 s), then failed.
  await expect
    .poll(async () => (await deliveries(customer, endpoint.id)).map((d) => d.status), { timeout: 30_000 })
    .toEqual(['failed', 'failed', 'failed']);
  expect(receiver.received.length).toBe(9);

  await signIn();
  await page.goto(`/portal/webhooks/${endpoint.id}/deliveries?status=failed`);
  const log = page.getByRole('table', { name: 'Deliveries to this endpoint' });
  await expect(log.getByRole('row')).toHaveCount(4);
  await page.reload();
  await expect(page.getByLabel('Status')).toHaveValue('failed');
  await expect(log.getByRole('row')).toHaveCount(4);

  // The oldest delivery: every attempt, with the receiver's answer.
  await log.getByRole('row').nth(3).getByRole('link').first().click();
  await expect(page.getByRole('heading', { name: /^Attempt \d$/ })).toHaveCount(3);
  await expect(page.getByText('failing on purpose').first()).toBeVisible();
  await expect(page.getByText('attempts_exhausted').first()).toBeVisible();

  // Fixed: retry this one from its page.
  receiver.answer(200);
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByRole('heading', { name: 'Attempt 4' })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByText('Succeeded')).toBeVisible();
  const retried = receiver.received.filter((r) => r.answered === 200);
  expect(retried).toHaveLength(1);
  expect(first(retried).body.data.order).toMatchObject({ id: firstOrder });

  // Recover everything else that failed since a chosen time.
  await page.getByRole('link', { name: '← Delivery log' }).click();
  const local = new Date(since.getTime() - since.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByLabel('Since').fill(local);
  await page.getByRole('button', { name: 'Recover failed deliveries' }).click();
  await expect(page.getByText('Queued 2 failed deliveries for another attempt.')).toBeVisible();
  await expect
    .poll(async () => (await deliveries(customer, endpoint.id)).map((d) => d.status), { timeout: 15_000 })
    .toEqual(['delivered', 'delivered', 'delivered']);
  expect(receiver.received.filter((r) => r.answered === 200)).toHaveLength(3);
  const ids = new Set(receiver.received.map((r) => r.id));
  expect(ids.size, 'every retry carries its original webhook-id').toBe(3);
});

test('an endpoint is edited, disabled and enabled again, and the list shows its state', async ({
  page,
  customer,
  receiver,
  signIn,
}) => {
  receiver.answer(503);
  const endpoint = await createEndpoint(customer, receiver.url);
  await placeOrder(customer, 'PO-STATE-1');
  await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBeGreaterThan(0);
  await signIn();

  await page.goto('/portal/webhooks');
  const row = page.getByRole('table', { name: 'Webhook endpoints' }).getByRole('row').nth(1);
  await expect(row).toContainText('Failing');
  await expect(row).toContainText('since');

  await page.goto(`/portal/webhooks/${endpoint.id}`);
  await page.getByRole('button', { name: 'Edit endpoint' }).click();
  await page.getByLabel('Description (optional)').fill('Customs brokers');
  await page.getByRole('checkbox', { name: 'order.created' }).check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('button', { name: 'Edit endpoint' })).toBeVisible();
  await expect(page.getByText('Customs brokers')).toBeVisible();

  await page.getByRole('button', { name: 'Disable endpoint' }).click();
  await expect(page.getByRole('button', { name: 'Enable endpoint' })).toBeVisible();
  await page.goto('/portal/webhooks');
  await expect(row).toContainText('Disabled');
  await expect(row).toContainText('disabled by you');
  await expect(row).toContainText('Customs brokers');
  await expect(row).toContainText('order.created');

  await page.goto(`/portal/webhooks/${endpoint.id}`);
  await page.getByRole('button', { name: 'Enable endpoint' }).click();
  await expect(page.getByRole('button', { name: 'Disable endpoint' })).toBeVisible();
  await page.goto('/portal/webhooks');
  await expect(row).toContainText('Enabled');
});

test('the event catalog shows every type with its schema and an example', async ({ page, signIn }) => {
  await signIn();
  await page.goto('/portal/event-types');
  for (const type of ['order.created', 'order.status_changed', 'order.updated', 'webhook.test']) {
    await expect(page.getByRole('heading', { level: 2, name: type })).toBeVisible();
  }
  await expect(page.getByText('"previous_status": "pending"')).toBeVisible();
  await page.getByText('JSON Schema', { exact: true }).first().click();
  await expect(page.getByText('"$schema": "https://json-schema.org/draft/2020-12/schema"').first()).toBeVisible();
});
