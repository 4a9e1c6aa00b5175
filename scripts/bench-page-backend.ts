// Part of the "page" section of `npm run bench` (beside bench-page.ts, the same demos on the local
// stack): the page backend (the replica in a Web Worker of the
// reader's tab) in this machine's Chromium, against the built site in dist/ (run `npm run build`
// first; served here by tests/e2e/site-static-server.ts on 127.0.0.1).
//   - engine JS: the worker's bundle, gzipped (goal ≤ 250 KB)
//   - per demo page: the first visit's transfer, and the time from the demo scrolling into view
//     to data-demo-status="ready", with a cold cache (a new browser profile: the canisters are
//     installed in the tab) and warm (a reload: HTTP cache and IndexedDB kept); goals 2 s / 0.5 s
//   - an update call in page mode: p50 of the worker's own time (engine + HTTP interface +
//     certificate, no transport; goal ≤ 5 ms), beside the agent's round trip in the page
// Floors measured in the same run: a query's worker time, and an empty page's load.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { signStateRoot, subnetKeys } from '@scaling-wg/replica/certification';
import { motokoFixture } from '../replica/test/fixtures/build.ts';
import { lineWriter, ms as msTo, p50, time } from './lib/bench-support.ts';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const line = lineWriter(52);
const ms = (v: number) => msTo(v, 0);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function demoPages(): Array<{ path: string; demo: string }> {
  const pages: Array<{ path: string; demo: string }> = [];
  for (const name of readdirSync(join(dist, 'patterns')).sort()) {
    const file = join(dist, 'patterns', name, 'index.html');
    if (!existsSync(file)) continue;
    const slot = /data-demo-slot="([^"]+)"/.exec(readFileSync(file, 'utf8'));
    if (slot) pages.push({ path: `/patterns/${name}/`, demo: slot[1] });
  }
  return pages;
}

async function serve(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, 'tests/e2e/site-static-server.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the static server did not start within 10 s')), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('serving')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return child;
}

/** Scrolls the demo into view and returns the ms until it is ready (or throws with its error). */
async function timeToReady(page: Page, demo: string): Promise<number> {
  return page.evaluate(async (id) => {
    const rootEl = document.querySelector<HTMLElement>(`[data-demo="${id}"]`);
    if (!rootEl) throw new Error(`no demo ${id} on the page`);
    const t0 = performance.now();
    rootEl.scrollIntoView();
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        const status = rootEl.getAttribute('data-demo-status');
        if (status === 'ready') resolve();
        else if (status === 'error') reject(new Error(rootEl.querySelector('.wg-demo__error-text')?.textContent ?? 'error'));
        else return false;
        return true;
      };
      if (check()) return;
      const observer = new MutationObserver(() => check() && observer.disconnect());
      observer.observe(rootEl, { attributes: true });
      setTimeout(() => reject(new Error('not ready within 120 s')), 120_000);
    });
    return performance.now() - t0;
  }, demo);
}

async function demoTimings(browser: Browser, base: string, path: string, demo: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  let transfer = 0;
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes().catch(() => undefined);
    if (sizes) transfer += sizes.responseBodySize + sizes.responseHeadersSize;
  });
  await page.goto(base + path, { waitUntil: 'load' });
  await page.locator(`[data-demo="${demo}"]`).waitFor({ state: 'attached' });
  const cold = await timeToReady(page, demo);
  await page.waitForLoadState('networkidle');
  const firstVisit = transfer;
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    await page.reload({ waitUntil: 'load' });
    await page.locator(`[data-demo="${demo}"]`).waitFor({ state: 'attached' });
    warm.push(await timeToReady(page, demo));
  }
  await context.close();
  return { cold, warm: p50(warm), firstVisit };
}

// Runs in a page of the site: the real client and worker, a counter canister, timed updates.
const harness = `
import { pageReplica, PAGE_REPLICA_HOST } from ${JSON.stringify(join(root, 'src/lib/ic/page-replica/client.ts'))};
import { management } from ${JSON.stringify(join(root, 'src/lib/ic/demo-deploy.ts'))};
import { Actor, HttpAgent } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { IDL } from '@dfinity/candid';
window.benchUpdates = async (wasm, count) => {
  await pageReplica.reset();
  const identity = Ed25519KeyIdentity.generate();
  const agent = await HttpAgent.create({ host: PAGE_REPLICA_HOST, identity, fetch: pageReplica.fetch, shouldFetchRootKey: true });
  const self = identity.getPrincipal();
  const { canister_id } = await management(agent, 'rrkah-fqaaa-aaaaa-aaaaq-cai').provisional_create_canister_with_cycles({ amount: [], settings: [{ controllers: [[self]] }], specified_id: [] });
  await management(agent, canister_id).install_code({ mode: { install: null }, canister_id, wasm_module: new Uint8Array(wasm), arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])) });
  const idl = ({ IDL }) => IDL.Service({ inc: IDL.Func([], [IDL.Nat], []), get: IDL.Func([], [IDL.Nat], ['query']) });
  const actor = Actor.createActor(idl, { agent, canisterId: canister_id });
  await actor.inc();
  const measure = async (op, path) => {
    const roundTrip = [];
    const worker = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await op();
      roundTrip.push(performance.now() - t);
      const last = pageReplica.handledMs.filter((h) => h.path.endsWith(path)).at(-1);
      worker.push(last.ms);
    }
    return { roundTrip, worker };
  };
  const updates = await measure(() => actor.inc(), '/call');
  const queries = await measure(() => actor.get(), '/query');
  return { updates, queries };
};
`;

