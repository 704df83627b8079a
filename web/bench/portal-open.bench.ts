// The time from opening a portal link to the endpoints list drawn with its data. Each run opens
// a new link in a new browser context (an empty cache, as a customer following a link for the
// first time); the page itself records when the first row of the endpoints table appears, in
// milliseconds since navigation began. Prints every run and the median as one JSON line.
import { test } from '@playwright/test';

declare global {
  interface Window {
    endpointsDrawnAt?: number;
  }
}

const RUNS = 5;
const ENDPOINTS = 20;

async function call<T>(method: string, path: string, key: string, body?: unknown): Promise<T> {
  const response = await fetch(`${process.env.PORTAL_BASE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

test('opening a portal link until the endpoints list is drawn', async ({ browser }) => {
  test.setTimeout(120_000);
  const operatorKey = process.env.OPERATOR_KEY ?? '';
  const customer = await call<{ id: string; api_key: string }>('POST', '/v1/customers', operatorKey, {
    name: 'Benchmark Logistics',
  });
  for (let i = 0; i < ENDPOINTS; i += 1) {
    await call('POST', '/v1/webhook-endpoints', customer.api_key, {
      // Loopback targets (the benchmark has no DNS); nothing is sent to them.
      url: `http://127.0.0.1:9/hooks/${i}`,
      description: `Endpoint ${i}`,
    });
  }
  const runs: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const link = await call<{ url: string }>('POST', '/v1/portal-sessions', operatorKey, {
      customer_id: customer.id,
    });
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
