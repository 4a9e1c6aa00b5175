// Metering and limits seen through the replica's programmatic API, on a real
// Motoko canister (replica/test/metering-fixtures/work.mo) in both persistence modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replica, type IdlFactory } from '../src/index.ts';
import { azleWork, motokoWork } from './metering-fixtures/fixtures.ts';

const idlFactory: IdlFactory = ({ IDL: I }) =>
  I.Service({
    spin: I.Func([I.Nat64], [I.Nat64], ['query']),
    spinCounted: I.Func([I.Nat64], [I.Nat64, I.Nat64], ['query']),
    mapInsert: I.Func([I.Nat64], [I.Nat64], []),
    regionAppend: I.Func([I.Nat64], [I.Nat64], []),
    mapGet: I.Func([I.Nat64], [I.Nat64], ['query']),
    size: I.Func([], [I.Nat], ['query']),
  });

interface Work {
  spin(n: bigint): Promise<bigint>;
  spinCounted(n: bigint): Promise<[bigint, bigint]>;
  mapInsert(n: bigint): Promise<bigint>;
  size(): Promise<bigint>;
}

const wasm: Record<'eop' | 'classic', Uint8Array> = { eop: new Uint8Array(), classic: new Uint8Array() };

beforeAll(async () => {
  wasm.eop = (await motokoWork('eop')).wasm;
  wasm.classic = (await motokoWork('classic')).wasm;
}, 300_000);

describe.each(['eop', 'classic'] as const)('a Motoko loop (%s)', (mode) => {
  let pic: Replica;
  // The definition applied literally (metering/reference.ts), in a replica of its own.
  let referencePic: Replica;
  beforeAll(async () => {
    pic = await Replica.create({ log: 'quiet' });
    referencePic = await Replica.create({ log: 'quiet', metering: 'instruction' });
  });
  afterAll(async () => {
    await pic?.tearDown();
    await referencePic?.tearDown();
  });

  it('costs the same per iteration as charging every executed instruction one by one', async () => {
    // Block metering (the IC's scheme, the replica's default) ...
    const { actor: blocks, canisterId: blocksId } = await pic.setupCanister<Work>({ idlFactory, wasm: wasm[mode] });
    // ... against the definition applied literally (reference.ts), the same module.
    const { actor: reference, canisterId: referenceId } = await referencePic.setupCanister<Work>({ idlFactory, wasm: wasm[mode] });
    // Same bytes, two compilations: the module cache is keyed by the metering mode too.
    expect(referencePic.scheduler.canister(referenceId)!.module!.compiled).not.toBe(pic.scheduler.canister(blocksId)!.module!.compiled);
    const counted = async (actor: Work, n: bigint) => (await actor.spinCounted(n))[1];
    const b0 = await counted(blocks, 0n);
    const r0 = await counted(reference, 0n);
    const b1 = await counted(blocks, 1n);
    // Entering the loop the first time costs more than going round it again, so the cost of one
    // more iteration is measured between 1 and 2 iterations.
    const perIteration = (await counted(blocks, 2n)) - b1;
    expect(perIteration).toBeGreaterThan(10n);
    for (const n of [1n, 2n, 7n, 1000n]) {
      const b = (await counted(blocks, n)) - b0;
      const r = (await counted(reference, n)) - r0;
      expect(b).toBe(r); // block totals equal the instruction-by-instruction definition ...
      expect((await counted(blocks, n)) - b1).toBe((n - 1n) * perIteration); // ... and each iteration costs the same
    }
    // The block holding the performance_counter call is charged up front (as on the IC), so the
    // block count runs ahead of the reference by the rest of that block, never behind.
    expect(b0 - r0).toBeGreaterThanOrEqual(0n);
    expect(b0 - r0).toBeLessThan(200n);
    expect(await blocks.spin(1000n)).toBe(await reference.spin(1000n));
    // Beyond loops: B-tree inserts (allocation, calls through tables, bulk copies). mapInsert
    // reports the counter difference across its work; both canisters run the same sequence.
    const inserts = async (actor: Work) => {
      const zero = await actor.mapInsert(0n);
      const out: bigint[] = [];
      for (const n of [50n, 50n, 200n]) out.push((await actor.mapInsert(n)) - zero);
      return out;
    };
    expect(await inserts(blocks)).toEqual(await inserts(reference));
  });
});

