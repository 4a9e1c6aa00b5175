// The same engine in a web page: the replica is bundled for the browser and runs a Motoko
// canister (wasm64, enhanced orthogonal persistence) and a hand-written probe inside Chromium —
// the path the in-page demos will take, with no network and no Node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { motokoFixture, watFixture } from './fixtures/build.ts';

const src = join(dirname(fileURLToPath(import.meta.url)), '../src');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Runs in the page: everything it uses comes from the bundle.
const entry = `
import { Replica } from ${JSON.stringify(join(src, 'index.ts'))};
import { IDL } from '@dfinity/candid';
window.runReplica = async (counterWasm, probeWasm) => {
  const lines = [];
  const pic = await Replica.create({ time: Date.UTC(2026, 0, 1), onLog: (l) => lines.push(l) });
  const idl = ({ IDL }) => IDL.Service({ inc: IDL.Func([], [IDL.Nat], []), get: IDL.Func([], [IDL.Nat], ['query']), incThenTrap: IDL.Func([], [], []) });
  const { actor } = await pic.setupCanister({ idlFactory: idl, wasm: new Uint8Array(counterWasm), arg: new Uint8Array(IDL.encode([IDL.Nat], [5n])), name: 'counter' });
  const first = await actor.inc();
  let trapped = '';
  try { await actor.incThenTrap(); } catch (e) { trapped = e.rejectCode + ' ' + e.errorCode; }
  const after = await actor.get();
  const probeId = await pic.createCanister();
  await pic.installCode({ canisterId: probeId, wasm: new Uint8Array(probeWasm) });
  const bump = await pic.updateCall({ canisterId: probeId, method: 'bump', arg: new Uint8Array() });
  await pic.tearDown();
  return { first: String(first), after: String(after), trapped, bump: new DataView(bump.buffer).getUint32(0, true), logged: lines.some((l) => l.startsWith('counter.inc (anonymous) -> replied')) };
};
`;

describe('the replica in a web page', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    const esbuild = await import('esbuild');
    const bundle = await esbuild.build({
      stdin: { contents: entry, resolveDir: src, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage();
    await page.setContent('<!doctype html><title>replica</title>');
    await page.addScriptTag({ content: bundle.outputFiles[0].text, type: 'module' });
    await page.waitForFunction(() => typeof (window as unknown as { runReplica?: unknown }).runReplica === 'function');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('runs Motoko and probe canisters with rollback, in Chromium, without a server', async () => {
    const counter = await motokoFixture('counter', 'eop');
    const probe = await watFixture('probe');
    const result = await page.evaluate(
      ([c, p]) => (window as unknown as { runReplica(c: number[], p: number[]): Promise<Record<string, unknown>> }).runReplica(c, p),
      [Array.from(counter.wasm), Array.from(probe)] as const,
    );
    expect(result).toEqual({ first: '6', after: '6', trapped: '5 IC0503', bump: 1, logged: true });
  });
});
