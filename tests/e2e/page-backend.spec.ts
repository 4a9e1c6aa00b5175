// Every demo on the page backend: the built site (dist/, served statically) with no replica
// anywhere, so each demo runs on the replica inside the tab (a Web Worker) with the canister
// modules the build emitted. Each demo reaches `ready` on data-demo-backend="page", does its
// action with a live result, keeps its records across a reload (IndexedDB), and "Reset this
// page's replica" empties them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';

// Installing canisters in the page and running Motoko there takes a while on a shared 2-core machine.
test.setTimeout(180_000);

async function openDemo(page: Page, path: string, demo: string): Promise<Locator> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Nothing may reach a replica over the network: the page backend needs none.
  const outside: string[] = [];
  page.on('request', (request) => {
    if (/\/api\/v\d\//.test(request.url())) outside.push(request.url());
  });
  await page.goto(path);
  const root = page.locator(`[data-demo="${demo}"]`);
  await expect(root).toHaveAttribute('data-demo-backend', 'page');
  // The replica starts only once the demo is in view.
  await root.scrollIntoViewIfNeeded();
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 90_000 });
  await expect(root.getByText('Live on the replica in this page')).toBeVisible();
  expect(errors, 'no uncaught errors on the page').toEqual([]);
  expect(outside, 'no IC HTTP request left the tab').toEqual([]);
  return root;
}

async function resetPageReplica(root: Locator): Promise<void> {
  await root.getByRole('button', { name: "Reset this page's replica" }).click();
  await expect(root.getByRole('status')).toContainText("This page's replica was reset", { timeout: 90_000 });
  await expect(root).toHaveAttribute('data-demo-status', 'ready');
}

const records = (root: Locator, store: string) => root.locator(`[data-store="${store}"]`);

/** Every pattern page of the build that carries a live demo, with the demo's id. */
function demoPages(): Array<{ path: string; demo: string }> {
  const dist = join(import.meta.dirname, '../../dist/patterns');
  const pages: Array<{ path: string; demo: string }> = [];
  for (const entry of readdirSync(dist, { withFileTypes: true })) {
    const file = join(dist, entry.name, 'index.html');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const slot = /data-demo-slot="([^"]+)"/.exec(readFileSync(file, 'utf8'));
    if (slot) pages.push({ path: `/patterns/${entry.name}/`, demo: slot[1] });
  }
  return pages;
}

test('every demo of the site reaches ready on the page backend, with nothing but the static files', async ({ browser }) => {
  const pages = demoPages();
  expect(pages.length).toBeGreaterThanOrEqual(4);
  // A first visit installs the demo's canisters in the tab: give each page its own budget.
  test.setTimeout(120_000 * pages.length);
  for (const { path, demo } of pages) {
    // A fresh browser profile per demo: its first visit.
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page, path, demo);
    await context.close();
  }
});

test('serialization formats on the page backend: the three encodings round-trip', async ({ page }) => {
  const root = await openDemo(page, '/patterns/stable-serialization-formats/', 'serialization-formats');
  await root.getByLabel('Records').selectOption('500');
  await root.getByRole('button', { name: 'Write and read back' }).click();
  const table = root.locator('table[data-records="500"]');
  for (const format of ['candid', 'binary', 'json']) {
    await expect(table.locator(`[data-format="${format}"]`)).toHaveAttribute('data-round-trip', 'true', { timeout: 60_000 });
  }
});

test('stable memory on the page backend: records survive an upgrade and a reload; reset empties them', async ({ page }) => {
  let root = await openDemo(page, '/patterns/stable-structures/', 'stable-memory');
  await root.getByLabel('Records per store').selectOption('100');
  await root.getByRole('button', { name: 'Add records to each store' }).click();
  for (const store of ['classic', 'region', 'eop']) await expect(records(root, store)).toHaveAttribute('data-records', '100');
  await root.getByRole('button', { name: 'Upgrade all three' }).click();
  for (const store of ['classic', 'region', 'eop']) {
    await expect(root.locator(`[data-store="${store}"] [data-kept]`)).toHaveAttribute('data-kept', 'true', { timeout: 60_000 });
  }

  await page.reload();
  root = await openDemo(page, '/patterns/stable-structures/', 'stable-memory');
  for (const store of ['classic', 'region', 'eop']) await expect(records(root, store)).toHaveAttribute('data-records', '100');
  // The upgrade measured before the reload is still in the store's history.
  await expect(root.locator('svg[role="img"] circle')).not.toHaveCount(0);

  await resetPageReplica(root);
  for (const store of ['classic', 'region', 'eop']) await expect(records(root, store)).toHaveAttribute('data-records', '0');
});

