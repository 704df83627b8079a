// The time from opening a portal link to the endpoints list drawn with its data. Each run opens
// a new link in a new browser context (an empty cache, as a customer following a link for the
// first time); the page itself records when the first row of the endpoints table appears, in
// milliseconds since navigation began. Prints every run and the median as one JSON line.
import { test } from '@playwright/test';
import { createEndpoint, newCustomer, portalLink } from '../e2e/support/api';

declare global {
  interface Window {
    endpointsDrawnAt?: number;
  }
}

const RUNS = 5;
const ENDPOINTS = 20;

test('opening a portal link until the endpoints list is drawn', async ({ browser }) => {
  test.setTimeout(120_000);
  const customer = await newCustomer('Benchmark Logistics');
  for (let i = 0; i < ENDPOINTS; i += 1) {
    // Loopback targets (the benchmark has no DNS); nothing is sent to them.
    await createEndpoint(customer, `http://127.0.0.1:9/hooks/${i}`);
  }
  const runs: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const link = await portalLink(customer);
    const context = await browser.newContext();
    await context.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.querySelector('main table tbody tr')) {
          window.endpointsDrawnAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    const page = await context.newPage();
    await page.goto(link.url);
    await page.waitForFunction(() => window.endpointsDrawnAt !== undefined);
    const rows = await page.getByRole('table', { name: 'Webhook endpoints' }).locator('tbody tr').count();
    if (rows !== ENDPOINTS) throw new Error(`the list drew ${rows} endpoints, not ${ENDPOINTS}`);
    runs.push(await page.evaluate(() => window.endpointsDrawnAt ?? Number.NaN));
    await context.close();
  }
  const median = [...runs].sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? Number.NaN;
  const round = (ms: number) => Math.round(ms * 10) / 10;
  process.stdout.write(
    `portal-open ${JSON.stringify({ runs_ms: runs.map(round), median_ms: round(median) })}\n`,
  );
});
