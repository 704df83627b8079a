import { defineConfig, devices } from '@playwright/test';

/**
 * Browser tests of the portal against the real API, database and signature-verifying
 * receivers: `scripts/portal-e2e` starts the API and names it in PORTAL_BASE_URL; each test
 * makes its own customer and receivers (e2e/support). Debian's Chromium is used: no browser is
 * downloaded.
 */
export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  reporter: 'list',
  use: {
    ...devices['Desktop Chrome'],
    baseURL: process.env.PORTAL_BASE_URL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
