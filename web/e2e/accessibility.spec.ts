// Every page passes an axe-core scan (WCAG 2 A and AA) with data on it, and the main flow —
// add an endpoint, see its deliveries — works with the keyboard alone.
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import {
  advance,
  createEndpoint,
  deliveries,
  first,
  placeOrder,
  portalLink,
  revokePortalSession,
} from './support/api';
import { expect, test } from './support/fixtures';

async function expectNoViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const violations = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(violations, what).toEqual([]);
}

test('every page passes an axe-core scan', async ({ page, customer, receiver, signIn }) => {
  test.setTimeout(120_000);
  const endpoint = await createEndpoint(customer, receiver.url);
  const order = await placeOrder(customer, 'PO-A11Y-1');
  await advance(order, 'confirmed', 'Rotterdam hub');
  await expect.poll(async () => (await deliveries(customer, endpoint.id)).length).toBe(2);
  const delivery = first(await deliveries(customer, endpoint.id), 'a delivery');

  await signIn();
  const pages: [string, string][] = [
    ['/portal/orders', 'Orders'],
    ['/portal/orders?status=delivered', 'Orders'],
    ['/portal/orders/new', 'Place order'],
    [`/portal/orders/${order}`, 'Order PO-A11Y-1'],
    ['/portal/webhooks', 'Webhooks'],
    ['/portal/webhooks/new', 'Add endpoint'],
    [`/portal/webhooks/${endpoint.id}`, receiver.url],
    [`/portal/webhooks/${endpoint.id}/deliveries`, receiver.url],
    [`/portal/deliveries/${delivery.id}`, 'Delivery'],
    ['/portal/event-types', 'Event types'],
    ['/portal/api-keys', 'API keys'],
    ['/portal/no-such-page', 'Page not found'],
  ];
  for (const [path, heading] of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 }), path).toHaveText(heading);
    await expect(page.getByRole('status').filter({ hasText: 'Loading' })).toHaveCount(0);
    await expectNoViolations(page, path);
  }

  // The form with its errors shown, and the dialogs open.
  await page.goto('/portal/orders/new');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByRole('alert').first()).toBeVisible();
  await expectNoViolations(page, 'the order form with errors');
  await page.goto(`/portal/webhooks/${endpoint.id}`);
  await page.getByRole('button', { name: 'Delete endpoint' }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await expectNoViolations(page, 'the delete dialog');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Edit endpoint' }).click();
  await expect(page.getByRole('button', { name: 'Save changes' })).toBeVisible();
  await expectNoViolations(page, 'the endpoint form');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await expect(page.getByRole('region', { name: 'Signing secret' })).toBeVisible();
  await expectNoViolations(page, 'a rotated secret');
  await page.goto('/portal/api-keys');
  await page.getByRole('button', { name: /^Revoke/ }).click();
  await expect(page.getByRole('dialog', { name: 'Revoke this API key?' })).toBeVisible();
  await expectNoViolations(page, 'the revoke dialog');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Signed out');
  await expectNoViolations(page, 'signed out');

  // The pages without a session.
  const revoked = await portalLink(customer);
  await revokePortalSession(revoked.id);
  await page.goto(revoked.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('This link has expired');
  await expectNoViolations(page, 'expired link');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto('/portal/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign-in required');
  await expectNoViolations(page, 'no session');
});

/** Presses Tab until `target` has the focus. */
async function tabTo(page: Page, target: Locator) {
  for (let presses = 0; presses < 60; presses += 1) {
    if (await target.evaluate((element) => element === document.activeElement).catch(() => false)) {
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

test('adding an endpoint and seeing its deliveries works with the keyboard alone', async ({
  page,
  receiver,
  signIn,
}) => {
  test.setTimeout(60_000);
  await signIn();
  await tabTo(page, page.getByRole('link', { name: 'Skip to content' }));
  await tabTo(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Webhooks');
  await tabTo(page, page.getByRole('link', { name: /add (your first )?endpoint/i }).first());
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Add endpoint');

  await tabTo(page, page.getByLabel('Endpoint URL'));
  await page.keyboard.type(receiver.url);
  await tabTo(page, page.getByLabel('Description (optional)'));
  await page.keyboard.type('Keyboard only');
  await tabTo(page, page.getByRole('checkbox', { name: 'webhook.test' }));
  await page.keyboard.press('Space');
  await expect(page.getByRole('checkbox', { name: 'webhook.test' })).toBeChecked();
  await tabTo(page, page.getByRole('button', { name: 'Add endpoint' }));
  await page.keyboard.press('Enter');
  const panel = page.getByRole('region', { name: 'Signing secret' });
  await expect(panel).toContainText('whsec_');
  await tabTo(page, panel.getByRole('button', { name: 'Copy' }));
  await page.keyboard.press('Enter');
  await expect(panel.getByRole('status')).toHaveText('Copied');

  await tabTo(page, page.getByRole('button', { name: 'Send test event' }));
  await page.keyboard.press('Enter');
  await expect(page.getByText('Test event queued.')).toBeVisible();
  await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
  await tabTo(page, page.getByRole('navigation', { name: 'Endpoint sections' }).getByRole('link', { name: 'Deliveries' }));
  await page.keyboard.press('Enter');
  const log = page.getByRole('table', { name: 'Deliveries to this endpoint' });
  await expect(log).toContainText('webhook.test');
  await tabTo(page, log.getByRole('row').nth(1).getByRole('link').first());
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Delivery');
  await expect(page.getByRole('heading', { name: 'Attempt 1' })).toBeVisible({ timeout: 15_000 });
});