test('composite queries on the page backend: both paths agree, and the partitions stay installed across a reload', async ({ page }) => {
  let root = await openDemo(page, '/patterns/composite-query-fan-out/', 'composite-queries');
  const partitions = await root.locator('.wg-demo__canisters dd').allTextContents();
  expect(partitions.length).toBeGreaterThan(1);
  await root.getByLabel('Search the documents').fill('memory');
  await root.getByRole('button', { name: 'Search both ways' }).click();
  await expect(root.locator('[data-agree]')).toHaveAttribute('data-agree', 'true', { timeout: 60_000 });
  expect(Number(await root.locator('[data-path="composite query"]').getAttribute('data-total-matches'))).toBeGreaterThan(0);

  await page.reload();
  root = await openDemo(page, '/patterns/composite-query-fan-out/', 'composite-queries');
  expect(await root.locator('.wg-demo__canisters dd').allTextContents()).toEqual(partitions);
});

test('sharding on the page backend: an in-page identity stores keys that survive a reload; reset empties the index', async ({ page }) => {
  let root = await openDemo(page, '/patterns/index-bucket-sharding/', 'sharding');
  await expect(root.getByText(/sign in with an in-page development identity/)).toBeVisible();
  await root.getByRole('button', { name: 'Sign in' }).click();
  const principal = root.locator('[data-principal]');
  await expect(principal).toBeVisible();
  await expect(root.getByText(/in-page development identity, kept in this browser/)).toBeVisible();
  const map = root.getByRole('list', { name: 'Buckets' });
  await root.getByRole('button', { name: /Add a burst of/ }).click();
  await expect(root.getByRole('status')).toContainText(/Stored [1-9]\d* of \d+ keys/, { timeout: 60_000 });
  const keys = await map.getAttribute('data-index-keys');
  expect(Number(keys)).toBeGreaterThan(0);

  await page.reload();
  root = await openDemo(page, '/patterns/index-bucket-sharding/', 'sharding');
  await expect(root.getByRole('list', { name: 'Buckets' })).toHaveAttribute('data-index-keys', keys!);
  await expect(root.locator('[data-principal]')).toHaveAttribute('data-principal', (await principal.getAttribute('data-principal'))!);

  await resetPageReplica(root);
  await expect(root.getByRole('list', { name: 'Buckets' })).toHaveAttribute('data-index-keys', '0');
});

test('instruction counts on the page backend equal those of npm run replica for the same call', async ({ page }) => {
  // The same call on `npm run replica` (same engine, same metering), deployed by the same code.
  const { startReplicaProcess } = await import('../../scripts/lib/replica-process.ts');
  const { deployDemoCanisters } = await import('../../src/lib/ic/demo-deploy.ts');
  const { HttpAgent, Actor } = await import('@dfinity/agent');
  const { Ed25519KeyIdentity } = await import('@dfinity/identity');
  const { readFileSync } = await import('node:fs');
  const { idlFactory } = await import('../../src/declarations/stable-memory-classic/stable-memory-classic.did.ts');
  const replica = await startReplicaProcess({ port: Number(process.env.WG_PAGE_TEST_REPLICA_PORT ?? 5611) });
  const expected: Record<string, string> = {};
  try {
    const deployer = await HttpAgent.create({ host: replica.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const built = JSON.parse(readFileSync('.cache/canisters/manifest.json', 'utf8'));
    const { ids } = await deployDemoCanisters({
      agent: deployer,
      network: 'local',
      built,
      knownIds: {},
      canisters: ['lab', 'stable-memory-classic', 'stable-memory-region', 'stable-memory-eop'],
      log: () => {},
    });
    // Anonymous, as the demo calls it.
    const anonymous = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true });
    for (const store of ['classic', 'region', 'eop']) {
      const actor = Actor.createActor<{ addRecords(n: bigint): Promise<{ ok: { instructions: bigint } } | { err: unknown }> }>(idlFactory, {
        agent: anonymous,
        canisterId: ids[`stable-memory-${store}`],
      });
      const result = await actor.addRecords(100n);
      if (!('ok' in result)) throw new Error(`addRecords on ${store} was refused: ${JSON.stringify(result.err)}`);
      expected[store] = String(result.ok.instructions);
    }
  } finally {
    await replica.stop();
  }

  const root = await openDemo(page, '/patterns/stable-structures/', 'stable-memory');
  await root.getByLabel('Records per store').selectOption('100');
  await root.getByRole('button', { name: 'Add records to each store' }).click();
  for (const store of ['classic', 'region', 'eop']) {
    await expect(records(root, store)).toHaveAttribute('data-add-instructions', expected[store]);
  }
  expect(Number(expected.classic)).toBeGreaterThan(0);
});