describe('an Azle loop (QuickJS interpreting JavaScript)', () => {
  it('costs the same as charging every executed instruction one by one', async () => {
    const azleIdl: IdlFactory = ({ IDL: I }) => I.Service({ spinCounted: I.Func([I.Nat32], [I.Tuple(I.Nat32, I.Nat64)], ['query']) });
    type AzleWork = { spinCounted(n: number): Promise<[number, bigint]> };
    const bytes = azleWork();
    // Frozen time and one canister id for both runs: Azle's JavaScript heap depends on both (two
    // canisters with different ids differ by a few hundred instructions in the same call).
    const pic = await Replica.create({ log: 'quiet', time: 1_700_000_000_000, seed: 1 });
    try {
      const { actor, canisterId } = await pic.setupCanister<AzleWork>({ idlFactory: azleIdl, wasm: bytes });
      const counts = async () => {
        const out: Array<[number, bigint]> = [];
        for (const n of [0, 1, 10, 100]) out.push(await actor.spinCounted(n));
        return out;
      };
      const blocks = await counts();
      // The same module in a replica metering instruction by instruction, reinstalled there the
      // same way (so the canister id, time and version match).
      const referencePic = await Replica.create({ log: 'quiet', time: 1_700_000_000_000, seed: 1, metering: 'instruction' });
      let reference: Array<[number, bigint]>;
      try {
        const { actor: referenceActor, canisterId: referenceId } = await referencePic.setupCanister<AzleWork>({ idlFactory: azleIdl, wasm: bytes });
        expect(referenceId.toText()).toBe(canisterId.toText());
        for (const n of [0, 1, 10, 100]) await referenceActor.spinCounted(n);
        await referencePic.reinstallCode({ canisterId: referenceId, wasm: bytes });
        reference = [];
        for (const n of [0, 1, 10, 100]) reference.push(await referenceActor.spinCounted(n));
      } finally {
        await referencePic.tearDown();
      }
      for (let k = 1; k < blocks.length; k++) {
        expect(blocks[k][0]).toBe(reference[k][0]);
        expect(blocks[k][1] - blocks[0][1]).toBe(reference[k][1] - reference[0][1]);
      }
      expect(blocks[3][1] - blocks[0][1]).toBeGreaterThan(100n * 100n); // an interpreter: hundreds per JS iteration
      // As for Motoko: the counter's own block is paid up front, so the block count runs ahead.
      expect(blocks[0][1] - reference[0][1]).toBeGreaterThanOrEqual(0n);
      expect(blocks[0][1] - reference[0][1]).toBeLessThan(1_000n);
    } finally {
      await pic.tearDown();
    }
  }, 300_000);
});

describe('instruction limits', () => {
  it('stops a query that exceeds a lowered limit with the IC error, and the canister keeps working', async () => {
    const pic = await Replica.create({ log: 'quiet', limits: { instructionsPerQuery: 1_000_000 } });
    try {
      const { actor } = await pic.setupCanister<Work>({ idlFactory, wasm: wasm.eop });
      const failure = actor.spin(10_000_000n);
      await expect(failure).rejects.toMatchObject({ errorCode: 'IC0522' });
      await expect(failure).rejects.toThrow('Canister exceeded the limit of 1000000 instructions for single message execution.');
      expect(await actor.spin(10n)).toBeTypeOf('bigint');
    } finally {
      await pic.tearDown();
    }
  });

  it('fails an upgrade whose pre_upgrade needs more than the install limit, and keeps the state', async () => {
    // Classic persistence serialises every stable variable in pre_upgrade: with 5,000 map
    // entries that takes millions of instructions.
    const limit = 2_000_000;
    const pic = await Replica.create({ log: 'quiet', limits: { instructionsPerInstall: limit } });
    try {
      const { actor, canisterId } = await pic.setupCanister<Work>({ idlFactory, wasm: wasm.classic });
      await actor.mapInsert(5_000n);
      expect(await actor.size()).toBe(5_000n);
      const upgrade = pic.upgradeCanister({ canisterId, wasm: wasm.classic });
      await expect(upgrade).rejects.toThrow(`Canister exceeded the limit of ${limit} instructions for single message execution.`);
      expect(await actor.size()).toBe(5_000n);
      // Still running the old code with its data: an update re-inserting the first keys
      // (the same pseudo-random sequence) leaves the size as it was.
      expect(await actor.mapInsert(10n)).toBeGreaterThan(0n);
      expect(await actor.size()).toBe(5_000n);
    } finally {
      await pic.tearDown();
    }
  });
});
