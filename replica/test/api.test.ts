// The programmatic API (src/index.ts) as a user meets it: persistence by stateDir, time control,
// documentation on every public method, and the promises the engine makes about itself (no
// Node-only modules in the parts a web page will run, every exported error class thrown).
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Replica } from '../src/index.ts';
import * as publicApi from '../src/index.ts';
import { createReplica, motokoFixture, watFixture, type Fixture } from './fixtures/build.ts';
import { writeFileSync } from 'node:fs';

const src = join(dirname(fileURLToPath(import.meta.url)), '../src');
type Counter = { inc(): Promise<bigint>; get(): Promise<bigint>; writeStable(v: bigint): Promise<void>; readStable(): Promise<bigint>; now(): Promise<bigint> };

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('programmatic API', () => {
  let counter: Fixture;
  beforeAll(async () => {
    counter = await motokoFixture('counter');
  });

  it('stateDir keeps canisters, ids, heap and stable memory across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replica-state-'));
    try {
      const first = await createReplica({ stateDir: dir, log: 'quiet' });
      const { actor, canisterId } = await first.setupCanister<Counter>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(3n) });
      await actor.inc();
      await actor.writeStable(99n);
      await first.tearDown();

      const second = await createReplica({ stateDir: dir, log: 'quiet' });
      const again = second.createActor<Counter>(counter.idlFactory, canisterId);
      expect(await again.get()).toBe(4n);
      expect(await again.readStable()).toBe(99n);
      expect((await second.createCanister()).toText()).toBe('ryjl3-tyaaa-aaaaa-aaaba-cai');
      await second.tearDown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('setupCanister takes a file path like PicJS; stable memory can be read and replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replica-wasm-'));
    try {
      const path = join(dir, 'probe.wasm');
      writeFileSync(path, await watFixture('probe'));
      const pic = await createReplica({ log: 'quiet' });
      const { canisterId } = await pic.setupCanister({ idlFactory: ({ IDL }) => IDL.Service({}), wasm: path });
      await pic.updateCall({ canisterId, method: 'write_stable', arg: new Uint8Array() });
      const stable = await pic.getStableMemory(canisterId);
      expect(stable.length).toBe(65536);
      expect(new TextDecoder().decode(stable.subarray(0, 16))).toBe('hello from probe');
      await pic.setStableMemory(canisterId, new Uint8Array(3 * 65536 - 5).fill(7));
      const pages = new DataView((await pic.queryCall({ canisterId, method: 'pages', arg: new Uint8Array() })).buffer).getUint32(0, true);
      expect(pages % 1000).toBe(3);
      expect((await pic.getStableMemory(canisterId))[10]).toBe(7);
      expect(pic.getControllers(canisterId).map((p) => p.toText())).toEqual(['2vxsx-fae']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a mistyped or non-positive limit is refused with a message naming it', async () => {
    await expect(createReplica({ limits: { instructionsPerUpdat: 5 } as never })).rejects.toThrow(/unknown limit "instructionsPerUpdat"/);
    await expect(createReplica({ limits: { maxIngressBytes: 0 } })).rejects.toThrow(/maxIngressBytes must be a positive integer/);
  });

  it('concurrent update calls run one at a time and none is lost', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor } = await pic.setupCanister<Counter>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(0n) });
    const replies = await Promise.all(Array.from({ length: 50 }, () => actor.inc()));
    expect(new Set(replies).size).toBe(50);
    expect(await actor.get()).toBe(50n);
  });

  it('time is real by default and frozen once set', async () => {
    const pic = await createReplica({ log: 'quiet' });
    expect(Math.abs(pic.getTime() - Date.now())).toBeLessThan(5_000);
    await pic.setTime(new Date('2031-07-01T00:00:00Z'));
    const { actor } = await pic.setupCanister<Counter>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(0n) });
    expect(await actor.now()).toBe(BigInt(Date.UTC(2031, 6, 1)) * 1_000_000n);
    await expect(pic.setTime(Date.UTC(2020, 0, 1))).rejects.toThrow(/monotonic/);
    await pic.tearDown();
  });

  it('every public Replica method has TSDoc with an @example', () => {
    const text = readFileSync(join(src, 'index.ts'), 'utf8');
    const methods = Object.getOwnPropertyNames(Replica.prototype).filter(
      (m) => m !== 'constructor' && !text.includes(`private ${m}(`) && !text.includes(`private async ${m}(`),
    );
    methods.push('create');
    expect(methods.length).toBeGreaterThan(15);
    const missing = methods.filter((m) => {
      const at = text.search(new RegExp(`\\n  (static )?(async )?${m}[<(]`));
      if (at < 0) return true;
      const doc = text.slice(text.lastIndexOf('/**', at), at);
      return !doc.includes('@example') || text.lastIndexOf('*/', at) < text.lastIndexOf('/**', at);
    });
    expect(missing).toEqual([]);
  });

  it('execution, System API, scheduler and management use no Node-only modules', () => {
    const engine = ['execution', 'system-api', 'scheduler', 'management', 'cycles', 'metering'].flatMap((d) => filesUnder(join(src, d)));
    expect(engine.length).toBeGreaterThan(10);
    const offenders = engine.filter((f) => {
      const code = readFileSync(f, 'utf8');
      return /from ['"]node:|require\(['"]node:|\bBuffer\.|\bprocess\./.test(code);
    });
    expect(offenders.map((f) => f.slice(src.length + 1))).toEqual([]);
  });

  it('the replica bundles for the browser without Node built-ins', async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [join(src, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).toMatch(/\bScheduler\b/);
    expect(code).toMatch(/canister_inspect_message/);
    expect(code).not.toMatch(/from ["']node:|require\(["']node:/);
  });

  it('every exported error class is thrown somewhere in the replica', () => {
    const all = filesUnder(src)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const classes = Object.entries(publicApi)
      .filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error)
      .map(([name]) => name)
      .filter((name) => name !== 'ReplicaError'); // the base class
    const neverThrown = classes.filter((name) => !new RegExp(`new ${name}\\(`).test(all));
    expect(classes.length).toBeGreaterThan(0);
    expect(neverThrown).toEqual([]);
  });
});
