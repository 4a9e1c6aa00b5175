// `npm run bench -- page`: how soon each live demo is ready in the browser. Starts the whole local
// stack (scripts/start.ts --fresh --preview, on its own ports and state directory), opens every
// pattern page with a demo in Chromium and measures, on the page's own clock, the time from
// navigation start until the demo's frame reports data-demo-status="ready". The floor, measured in
// the same run from the same page: one request to the replica's /api/v2/status. The goal is a
// demo ready within 2 s on the local backend. Loopback only; three visits per page.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { lineWriter, ms as msTo, p50 } from './lib/bench-support.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VISITS = 3;
const sitePort = Number(process.env.WG_BENCH_SITE_PORT ?? 4341);
const replicaPort = Number(process.env.WG_BENCH_REPLICA_PORT ?? 4963);
const idpPort = Number(process.env.WG_BENCH_IDP_PORT ?? 4964);

const ms = (v: number) => msTo(v, 0);
const line = lineWriter(64);

/** Pattern pages whose frontmatter names a demo: [page path, demo id]. */
function demoPages(): Array<[string, string]> {
  const dir = join(repoRoot, 'content/patterns');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.mdx'))
    .flatMap((f) => {
      const demo = /^demo:\s*(\S+)/m.exec(readFileSync(join(dir, f), 'utf8').split('\n---')[0])?.[1];
      return demo ? [[`/patterns/${f.replace(/\.mdx$/, '')}/`, demo] as [string, string]] : [];
    });
}

function startStack(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['scripts/start.ts', '--fresh', '--preview'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      WG_SITE_PORT: String(sitePort),
      WG_REPLICA_PORT: String(replicaPort),
      WG_IDP_PORT: String(idpPort),
      WG_STATE_DIR: '.cache/bench-page-state',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the stack did not start within 10 minutes:\n${seen.slice(-2000)}`)), 600_000);
    const onData = (data: Buffer) => {
      seen += data.toString();
      if (/Ready in [\d.]+ s/.test(seen)) {
        clearTimeout(timer);
        resolvePromise(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${code}) before it was ready:\n${seen.slice(-2000)}`));
    });
  });
}

export async function pageSection(): Promise<void> {
  console.log('\npage: each live demo, navigation start to data-demo-status="ready" (Chromium, local stack)');
  const stack = await startStack();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const base = `http://127.0.0.1:${sitePort}`;
    const replica = `http://127.0.0.1:${replicaPort}`;
    await page.goto(`${base}/`);
    const floorSamples: number[] = [];
    for (let i = 0; i < 10; i++) {
      floorSamples.push(
        await page.evaluate(async (url) => {
          const t = performance.now();
          await (await fetch(`${url}/api/v2/status`)).arrayBuffer();
          return performance.now() - t;
        }, replica),
      );
    }
    const floor = p50(floorSamples);
    line('floor: one /api/v2/status from the page', ms(floor));
    for (const [path, demo] of demoPages()) {
      const samples: number[] = [];
      for (let visit = 0; visit < VISITS; visit++) {
        await page.goto(`${base}${path}`);
        const handle = await page.waitForFunction(
          (id) => {
            const status = document.querySelector(`[data-demo="${id}"]`)?.getAttribute('data-demo-status');
            if (status === 'error') throw new Error(`the ${id} demo went into its error state`);
            return status === 'ready' ? performance.now() : false;
          },
          demo,
          { timeout: 30_000, polling: 10 },
        );
        samples.push((await handle.jsonValue()) as number);
      }
      const median = p50(samples);
      line(`${demo} (${path})`, `${ms(median)}  (${(median / floor).toFixed(0)}x floor)${median > 2000 ? '  over the 2 s goal' : ''}`);
    }
  } finally {
    await browser.close();
    stack.kill('SIGTERM');
    await new Promise((r) => stack.once('exit', r));
  }
}
