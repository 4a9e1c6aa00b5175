// Page-wise rollback (execution/dirty-pages.ts): modules record the pages they write, and a
// message copies back or forward only those. The fixtures' replicas turn on a verifier that
// compares the whole memory after every page-wise step (`dirtyPages: 'verify'`), so every
// conformance test also checks this.
import { beforeAll, describe, expect, it } from 'vitest';
import { Replica } from '../src/index.ts';
import { loadModule, prepareModule } from '../src/execution/module.ts';
import { DIRTY_EXPORT, DIRTY_PAGE_BYTES } from '../src/execution/dirty-pages.ts';
import { buildModule, type FunctionSpec } from '../src/wasm/assemble.ts';
import { i, type Instr } from '../src/wasm/code.ts';
import { encodeModule } from '../src/wasm/module.ts';
import { ValType } from '../src/wasm/opcodes.ts';
import { createReplica, motokoFixture, watFixture, type Fixture } from './fixtures/build.ts';
import { azleFixture } from './fixtures/azle.ts';

describe('dirty-page tracking', () => {
  let eop: Fixture;
  let classic: Fixture;
  beforeAll(async () => {
    eop = await motokoFixture('counter', 'eop');
    classic = await motokoFixture('counter', 'classic');
  });

  it('Motoko (both modes), Azle and hand-written modules are rewritten to record their writes', async () => {
    const modules = [eop.wasm, classic.wasm, (await azleFixture()).wasm, await watFixture('probe')];
    for (const wasm of modules) expect((await loadModule(wasm)).dirtyTracking).toBe(true);
  });

  it('is an option of the replica, and the module cache keeps the two compilations apart', async () => {
    const tracked = await loadModule(eop.wasm);
    const untracked = await loadModule(eop.wasm, { dirtyPages: false });
    expect(untracked.dirtyTracking).toBe(false);
    expect(untracked.compiled).not.toBe(tracked.compiled);
    expect((await loadModule(eop.wasm)).compiled).toBe(tracked.compiled); // cached
    // 'verify' compiles the same module as true; it only adds the host's check.
    const verified = await loadModule(eop.wasm, { dirtyPages: 'verify' });
    expect(verified.compiled).toBe(tracked.compiled);
    expect([tracked.verifyDirtyTracking, verified.verifyDirtyTracking]).toEqual([false, true]);

    const pic = await Replica.create({ log: 'quiet', dirtyPages: false });
    try {
      const { actor, canisterId } = await pic.setupCanister<{ get(): Promise<bigint>; inc(): Promise<bigint> }>({
        idlFactory: eop.idlFactory,
        wasm: eop.wasm,
        arg: eop.encodeInit(1n),
      });
      const instance = pic.scheduler.canister(canisterId)!.instance!;
      expect(instance.module.dirtyTracking).toBe(false);
      await actor.get();
      const before = instance.copiedBytes;
      expect(await actor.inc()).toBe(2n);
      expect(instance.copiedBytes - before).toBeGreaterThanOrEqual(instance.heapBytes); // whole-heap copies
    } finally {
      await pic.tearDown();
    }
    await expect(Replica.create({ dirtyPages: 'yes' as unknown as boolean })).rejects.toThrow(/dirtyPages must be true, false or 'verify'/);
  });

  it('a query copies back only the pages it wrote, not the whole heap', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<{ get(): Promise<bigint>; inc(): Promise<bigint> }>({
      idlFactory: eop.idlFactory,
      wasm: eop.wasm,
      arg: eop.encodeInit(1n),
    });
    const instance = pic.scheduler.canister(canisterId)!.instance!;
    await actor.get();
    const before = instance.copiedBytes;
    await actor.get();
    await actor.inc();
    const copied = instance.copiedBytes - before;
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(instance.heapBytes / 4);
  });

  it('the verifier catches a write that was not recorded', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('probe') });
    const instance = pic.scheduler.canister(canisterId)!.instance!;
    expect(instance.module.verifyDirtyTracking).toBe(true);
    instance.beginMessage();
    new Uint8Array(instance.memory.buffer)[40_000] = 99; // behind the tracking's back
    expect(() => instance.commitMessage()).toThrow(/dirty-page tracking missed a write/);
  });

  // Every kind of write the pass rewrites, in a wasm32 and a wasm64 module, each run on its own
  // and the map read back: the pages marked must be exactly those the write touched.
  for (const memory64 of [false, true]) {
    it(`marks exactly the pages each store, fill, copy and init writes (${memory64 ? 'wasm64' : 'wasm32'})`, async () => {
      const page = DIRTY_PAGE_BYTES;
      const address = (n: number): Instr => (memory64 ? i('i64.const', BigInt(n)) : i('i32.const', n));
      const v128 = i('v128.const', new Uint8Array(16).fill(7));
      const values: Record<number, Instr> = {
        [ValType.i32]: i('i32.const', -1),
        [ValType.i64]: i('i64.const', -1n),
        [ValType.f32]: i('f32.const', 1.5),
        [ValType.f64]: i('f64.const', 1.5),
        [ValType.v128]: v128,
      };
      // [name, value type, size]: the store writes `size` bytes from address + offset.
      const stores: [string, number, number][] = [
        ['i32.store', ValType.i32, 4],
        ['i64.store', ValType.i64, 8],
        ['f32.store', ValType.f32, 4],
        ['f64.store', ValType.f64, 8],
        ['i32.store8', ValType.i32, 1],
        ['i32.store16', ValType.i32, 2],
        ['i64.store8', ValType.i64, 1],
        ['i64.store16', ValType.i64, 2],
        ['i64.store32', ValType.i64, 4],
        ['v128.store', ValType.v128, 16],
        ['v128.store8_lane', ValType.v128, 1],
        ['v128.store16_lane', ValType.v128, 2],
        ['v128.store32_lane', ValType.v128, 4],
        ['v128.store64_lane', ValType.v128, 8],
      ];
      const cases: { name: string; body: Instr[]; pages: number[] }[] = [];
      // The static offset puts the first byte on the last byte of page 1: a 1-byte store stays
      // there, longer ones reach into page 2.
      for (const [op, type, size] of stores) {
        const memarg = op.includes('lane') ? { offset: 5, align: 0, lane: 0 } : { offset: 5, align: 0 };
        cases.push({ name: op, body: [address(2 * page - 6), values[type], i(op, memarg)], pages: size === 1 ? [1] : [1, 2] });
      }
      // The same store, far from a page edge, in a function that also runs other instructions.
      cases.push({
        name: 'i32.store inside a page, after other instructions',
        body: [i('block'), i('i32.const', 1), i('drop'), i('end'), address(3 * page + 100), i('i32.const', 9), i('i32.store', { offset: 8 })],
        pages: [3],
      });
      const length = (n: number): Instr => (memory64 ? i('i64.const', BigInt(n)) : i('i32.const', n));
      cases.push({ name: 'memory.fill', body: [address(page - 10), i('i32.const', 1), length(page + 20), i('memory.fill', 0)], pages: [0, 1, 2] });
      cases.push({ name: 'memory.fill of nothing', body: [address(page - 10), i('i32.const', 1), length(0), i('memory.fill', 0)], pages: [] });
      cases.push({ name: 'memory.copy', body: [address(3 * page - 1), address(0), length(2), i('memory.copy', { a: 0, b: 0 })], pages: [2, 3] });
      cases.push({
        name: 'memory.init',
        body: [address(2 * page - 2), i('i32.const', 0), i('i32.const', 4), i('memory.init', { a: 0, b: 0 })],
        pages: [1, 2],
      });
      const functions: FunctionSpec[] = cases.map((c, k) => ({ params: [], results: [], body: c.body, export: `case${k}` }));
      const m = buildModule({ functions, memory: { flags: memory64 ? 0x04 : 0, min: 4 } });
      m.data.push({ flags: 1, memoryIndex: 0, bytes: new Uint8Array([1, 2, 3, 4]) });
      m.dataCount = 1;

      const prepared = prepareModule(encodeModule(m), 'off', true);
      expect(prepared.dirtyTracking).toBe(true);
      const { instance } = await WebAssembly.instantiate(prepared.bytes as BufferSource);
      const map = new Uint8Array((instance.exports[DIRTY_EXPORT] as WebAssembly.Memory).buffer);
      const marked: Record<string, number[]> = {};
      const expected: Record<string, number[]> = {};
      cases.forEach((c, k) => {
        map.fill(0);
        (instance.exports[`case${k}`] as () => void)();
        marked[c.name] = [...map.keys()].filter((slot) => map[slot] !== 0);
        expected[c.name] = c.pages;
      });
      expect(marked).toEqual(expected);
    });
  }

  it('leaves a module with atomics exactly as it was (rolled back by full copies)', () => {
    const m = buildModule({
      functions: [
        { params: [], results: [], body: [i('i32.const', 0), i('i32.const', 1), i('i32.store')] }, // rewritten if the pass went on
        { params: [], results: [], body: [i('i32.const', 0), i('i32.const', 1), i('i32.atomic.store', { align: 2 })] },
      ],
      memory: { flags: 0, min: 1 },
    });
    const bytes = encodeModule(m);
    const prepared = prepareModule(bytes, 'off', true);
    expect(prepared.dirtyTracking).toBe(false);
    expect(prepared.bytes).toEqual(prepareModule(bytes, 'off', false).bytes);
  });
});
