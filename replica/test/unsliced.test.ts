// Queries run on the unsliced variant of a canister's module (metering/unsliced.ts) once the
// canister's queries have computed enough: the same replies and instruction counts as on the
// hooked module, the state every committed update left, and none of the query's own writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replica, type IdlFactory } from '../src/index.ts';
import { UNSLICED_AFTER_INSTRUCTIONS, type Canister } from '../src/execution/canister.ts';
import { instrumentModule } from '../src/metering/instrument.ts';
import { unslicedVariant } from '../src/metering/unsliced.ts';
import { prepareModule } from '../src/execution/module.ts';
import { decodeFunctionBody, encodeFunctionBody, i } from '../src/wasm/code.ts';
import { emptyModule, encodeModule, ExternalKind, parseModule } from '../src/wasm/module.ts';
import { BlockType, ValType } from '../src/wasm/opcodes.ts';
import { azleWork, motokoWork } from './metering-fixtures/fixtures.ts';

const idlFactory: IdlFactory = ({ IDL: I }) =>
  I.Service({
    spin: I.Func([I.Nat64], [I.Nat64], ['query']),
    spinCounted: I.Func([I.Nat64], [I.Nat64, I.Nat64], ['query']),
    mapInsert: I.Func([I.Nat64], [I.Nat64], []),
    mapGet: I.Func([I.Nat64], [I.Nat64], ['query']),
    size: I.Func([], [I.Nat], ['query']),
    spinLogged: I.Func([I.Nat64], [I.Nat64], []),
    spinLoggedCalls: I.Func([], [I.Nat64], ['query']),
  });

interface Work {
  spin(n: bigint): Promise<bigint>;
  spinCounted(n: bigint): Promise<[bigint, bigint]>;
  mapInsert(n: bigint): Promise<bigint>;
  mapGet(n: bigint): Promise<bigint>;
  size(): Promise<bigint>;
  spinLogged(n: bigint): Promise<bigint>;
  spinLoggedCalls(): Promise<bigint>;
}

const wasm: Record<'eop' | 'classic', Uint8Array> = { eop: new Uint8Array(), classic: new Uint8Array() };

beforeAll(async () => {
  wasm.eop = (await motokoWork('eop')).wasm;
  wasm.classic = (await motokoWork('classic')).wasm;
}, 300_000);

describe('the unsliced variant of a prepared module', () => {
  it('replaces every hook call of real modules by unreachable, and compiles', async () => {
    for (const bytes of [wasm.eop, wasm.classic, azleWork()]) {
      const prepared = prepareModule(bytes, 'block', true).bytes;
      const variant = unslicedVariant(prepared);
      if (!('bytes' in variant)) throw new Error(variant.none);
      expect(variant.patchedCalls).toBeGreaterThan(100);
      // Instruction by instruction, the bodies differ only where a hook call (and the counter
      // reload after it) became `unreachable`.
      const ops = (wasmBytes: Uint8Array) => parseModule(wasmBytes).code.map((b) => decodeFunctionBody(b.bytes).instrs.map((x) => x.op));
      const before = ops(prepared);
      const after = ops(variant.bytes);
      expect(after.length).toBe(before.length);
      let replaced = 0;
      for (let f = 0; f < before.length; f++) {
        const b = before[f];
        const a = after[f];
        for (let x = 0, y = 0; x < b.length || y < a.length; x++, y++) {
          if (b[x] === a[y]) continue;
          expect([b[x], a[y]]).toEqual(['call', 'unreachable']);
          if (b[x + 1] === 'global.get' && b[x + 2] === 'local.set') x += 2;
          replaced++;
        }
      }
      // The hook function itself still calls through its table; nothing calls it.
      expect(replaced).toBe(variant.patchedCalls);
      await WebAssembly.compile(variant.bytes as BufferSource);
    }
  });

  it('has none for a module without the hook or one that writes a table', () => {
    const unhooked = instrumentModule(wasm.classic, { outOfInstructionsHook: false }).wasm;
    expect(unslicedVariant(unhooked)).toEqual({ none: 'the module has no out-of-instructions hook' });
    const m = emptyModule();
    m.types.push({ params: [], results: [] });
    m.functions.push(0);
    m.tables.push({ refType: ValType.funcref, limits: { flags: 0, min: 1 } });
    m.code.push({
      bytes: encodeFunctionBody({ locals: [], instrs: [i('i32.const', 0), i('ref.null', BlockType.funcref), i('table.set', 0), i('end')] }),
      offset: -1,
    });
    m.exports.push({ name: 'canister_query q', kind: ExternalKind.func, index: 0 });
    const tableWriter = encodeModule(m);
    const prepared = prepareModule(tableWriter, 'block', true).bytes;
    expect(unslicedVariant(prepared)).toEqual({ none: 'the module writes a table (table.set)' });
  });
});

