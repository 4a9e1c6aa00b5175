// The replica's state over a key-value store (store/kv-state.ts), as the site's page backend keeps
// it in IndexedDB: a restored replica answers as the saved one did, only changed pages are
// rewritten, and state of another format or damaged bytes is refused with StateFormatError.
import { describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Replica } from '../src/index.ts';
import { KV_STATE_FORMAT, KvState, StateFormatError } from '../src/store/kv-state.ts';
import type { ReplicaStore } from '../src/store/store.ts';
import { createReplica, motokoFixture } from './fixtures/build.ts';

class MemoryStore implements ReplicaStore {
  readonly data = new Map<string, Uint8Array>();
  batches: number[] = [];
  async get(key: string) {
    return this.data.get(key);
  }
  async writeBatch(entries: Map<string, Uint8Array | undefined>) {
    this.batches.push(entries.size);
    for (const [k, v] of entries)
      if (v === undefined) this.data.delete(k);
      else this.data.set(k, v.slice());
  }
  async keys(prefix: string) {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async entries(prefix: string): Promise<Array<[string, Uint8Array]>> {
    return (await this.keys(prefix)).map((k) => [k, this.data.get(k)!]);
  }
  async close() {}
}

const idl = ({ IDL: I }: { IDL: typeof IDL }) => I.Service({ inc: I.Func([], [I.Nat], []), get: I.Func([], [I.Nat], ['query']) });

describe('replica state in a key-value store', () => {
  it('restores canisters, memory and ids into a fresh replica, writing only what changed', async () => {
    const counter = await motokoFixture('counter', 'eop');
    const store = new MemoryStore();
    const first = await createReplica({ log: 'quiet' });
    const state = new KvState(store);
    expect(await state.isEmpty()).toBe(true);
    const { actor, canisterId } = await first.setupCanister<{ inc(): Promise<bigint> }>({
      idlFactory: idl,
      wasm: counter.wasm,
      arg: new Uint8Array(IDL.encode([IDL.Nat], [5n])),
    });
    await actor.inc();
    expect(await state.commit(first.scheduler, first.management)).toBe(true);
    const full = store.batches.at(-1)!;
    expect(await state.commit(first.scheduler, first.management)).toBe(false);
    await actor.inc();
    expect(await state.commit(first.scheduler, first.management)).toBe(true);
    expect(store.batches.at(-1)!).toBeLessThan(full / 2);
    // Pages of zeros are not stored (Motoko's heap is mostly reserved, unwritten space).
    const heap = new Uint8Array(first.scheduler.canisters.get(canisterId.toText())!.instance!.memory.buffer).slice();
    const storedPages = [...store.data.keys()].filter((k) => k.startsWith(`canister/${canisterId.toText()}/heap/`)).length;
    expect(storedPages).toBeLessThan(heap.length / 65536);
    await first.tearDown();

    const second = await createReplica({ log: 'quiet' });
    const restored = await new KvState(store).restore(second.scheduler, second.management);
    expect(restored.canisters).toBe(1);
    // The heap comes back byte for byte, zeros where no page was stored.
    expect(new Uint8Array(second.scheduler.canisters.get(canisterId.toText())!.instance!.memory.buffer)).toEqual(heap);
    const again = second.createActor<{ inc(): Promise<bigint>; get(): Promise<bigint> }>(idl, canisterId);
    expect(await again.get()).toBe(7n);
    expect(await again.inc()).toBe(8n);
    // The id allocator came back too: the next canister does not reuse the first one's id.
    expect((await second.createCanister()).toText()).not.toBe(canisterId.toText());
    await second.tearDown();
  });

  it('refuses state of another format, and bytes that do not decode', async () => {
    const store = new MemoryStore();
    store.data.set('format', Uint8Array.of(KV_STATE_FORMAT + 1));
    const replica = await createReplica({ log: 'quiet' });
    await expect(new KvState(store).restore(replica.scheduler, replica.management)).rejects.toThrow(StateFormatError);
    store.data.set('format', Uint8Array.of(KV_STATE_FORMAT));
    store.data.set('canister/rrkah-fqaaa-aaaaa-aaaaq-cai/meta', Uint8Array.of(0xff, 0x00));
    await expect(new KvState(store).restore(replica.scheduler, replica.management)).rejects.toThrow(/does not decode/);
    await replica.tearDown();
  });
});
