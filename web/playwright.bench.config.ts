import { defineConfig } from '@playwright/test';
import base from './playwright.config';

/** The portal's benchmark (`scripts/bench-portal`): the browser tests' settings, its own folder. */
export default defineConfig({
  ...base,
  testDir: 'bench',
  testMatch: '*.bench.ts',
  reporter: 'line',
  use: { ...base.use, trace: 'off' },
});