describe.each(['eop', 'classic'] as const)('queries on the unsliced variant (%s)', (mode) => {
  let pic: Replica;
  let actor: Work;
  let canister: Canister;
  beforeAll(async () => {
    // 'verify' compares whole memories after every page-wise commit and rollback; the query
    // cache is off, since it would answer repeated queries without executing them.
    pic = await Replica.create({ log: 'quiet', dirtyPages: 'verify', queryCache: false });
    const setup = await pic.setupCanister<Work>({ idlFactory, wasm: wasm[mode] });
    actor = setup.actor;
    canister = pic.scheduler.canister(setup.canisterId)!;
  }, 120_000);
  afterAll(async () => {
    await pic?.tearDown();
  });

  const variantReady = async () => {
    for (let k = 0; k < 200 && !canister.unslicedInstance(); k++) await new Promise((r) => setTimeout(r, 25));
    const instance = canister.unslicedInstance();
    expect(instance).toBeDefined();
    return instance!;
  };

  it('answers and counts as the hooked module does, and sees every committed update', async () => {
    await actor.mapInsert(500n);
    // Below the threshold queries run on the hooked module.
    const hooked = [await actor.spinCounted(0n), await actor.spinCounted(1000n), await actor.mapGet(300n), await actor.size()];
    expect(canister.unslicedInstance()).toBeUndefined();
    // Enough query work to ask for the variant (a spin of n costs 53n instructions).
    await actor.spin(BigInt(UNSLICED_AFTER_INSTRUCTIONS) / 40n);
    const variant = await variantReady();
    const copied = variant.copiedBytes;
    const unsliced = [await actor.spinCounted(0n), await actor.spinCounted(1000n), await actor.mapGet(300n), await actor.size()];
    expect(unsliced).toEqual(hooked);
    // The queries ran there: the variant copied the canister's pages and rolled back its own writes.
    expect(variant.copiedBytes).toBeGreaterThan(copied);
    expect(canister.instance).not.toBe(variant);

    // Updates in between: each query sees exactly the committed state (mapInsert(n) inserts the
    // first n keys of one fixed sequence: the map grows to n). Where an update left the heap's
    // size as it was, the variant copies only the pages it wrote, not the whole heap.
    let pageWise = 0;
    for (let n = 501n; n <= 540n; n++) {
      await actor.mapInsert(n);
      const heap = canister.instance!.heapBytes;
      const before = variant.copiedBytes;
      expect(await actor.size()).toBe(n);
      if (variant.heapBytes === heap && variant.copiedBytes - before < heap) pageWise++;
    }
    expect(pageWise).toBeGreaterThan(10);
    await actor.mapInsert(20_000n);
    expect(await actor.size()).toBe(20_000n);
    expect(canister.unslicedInstance()!.heapBytes).toBe(canister.instance!.heapBytes);
  }, 240_000);

  it('stops a query at the instruction limit with the same error', async () => {
    const limited = await Replica.create({ log: 'quiet', queryCache: false, limits: { instructionsPerQuery: 50_000_000 } });
    try {
      const { actor: spinner, canisterId } = await limited.setupCanister<Work>({ idlFactory, wasm: wasm[mode] });
      const c = limited.scheduler.canister(canisterId)!;
      const failure = () =>
        spinner.spin(10_000_000n).then(
          () => 'replied',
          (e: Error) => e.message,
        );
      const hooked = await failure();
      expect(hooked).toMatch(/IC0522.*exceeded the limit of 50000000 instructions/);
      // Each failure runs the limit's 50M instructions on the hooked module.
      for (let k = 0; k < 100 && !c.unslicedInstance(); k++) expect(await failure()).toBe(hooked);
      expect(c.unslicedInstance()).toBeDefined();
      expect(await failure()).toBe(hooked);
    } finally {
      await limited.tearDown();
    }
  }, 120_000);

  it('runs updates on the variant and keeps the canister instance equal to it', async () => {
    const variant = canister.unslicedInstance()!;
    const same = () => {
      const a = new Uint8Array(canister.instance!.memory.buffer);
      const b = new Uint8Array(variant.memory.buffer);
      expect(a.length).toBe(b.length);
      expect(Buffer.compare(a, b)).toBe(0);
      expect(canister.instance!.globals.map((g) => g.value)).toEqual(variant.globals.map((g) => g.value));
    };
    const spins = await actor.spinLoggedCalls();
    const copied = canister.instance!.copiedBytes;
    for (const n of [10n, 30_000n, 20_100n]) {
      await actor.mapInsert(n > 20_000n ? n : 20_000n + n);
      same();
    }
    // The canister's instance received the variant's pages: the updates ran there.
    expect(canister.instance!.copiedBytes).toBeGreaterThan(copied);
    expect(await actor.spinLogged(1000n)).toBe(await actor.spin(1000n));
    expect(await actor.spinLoggedCalls()).toBe(spins + 1n);
    same();
  }, 120_000);

  it('runs an update longer than a slice again on the hooked module, once', async () => {
    // Slices of 10M instructions: spinLogged(2M) (about 40M) needs several.
    const sliced = await Replica.create({ log: 'quiet', queryCache: false, limits: { instructionsPerSlice: 10_000_000 } });
    try {
      const { actor: spinner, canisterId } = await sliced.setupCanister<Work>({ idlFactory, wasm: wasm[mode] });
      const c = sliced.scheduler.canister(canisterId)!;
      const expected = await spinner.spin(2_000_000n);
      // A query of 25M iterations (1.3B instructions, under the 5B query limit) asks for the variant.
      for (let k = 0; k < 20 && !c.unslicedInstance(); k++) await spinner.spin(BigInt(UNSLICED_AFTER_INSTRUCTIONS) / 40n);
      expect(c.unslicedInstance()).toBeDefined();
      const before = await spinner.spinLoggedCalls();
      const slices = sliced.scheduler.metrics.slicesExecuted;
      const logs = (await sliced.fetchCanisterLogs({ canisterId })).length;
      expect(await spinner.spinLogged(2_000_000n)).toBe(expected);
      // Once: one more call counted, one more line in the canister log.
      expect(await spinner.spinLoggedCalls()).toBe(before + 1n);
      const lines = (await sliced.fetchCanisterLogs({ canisterId })).map((r) => new TextDecoder().decode(r.content));
      expect(lines.length).toBe(logs + 1);
      expect(lines.at(-1)).toBe('spinLogged 2_000_000');
      // It ran sliced, on the hooked module: at least four slices.
      expect(sliced.scheduler.metrics.slicesExecuted - slices).toBeGreaterThanOrEqual(4);
    } finally {
      await sliced.tearDown();
    }
  }, 120_000);

  it('starts over on the new instance after an upgrade', async () => {
    const before = await actor.size();
    await pic.upgradeCanister({ canisterId: canister.principal, wasm: wasm[mode] });
    expect(canister.unslicedInstance()).toBeDefined();
    // Stable variables survive the upgrade (both persistence modes); the variant shows them.
    expect(await actor.size()).toBe(before);
    // mapInsert(n) inserts the first n keys of one fixed sequence: the map grows to n.
    await actor.mapInsert(before + 7n);
    expect(await actor.size()).toBe(before + 7n);
  }, 120_000);
});