test('faults on the page backend: a crashed worker shows the error state and Retry restores it; unreadable saved state offers a reset', async ({ page }) => {
  let root = await openDemo(page, '/patterns/stable-structures/', 'stable-memory');
  await root.getByLabel('Records per store').selectOption('100');
  await root.getByRole('button', { name: 'Add records to each store' }).click();
  await expect(records(root, 'classic')).toHaveAttribute('data-records', '100');

  // The worker crashes (an uncaught error in it): the demo shows its error state; Retry starts a
  // new worker, which restores the saved state.
  const worker = page.workers().find((w) => w.url().includes('worker'));
  expect(worker, 'the page replica runs in a Web Worker').toBeDefined();
  await worker!.evaluate(() =>
    setTimeout(() => {
      throw new Error('simulated crash');
    }),
  );
  await expect(root).toHaveAttribute('data-demo-status', 'error');
  await expect(root.getByRole('alert')).toContainText('The replica in this page stopped');
  await root.getByRole('button', { name: 'Retry' }).click();
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 90_000 });
  await expect(records(root, 'classic')).toHaveAttribute('data-records', '100');

  // State saved in another format (as an older or newer site version would leave it).
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('wg-page-replica');
        open.onsuccess = () => {
          const tx = open.result.transaction('state', 'readwrite');
          tx.objectStore('state').put(Uint8Array.of(99), 'format');
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        };
        open.onerror = () => reject(open.error);
      }),
  );
  await page.reload();
  root = page.locator('[data-demo="stable-memory"]');
  await root.scrollIntoViewIfNeeded();
  await expect(root).toHaveAttribute('data-demo-status', 'error', { timeout: 60_000 });
  await expect(root.getByRole('alert')).toContainText('cannot be read by this version of the site');
  await root.getByRole('alert').getByRole('button', { name: "Reset this page's replica" }).click();
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 90_000 });
  await expect(records(root, 'classic')).toHaveAttribute('data-records', '0');
});

test('a module the site cannot load is named in the error', async ({ page }) => {
  await page.route('**/_demos/lab.*.wasm.gz', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto('/patterns/stable-structures/');
  const root = page.locator('[data-demo="stable-memory"]');
  await root.scrollIntoViewIfNeeded();
  await expect(root).toHaveAttribute('data-demo-status', 'error', { timeout: 90_000 });
  await expect(root.getByRole('alert')).toContainText(/The module \/_demos\/lab\.[0-9a-f]{12}\.wasm\.gz \(lab\) could not be loaded: HTTP 404/);
  await expect(root.getByRole('button', { name: 'Retry' })).toBeVisible();
});

test('the page replica loads on pages with a demo only: none on a page without one, and on a demo page before the demo is reached', async ({ page }) => {
  const engine: string[] = [];
  page.on('request', (request) => {
    if (/\/_astro\/(signer-)?worker-[^/]*\.js$|\/_demos\//.test(request.url())) engine.push(request.url());
  });
  await page.goto('/');
  expect(await page.locator('[data-demo-slot]').count(), 'the home page has no demo').toBe(0);
  // Longer than the idle start's deadline (frame.ts: requestIdleCallback with a 3 s timeout).
  await page.waitForTimeout(4_000);
  expect(page.workers(), 'no worker on a page without a demo').toEqual([]);
  expect(engine, 'nothing of the engine fetched on a page without a demo').toEqual([]);
  // A demo page: the engine starts while the reader is still at the top of the page.
  await page.goto('/patterns/stable-structures/');
  // (The replica's worker, which then starts its certificate signer, a second worker.)
  await expect.poll(() => page.workers().filter((w) => /\/_astro\/worker-[^/]*\.js$/.test(w.url())).length, { timeout: 10_000 }).toBe(1);
  const root = page.locator('[data-demo="stable-memory"]');
  await root.scrollIntoViewIfNeeded();
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 90_000 });
});

test('two tabs: the second waits for the first, which owns the saved state, and starts once it closes', async ({ context }) => {
  const first = await context.newPage();
  await openDemo(first, '/patterns/stable-serialization-formats/', 'serialization-formats');
  const second = await context.newPage();
  await second.goto('/patterns/stable-serialization-formats/');
  const root = second.locator('[data-demo="serialization-formats"]');
  await root.scrollIntoViewIfNeeded();
  await expect(root.getByText(/open in another tab of this site/)).toBeVisible({ timeout: 30_000 });
  await expect(root).toHaveAttribute('data-demo-status', 'loading');
  await first.close();
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 90_000 });
});

test('horizontal scaling on the page backend: four workers in the tab run four times the jobs per round of one', async ({ page }) => {
  const root = await openDemo(page, '/patterns/horizontal-scaling/', 'horizontal-scaling');
  for (const n of [1, 4]) {
    await root.getByRole('button', { name: `Run on ${n} canister${n === 1 ? '' : 's'}`, exact: true }).click();
    await expect(root.locator(`tr[data-canisters="${n}"]`)).toHaveAttribute('data-failed', '0', { timeout: 90_000 });
  }
  await expect(root.locator('tr[data-canisters="1"]')).toHaveAttribute('data-per-round', '4');
  await expect(root.locator('tr[data-canisters="4"]')).toHaveAttribute('data-per-round', '16');
});
