// `npm run deploy -- --network local`, end to end: a fresh replica, the demo canisters, the site
// built for it and uploaded into the asset canister; then Chromium opens the site through the
// replica's HTTP gateway (`<id>.localhost`, which Chromium resolves to loopback), clicks through
// pages under the site's Content-Security-Policy, runs a demo, and a second deploy uploads nothing.
// Own free port and state directory per run, so it never touches a replica `npm start` runs on
// 4943, nor another test run in the same tree.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

const repoRoot = resolve(import.meta.dirname, '../..');
const work = join(repoRoot, `.cache/e2e-deploy/run-${process.pid}`);
let port = 0;

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolvePromise(free));
    });
  });
}

interface DeployRun {
  code: number | null;
  output: string;
}

const running = new Set<ReturnType<typeof spawn>>();
let everything = ''; // all deploy output so far, to find the replica even after a timeout

function runDeploy(args: string[]): Promise<DeployRun> {
  return new Promise((resolvePromise) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'scripts/deploy.ts'), '--network', 'local', '--port', String(port), '--out-dir', join(work, 'site'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, WG_STATE_DIR: join(work, 'state') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(child);
    let output = '';
    child.stdout.on('data', (d) => ((output += d), (everything += d)));
    child.stderr.on('data', (d) => ((output += d), (everything += d)));
    child.on('exit', (code) => {
      running.delete(child);
      resolvePromise({ code, output });
    });
  });
}

let first: DeployRun;
let siteUrl: string;
let replicaPid: number | undefined;

test.describe.configure({ mode: 'serial', timeout: 20 * 60_000 });

test.beforeAll(async ({}, testInfo) => {
  // A whole deploy: demo canisters, a site build and the upload take minutes on a busy machine.
  testInfo.setTimeout(20 * 60_000);
  port = await freePort();
  rmSync(work, { recursive: true, force: true });
  first = await runDeploy([]);
  replicaPid = Number(/stop it with: kill (\d+)/.exec(first.output)?.[1]) || undefined;
  expect(first.code, first.output).toBe(0);
  siteUrl = /The site: (http:\/\/\S+\.localhost:\d+\/)/.exec(first.output)![1];
});

test.afterAll(() => {
  for (const child of running) child.kill('SIGTERM');
  // The replica the deploy started outlives it by design; this run's is stopped here.
  replicaPid ??= Number(/stop it with: kill (\d+)/.exec(everything)?.[1]) || undefined;
  if (replicaPid) {
    try {
      process.kill(replicaPid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

/** Collects what would mean a broken deploy: CSP refusals, script errors, failed requests. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('response', (response) => {
    if (response.url().startsWith(siteUrl) && response.status() >= 500) problems.push(`${response.status()} ${response.url()}`);
  });
  return problems;
}

test('the deployed site opens through the gateway, certified, and its pages work under its CSP', async ({ page }) => {
  const problems = watch(page);
  const home = await page.goto(siteUrl);
  expect(home?.status()).toBe(200);
  const headers = home!.headers();
  expect(headers['ic-certificate']).toMatch(/version=2/);
  expect(headers['content-security-policy']).toMatch(/'sha256-/);
  // No document is served with 'unsafe-inline' (pages allow their own inline code by hash), SVG included.
  expect(headers['content-security-policy']).not.toMatch(/unsafe-inline/);
  await expect(page.locator('h1').first()).toBeVisible();

  // Click through the site's own links, the way a reader would.
  const hrefs = await page.locator('a[href^="/"]').evaluateAll((links) => [...new Set(links.map((a) => a.getAttribute('href')!))]);
  const targets = hrefs.filter((h) => !h.includes('#') && !/\.(xml|ics|svg)$/.test(h)).slice(0, 8);
  expect(targets.length).toBeGreaterThan(3);
  for (const href of targets) {
    await page.goto(siteUrl);
    await page.locator(`a[href="${href}"]`).first().click();
    await expect(page).toHaveURL(new URL(href, siteUrl).href);
    await expect(page.locator('h1').first()).toBeVisible();
  }
  const missing = await page.goto(new URL('/no/such/page/', siteUrl).href);
  expect(missing?.status()).toBe(404);
  const svg = await page.goto(new URL('/favicon.svg', siteUrl).href);
  expect(svg?.status()).toBe(200);
  expect(svg!.headers()['content-security-policy']).toMatch(/default-src 'self'/);
  expect(svg!.headers()['content-security-policy']).not.toMatch(/unsafe-inline/);
  expect(problems).toEqual([]);
});

test('search (Pagefind, Wasm) works from the canister under the CSP', async ({ page }) => {
  const problems = watch(page);
  await page.goto(siteUrl);
  await expect(page.getByRole('button', { name: /^Search/ })).toBeEnabled();
  await page.keyboard.press('Control+k');
  const dialog = page.getByRole('dialog');
  const input = dialog.getByRole('textbox', { name: 'Search' });
  await expect(input).toBeFocused({ timeout: 30_000 });
  await input.fill('stable memory');
  const result = dialog.locator('a[href*="/sessions/"]').first();
  await expect(result).toBeVisible({ timeout: 20_000 });
  await result.click();
  await expect(page).toHaveURL(/\/sessions\//);
  expect(problems).toEqual([]);
});

test('a demo runs from the deployed site against the same replica', async ({ page }) => {
  const problems = watch(page);
  await page.goto(new URL('/patterns/composite-query-fan-out/', siteUrl).href);
  const root = page.locator('[data-demo="composite-queries"]');
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 60_000 });
  await root.getByLabel('Search the documents').fill('memory');
  await root.getByRole('button', { name: 'Search both ways' }).click();
  await expect(root.locator('[data-agree]')).toHaveAttribute('data-agree', 'true', { timeout: 60_000 });
  expect(problems).toEqual([]);
});

test('a second deploy with nothing changed uploads nothing', async () => {
  const again = await runDeploy(['--skip-build', '--skip-demos']);
  expect(again.code, again.output).toBe(0);
  expect(again.output).toMatch(/site \S+ unchanged/);
  expect(again.output).toMatch(/\b0 uploaded .* \d+ unchanged, 0 deleted/);
});
