// Resource limits and cycles as a canister developer meets them through the replica's API:
// oversized replies, frozen canisters, execution fees, System API charges.
import { describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { Replica, type IdlFactory } from '../src/index.ts';
import { motokoWork } from './metering-fixtures/fixtures.ts';

const idlFactory: IdlFactory = ({ IDL }) =>
  IDL.Service({
    spin: IDL.Func([IDL.Nat64], [IDL.Nat64], ['query']),
    spinCounted: IDL.Func([IDL.Nat64], [IDL.Nat64, IDL.Nat64], ['query']),
    mapInsert: IDL.Func([IDL.Nat64], [IDL.Nat64], []),
    bytes: IDL.Func([IDL.Nat], [IDL.Vec(IDL.Nat8)], ['query']),
    bytesUpdate: IDL.Func([IDL.Nat], [IDL.Vec(IDL.Nat8)], []),
    counterDelta: IDL.Func([], [IDL.Nat64], ['query']),
  });

interface Work {
  spin(n: bigint): Promise<bigint>;
  spinCounted(n: bigint): Promise<[bigint, bigint]>;
  mapInsert(n: bigint): Promise<bigint>;
  bytes(n: bigint): Promise<Uint8Array>;
  bytesUpdate(n: bigint): Promise<Uint8Array>;
  counterDelta(): Promise<bigint>;
}

describe('response size limits', () => {
  it('rejects a reply above the lowered query limit with the IC contract violation', async () => {
    const { wasm } = await motokoWork('eop');
    const pic = await Replica.create({ log: 'quiet', limits: { maxQueryResponseBytes: 1000, maxResponseBytes: 500 } });
    try {
      const { actor } = await pic.setupCanister<Work>({ idlFactory, wasm });
      expect((await actor.bytes(900n)).length).toBe(900);
      const query = actor.bytes(2000n);
      await expect(query).rejects.toMatchObject({ errorCode: 'IC0504' });
      await expect(query).rejects.toThrow(/application payload size \(\d+\) cannot be larger than 1000/);
      // Updates answer under the (lower) replicated limit.
      await expect(actor.bytesUpdate(900n)).rejects.toThrow(/cannot be larger than 500/);
    } finally {
      await pic.tearDown();
    }
  });
});

describe('cycles', () => {
  it('charges an update its execution and leaves queries free', async () => {
    const { wasm } = await motokoWork('classic');
    const pic = await Replica.create({ log: 'quiet' });
    try {
      const { actor, canisterId } = await pic.setupCanister<Work>({ idlFactory, wasm, cycles: 10n ** 13n });
      const balance = async () => ((await pic.callManagement('canister_status', { canister_id: canisterId })) as { cycles: bigint }).cycles;
      const before = await balance();
      await actor.spin(1000n);
      expect(await balance()).toBe(before);
      await actor.mapInsert(100n);
      const charged = before - (await balance());
      // 5M per message plus 1 cycle per instruction (wasm32): mapInsert(100) runs ~0.5M.
      const instructions = await actor.mapInsert(100n); // reports its own count; charged again
      const second = before - charged - (await balance());
      expect(charged).toBeGreaterThan(5_000_000n + 100_000n);
      expect(charged).toBeLessThan(5_000_000n + 5_000_000n);
      expect(second - 5_000_000n).toBeGreaterThanOrEqual(instructions); // at least what the loop counted
    } finally {
      await pic.tearDown();
    }
  });

  it('rejects calls to a frozen canister with IC0207', async () => {
    const { wasm } = await motokoWork('classic');
    const pic = await Replica.create({ log: 'quiet' });
    try {
      const controller = Principal.anonymous();
      const { actor, canisterId } = await pic.setupCanister<Work>({ idlFactory, wasm, cycles: 10n ** 12n, sender: controller });
      expect(await actor.mapInsert(1n)).toBeGreaterThan(0n);
      // A freezing threshold of a million years makes any balance too small.
      await pic.callManagement(
        'update_settings',
        {
          canister_id: canisterId,
          sender_canister_version: [],
          settings: {
            freezing_threshold: [10n ** 6n * 365n * 86_400n],
            controllers: [],
            compute_allocation: [],
            memory_allocation: [],
            reserved_cycles_limit: [],
            log_visibility: [],
            log_memory_limit: [],
            wasm_memory_limit: [],
            wasm_memory_threshold: [],
            environment_variables: [],
            minimum_incoming_canister_call_cycles: [],
            snapshot_visibility: [],
            status_visibility: [],
          },
        },
        controller,
      );
      const call = actor.mapInsert(1n);
      await expect(call).rejects.toMatchObject({ errorCode: 'IC0207' });
      await expect(call).rejects.toThrow(/is out of cycles/);
    } finally {
      await pic.tearDown();
    }
  });
});

describe('System API charges', () => {
  it('counts ic0 calls in performance_counter the way the IC does', async () => {
    const { wasm } = await motokoWork('eop');
    const pic = await Replica.create({ log: 'quiet' });
    try {
      const { actor } = await pic.setupCanister<Work>({ idlFactory, wasm });
      // Two performance_counter calls in one basic block: the block was paid for up front, so
      // the only difference is the IC's 200-instruction charge for the second call.
      expect(await actor.counterDelta()).toBe(200n);
    } finally {
      await pic.tearDown();
    }
  });
});
