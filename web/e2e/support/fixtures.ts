// The tests' fixtures: a fresh customer each, signed in to the portal through a real portal
// link, and a receiver that verifies what it is sent.
import { test as base, expect, type Page } from '@playwright/test';
import Ajv2020 from 'ajv/dist/2020.js';
import { type Customer, type PortalLink, eventCatalog, newCustomer, portalLink } from './api';
import { Receiver } from './receiver';

export { expect };

interface Fixtures {
  customer: Customer;
  receiver: Receiver;
  /** Opens a new portal link of the customer's in `page`, waits until the portal shows, and
   * returns the link. */
  signIn: (page?: Page) => Promise<PortalLink>;
}

export const test = base.extend<Fixtures>({
  customer: async ({}, use) => {
    await use(await newCustomer('Acme Retail'));
  },
  receiver: async ({}, use) => {
    const receiver = await Receiver.start();
    await use(receiver);
    await receiver.close();
  },
  signIn: async ({ page, customer, context }, use) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await use(async (target = page) => {
      const link = await portalLink(customer);
      await target.goto(link.url);
      await expect(target.getByRole('button', { name: 'Sign out' })).toBeVisible();
      // The first page has drawn with its data: no request of it is still to be made.
      await expect(target.getByRole('heading', { level: 1 })).toBeVisible();
      await expect(target.getByRole('status').filter({ hasText: 'Loading' })).toHaveCount(0);
      return link;
    });
  },
});

/** Checks each received payload against its event type's JSON Schema in the catalog. */
export async function expectPayloadsMatchCatalog(receiver: Receiver): Promise<void> {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)));
  ajv.addFormat('int32', {
    type: 'number',
    validate: (value: number) => Number.isInteger(value) && Math.abs(value) < 2 ** 31,
  });
  const validators = new Map((await eventCatalog()).map((entry) => [entry.type, ajv.compile(entry.schema)]));
  for (const request of receiver.received) {
    const validate = validators.get(request.body.type);
    expect(validate, `${request.body.type} is in the catalog`).toBeDefined();
    expect(validate?.(request.body), JSON.stringify(validate?.errors)).toBe(true);
  }
}

/** Reads the clipboard of `page`'s context. */
export async function clipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Where a test leaves its screenshots: `PORTAL_SCREENSHOT_DIR` (the README's pictures are made
 * with it), else the test's own output folder. */
export function screenshotPath(name: string, outputPath: (name: string) => string): string {
  const dir = process.env.PORTAL_SCREENSHOT_DIR;
  return dir ? `${dir}/${name}` : outputPath(name);
}

/** The id at the end of the page's path (`…/orders/ord_…`). */
export function idInUrl(page: Page): string {
  return new URL(page.url()).pathname.split('/').filter(Boolean).pop() ?? '';
}