async function updateTimings(browser: Browser, base: string) {
  const esbuild = await import('esbuild');
  const bundle = await esbuild.build({
    stdin: { contents: harness, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const workerFile = readdirSync(join(dist, '_astro')).find((f) => /^worker-.*\.js$/.test(f));
  if (!workerFile) throw new Error('dist/_astro has no worker-*.js: run npm run build');
  const context = await browser.newContext();
  const page = await context.newPage();
  // The harness asks for ./worker.ts beside itself: hand it the worker the site build made.
  await page.route('**/worker.ts', (route) => route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(dist, '_astro', workerFile)) }));
  await page.goto(`${base}/`);
  await page.addScriptTag({ content: bundle.outputFiles[0].text, type: 'module' });
  await page.waitForFunction(() => typeof (window as unknown as { benchUpdates?: unknown }).benchUpdates === 'function');
  const counter = await motokoFixture('counter', 'eop');
  const result = await page.evaluate(
    ([wasm, count]) =>
      (
        window as unknown as { benchUpdates(w: number[], n: number): Promise<Record<'updates' | 'queries', { roundTrip: number[]; worker: number[] }>> }
      ).benchUpdates(wasm, count),
    [Array.from(counter.wasm), 100] as const,
  );
  await context.close();
  return result;
}

export async function pageBackendSection(): Promise<void> {
  console.log('\npage backend (replica in a Web Worker, Chromium, dist/ served statically)');
  if (!existsSync(join(dist, 'index.html'))) throw new Error('dist/ is missing: run `npm run build` first');
  const workerFile = readdirSync(join(dist, '_astro')).find((f) => /^worker-.*\.js$/.test(f));
  if (!workerFile) throw new Error('dist/_astro has no worker-*.js: is this build older than the page backend? run npm run build');
  const worker = readFileSync(join(dist, '_astro', workerFile));
  line('engine JS (the worker bundle), gzipped', `${kb(gzipSync(worker, { level: 9 }).length)} (goal ≤ 250 KB; ${kb(worker.length)} raw)`);
  // The worker starts a second one that signs certificates (signer-worker.ts); it loads with the engine.
  const signerFile = readdirSync(join(dist, '_astro')).find((f) => /^signer-worker-.*\.js$/.test(f));
  if (signerFile) {
    const signer = readFileSync(join(dist, '_astro', signerFile));
    const both = gzipSync(worker, { level: 9 }).length + gzipSync(signer, { level: 9 }).length;
    line('  with its certificate signer worker, gzipped', `${kb(both)} (goal ≤ 250 KB; signer ${kb(gzipSync(signer, { level: 9 }).length)})`);
  }

  const port = Number(process.env.WG_BENCH_PAGE_PORT ?? 5612);
  const server = await serve(port);
  const base = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    // Floor: a page without a demo, cold.
    const floorContext = await browser.newContext();
    const floorPage = await floorContext.newPage();
    const t0 = performance.now();
    await floorPage.goto(`${base}/`, { waitUntil: 'load' });
    line('floor: the home page, cold (load event)', ms(performance.now() - t0));
    await floorContext.close();

    const { updates, queries } = await updateTimings(browser, base);
    line('update call (counter.inc), worker time p50', `${ms(p50(updates.worker))} (goal ≤ 5 ms; n=${updates.worker.length})`);
    line('update call, agent round trip in the page p50', `${ms(p50(updates.roundTrip))} (signing, CBOR, certificate check included)`);
    line('floor: query call (counter.get), worker time p50', `${ms(p50(queries.worker))}; round trip ${ms(p50(queries.roundTrip))}`);
    // Every update's certificate carries one BLS signature (the same portable code, here in Node).
    const keys = subnetKeys();
    let i = 0;
    const signs = time(() => signStateRoot(keys, new Uint8Array(32).fill(i++)), 20);
    line('floor: one BLS signature of a state root p50', ms(p50(signs)));

    for (const { path, demo } of demoPages()) {
      try {
        const t = await demoTimings(browser, base, path, demo);
        line(`${demo}: visible → ready, cold / warm`, `${ms(t.cold)} / ${ms(t.warm)} (goals 2 s / 0.5 s)`);
        line(`${demo}: first visit transfer`, kb(t.firstVisit));
      } catch (error) {
        line(`${demo}`, `failed: ${(error as Error).message}`);
      }
    }
  } finally {
    await browser.close();
    server.kill();
  }
}
