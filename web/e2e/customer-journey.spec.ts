// The journey the portal exists for: a customer signed in through a portal link adds an
// endpoint, copies its secret and places an order; an operator moves the order; the receiver
// verifies every webhook with that secret and the delivery log shows each with its attempts.
import { advance, deliveries } from './support/api';
import {
  clipboard,
  expect,
  expectPayloadsMatchCatalog,
  idInUrl,
  screenshotPath,
  test,
} from './support/fixtures';

test('a customer adds an endpoint, places an order, and sees every webhook delivered', async ({
  page,
  customer,
  receiver,
  signIn,
}, testInfo) => {
  test.setTimeout(90_000);
  await signIn();
  expect(page.url(), 'the token leaves the address bar').not.toContain('token');
  expect(await page.evaluate(() => Object.keys(localStorage).length)).toBe(0);

  // Add the endpoint.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
  await page.getByRole('link', { name: 'Add endpoint' }).click();
  await page.getByLabel('Endpoint URL').fill(receiver.url);
  await page.getByLabel('Description (optional)').fill('Warehouse order feed');
  await page.getByRole('checkbox', { name: 'order.created' }).check();
  await page.getByRole('checkbox', { name: 'order.status_changed' }).check();
  await page.getByRole('button', { name: 'Add header' }).click();
  await page.getByLabel('Header 1 name').fill('X-Api-Key');
  await page.getByLabel('Header 1 value').fill('erp-4f9c2b7d1e8a6c30');
  await page.getByRole('button', { name: 'Add endpoint' }).click();

  // The secret is shown once, and copied.
  const panel = page.getByRole('region', { name: 'Signing secret' });
  await expect(panel).toContainText('whsec_');
  await panel.getByRole('button', { name: 'Copy' }).click();
  await expect(panel.getByRole('status')).toHaveText('Copied');
  const secret = await clipboard(page);
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
  await expect(panel).toContainText(secret);
  const endpointId = idInUrl(page);
  expect(endpointId).toMatch(/^ep_/);
  expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(secret);
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(receiver.url);
  await expect(page.getByRole('region', { name: 'Signing secret' })).toHaveCount(0);
  await expect(page.getByText(secret)).toHaveCount(0);
  // The custom header is shown masked, never in full.
  await expect(page.getByText('****6c30')).toBeVisible();
  await expect(page.getByText('erp-4f9c2b7d1e8a6c30')).toHaveCount(0);

  // Place an order, every field of the form.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
  await page.getByRole('link', { name: 'Place order' }).click();
  await page.getByLabel('Reference').fill('PO-E2E-1');
  const addresses: [string, string, string, string, string, string][] = [
    ['Origin', 'Acme DC', 'Kade 1', '3011 AA', 'Rotterdam', 'NL'],
    ['Destination', 'J. Jansen', 'Hauptstr. 2', '10115', 'Berlin', 'DE'],
  ];
  for (const [group, name, line1, postalCode, city, country] of addresses) {
    const address = page.getByRole('group', { name: group });
    await address.getByLabel('Name').fill(name);
    await address.getByLabel('Address line 1').fill(line1);
    await address.getByLabel('Postal code').fill(postalCode);
    await address.getByLabel('City').fill(city);
    await address.getByLabel('Country').selectOption(country);
  }
  const parcel = page.getByRole('group', { name: 'Parcel 1', exact: true });
  await parcel.getByLabel('Weight (g)').fill('1200');
  await parcel.getByLabel('Length (mm)').fill('300');
  await parcel.getByLabel('Width (mm)').fill('200');
  await parcel.getByLabel('Height (mm)').fill('100');
  const shipping = page.getByRole('group', { name: 'Shipping' });
  await shipping.getByLabel('Carrier (optional)').fill('DHL');
  await shipping.getByLabel('Tracking number (optional)').fill('JJD000390007');
  await shipping.getByLabel('Estimated delivery (optional)').fill('2027-01-15T14:30');
  await page.getByRole('button', { name: 'Add metadata' }).click();
  const entry = page.getByRole('group', { name: 'Entry 1', exact: true });
  await entry.getByLabel('Key').fill('warehouse');
  await entry.getByLabel('Value').fill('RTM-2');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Order PO-E2E-1');
  const orderId = idInUrl(page);
  await expect(page.getByText('JJD000390007')).toBeVisible();
  await expect(page.getByText('RTM-2')).toBeVisible();

  // Staff move it through the API.
  await advance(orderId, 'confirmed', 'Rotterdam hub');
  await advance(orderId, 'picked_up');
  await page.reload();
  await expect(page.getByRole('list', { name: 'Status changes, oldest first' }).getByRole('listitem')).toHaveCount(3);

  // The receiver verifies every webhook with the copied secret.
  await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(3);
  expect(receiver.verifiedWith(secret)).toHaveLength(3);
  expect(receiver.received.map((r) => r.headers['x-api-key'])).toEqual(Array(3).fill('erp-4f9c2b7d1e8a6c30'));
  expect(receiver.types().sort()).toEqual(['order.created', 'order.status_changed', 'order.status_changed']);
  expect(receiver.received.map((r) => (r.body.data.order as { id: string }).id)).toEqual([orderId, orderId, orderId]);
  await expectPayloadsMatchCatalog(receiver);

  // The delivery log shows each, with its attempt.
  await expect
    .poll(async () => (await deliveries(customer, endpointId)).map((d) => d.status), { timeout: 10_000 })
    .toEqual(['delivered', 'delivered', 'delivered']);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
  await expect(page.getByRole('table', { name: 'Webhook endpoints' })).toContainText(receiver.url);
  await page.screenshot({ path: screenshotPath('portal-endpoints.png', (n) => testInfo.outputPath(n)) });
  await page.getByRole('link', { name: receiver.url }).click();
  await page.getByRole('navigation', { name: 'Endpoint sections' }).getByRole('link', { name: 'Deliveries' }).click();
  const log = page.getByRole('table', { name: 'Deliveries to this endpoint' });
  const rows = log.getByRole('row');
  await expect(rows).toHaveCount(4);
  // Each delivery in the log, then on its own page with its attempt and the webhook-id the
  // receiver saw.
  const webhookIds = new Set(receiver.received.map((r) => r.id));
  for (let row = 1; row <= 3; row += 1) {
    const cells = rows.nth(row).getByRole('cell');
    await expect(cells.nth(1)).toHaveText('Delivered');
    await expect(cells.nth(2)).toHaveText('1');
    await expect(cells.nth(3)).toHaveText('200');
    await rows.nth(row).getByRole('link').first().click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Delivery');
    await expect(page.getByRole('heading', { name: 'Attempt 1' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Attempt 2' })).toHaveCount(0);
    await expect(page.getByText('Succeeded')).toBeVisible();
    await expect(page.getByRole('table', { name: 'Response headers' })).toContainText('content-type');
    const eventId = (await page.getByText(/^evt_/).first().textContent()) ?? '';
    expect(webhookIds.has(eventId.trim()), `${eventId} reached the receiver`).toBe(true);
    webhookIds.delete(eventId.trim());
    if (row === 3) {
      await expect(page.getByText('"order.created"').first()).toBeVisible();
      await page.screenshot({
        path: screenshotPath('portal-delivery.png', (n) => testInfo.outputPath(n)),
        fullPage: true,
      });
    }
    await page.getByRole('link', { name: '← Delivery log' }).click();
  }
  expect(webhookIds.size, 'every webhook the receiver got is in the log').toBe(0);

  // The endpoint's page charts its statistics: three attempts, every one a success.
  await page.getByRole('navigation', { name: 'Endpoint sections' }).getByRole('link', { name: 'Overview' }).click();
  const stats = page.getByRole('region', { name: 'Statistics' });
  await expect(stats.getByRole('img', { name: /Success rate per hour, last 24 hours: 100 % of 3 attempts/ })).toBeVisible();
  await stats.getByRole('button', { name: 'Last 7 days' }).click();
  await expect(stats.getByRole('img', { name: /Success rate per hour, last 7 days: 100 % of 3 attempts/ })).toBeVisible();
  await stats.getByRole('img').first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshotPath('portal-endpoint-stats.png', (n) => testInfo.outputPath(n)) });
});
