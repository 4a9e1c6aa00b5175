// The live demos against the whole stack: `npm start` on its own ports and a fresh state
// directory, then tests/e2e/demos*.spec.ts in Debian's Chromium. Separate from playwright.config.ts
// (the site's specs run against the static build, without a replica).
//   playwright test -c playwright.demos.config.ts
// First run builds the canisters (minutes, then cached in .cache/); later runs start in seconds.
import { defineConfig, devices } from '@playwright/test';

const sitePort = Number(process.env.WG_DEMOS_SITE_PORT ?? 4331);
const replicaPort = Number(process.env.WG_DEMOS_REPLICA_PORT ?? 4953);
const idpPort = Number(process.env.WG_DEMOS_IDP_PORT ?? 4954);
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Read by the specs: they only run under this config (the site's config skips them).
process.env.WG_DEMOS_E2E = '1';
process.env.WG_DEMOS_REPLICA_URL = `http://127.0.0.1:${replicaPort}`;
process.env.WG_DEMOS_IDP_URL = `http://127.0.0.1:${idpPort}/`;

export default defineConfig({
  testDir: 'tests/e2e',
  // Matched against the absolute path: only file names starting with "demos" count.
  testMatch: /\/demos[^/]*\.spec\.ts$/,
  // Traces and failure artifacts: not under test-results/, which the site's Playwright run empties
  // when it starts (another engineer's run, or the step before this one). The screenshots the
  // specs take do go to test-results/demos/screenshots/ (see tests/e2e/demo-helpers.ts).
  outputDir: 'test-results-demos',
  workers: 1,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${sitePort}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [{ name: 'demos', use: { ...devices['Desktop Chrome'], channel: undefined } }],
  webServer: {
    // --fresh: every run starts from empty canisters, so "a second bucket appears" is a real check.
    // --preview: the built site (what ships), served beside any astro dev that may be running.
    command: 'node scripts/start.ts --fresh --preview',
    url: `http://127.0.0.1:${sitePort}/`,
    env: {
      WG_SITE_PORT: String(sitePort),
      WG_REPLICA_PORT: String(replicaPort),
      WG_IDP_PORT: String(idpPort),
      WG_STATE_DIR: '.cache/demos-e2e-state',
    },
    reuseExistingServer: !process.env.CI,
    // A cold machine compiles eight Motoko canisters first (about 3 minutes on 2 cores).
    timeout: 600_000,
    stdout: 'pipe',
  },
});
