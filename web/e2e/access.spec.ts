// Who may see what: links that ended, other customers' ids, and views that survive a reload.
import {
  call,
  createEndpoint,
  deliveries,
  first,
  newCustomer,
  placeOrder,
  portalLink,
  revokePortalSession,
  sql,
} from './support/api';
import { expect, test } from './support/fixtures';

test('an expired link lands on "This link has expired"', async ({ page, customer }) => {
  const link = await portalLink(customer, 300);
  sql(`update portal_sessions set expires_at = utc_timestamp(6) - interval 1 second where id = '${link.id}'`);
  await page.goto(link.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link has expired');
  expect(page.url()).not.toContain('token');
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
});

test('a revoked link lands on "This link has expired", also in an open portal', async ({
  page,
  customer,
  signIn,
}) => {
  const revoked = await portalLink(customer);
  await revokePortalSession(revoked.id);
  await page.goto(revoked.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link has expired');

  const open = await signIn();
  await revokePortalSession(open.id);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link has expired');
});

test('signing out revokes the link; without one the portal asks for one', async ({ page, signIn }) => {
  const link = await signIn();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Signed out');
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.goto(link.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link has expired');

  await page.goto('/portal/webhooks');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign-in required');
  await expect(page.getByRole('textbox'), 'no key is ever typed into the portal').toHaveCount(0);
});

test("another customer's ids answer not found", async ({ page, customer, receiver, signIn }) => {
  const other = await newCustomer('Globex');
  const order = await placeOrder(other, 'PO-GLOBEX-1');
  const endpoint = await createEndpoint(other, receiver.url);
  await createEndpoint(customer, receiver.url);
  await placeOrder(other, 'PO-GLOBEX-2');
  await expect.poll(async () => (await deliveries(other, endpoint.id)).length).toBeGreaterThan(0);
  const delivery = first(await deliveries(other, endpoint.id), 'a delivery');

  await signIn();
  const pages: [string, string][] = [
    [`/portal/orders/${order}`, 'Order not found'],
    [`/portal/webhooks/${endpoint.id}`, 'Endpoint not found'],
    [`/portal/webhooks/${endpoint.id}/deliveries`, 'Endpoint not found'],
    [`/portal/deliveries/${delivery.id}`, 'Delivery not found'],
    ['/portal/no-such-page', 'Page not found'],
  ];
  for (const [path, heading] of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 }), path).toHaveText(heading);
  }
  await page.goto('/portal/orders');
  await expect(page.getByText('PO-GLOBEX-1')).toHaveCount(0);
});

test('a deep link with filters and a cursor survives a reload', async ({ page, customer, signIn }) => {
  for (let i = 1; i <= 25; i += 1) {
    await placeOrder(customer, `PO-PAGE-${String(i).padStart(2, '0')}`);
  }
  await signIn();
  await page.goto('/portal/orders?status=pending');
  const table = page.getByRole('table', { name: 'Orders' });
  await expect(table.getByRole('row')).toHaveCount(21);
  await expect(table).toContainText('PO-PAGE-25');
  await page.getByRole('navigation', { name: 'Orders pages' }).getByRole('link', { name: 'Next page' }).click();
  await expect(page).toHaveURL(/cursor=ord_/);
  await expect(page).toHaveURL(/status=pending/);
  await expect(table.getByRole('row')).toHaveCount(6);
  await expect(table).toContainText('PO-PAGE-01');
  const deepLink = page.url();

  await page.reload();
  expect(page.url()).toBe(deepLink);
  await expect(page.getByLabel('Status')).toHaveValue('pending');
  await expect(table.getByRole('row')).toHaveCount(6);
  await expect(table).toContainText('PO-PAGE-01');
  await expect(table).not.toContainText('PO-PAGE-25');
});

test('a customer revokes an API key from the portal, and the key stops working', async ({
  page,
  customer,
  signIn,
}) => {
  expect((await call('GET', '/v1/orders', undefined, customer.apiKey)).status).toBe(200);
  await signIn();
  await page.goto('/portal/api-keys');
  const keys = page.getByRole('table', { name: 'API keys' });
  await expect(keys.getByRole('row')).toHaveCount(2);
  await expect(
    keys.getByRole('cell').filter({ has: page.locator('time') }),
    'the key was created, and has been used, at times the table shows',
  ).toHaveCount(2);
  await page.getByRole('button', { name: /^Revoke/ }).click();
  await page.getByRole('dialog', { name: 'Revoke this API key?' }).getByRole('button', { name: 'Yes, revoke key' }).click();
  await expect(page.getByRole('table', { name: 'API keys' })).toHaveCount(0);
  const answer = await call('GET', '/v1/orders', undefined, customer.apiKey);
  expect(answer.status).toBe(401);
});
