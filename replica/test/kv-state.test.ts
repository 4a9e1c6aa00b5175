// The replica's state over a key-value store (store/kv-state.ts), as the site's page backend keeps
// it in IndexedDB: a restored replica answers as the saved one did, only changed pages are
// rewritten, small commits are one journal entry each (folded into the keys later, read back in
// order before that), and state of another format or damaged bytes is refused with StateFormatError.
import { describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { JOURNAL_MAX_ENTRIES, KV_STATE_FORMAT, KvState, StateFormatError, storedEntries, type IngressSource } from '../src/store/kv-state.ts';
import type { CompletedCall } from '../src/http/ingress.ts';
import { callToCbor } from '../src/store/canister-codec.ts';
import { encodeCbor } from '../src/certification/cbor.ts';
import type { ReplicaStore } from '../src/store/store.ts';
import { createReplica, motokoFixture, watFixture } from './fixtures/build.ts';
import { canSuspendWasm } from '../src/execution/slicing.ts';
import type { Replica } from '../src/index.ts';

class MemoryStore implements ReplicaStore {
  readonly data = new Map<string, Uint8Array>();
  batches: number[] = [];
  /** Deletions asked for, per batch (each is a request of its own in IndexedDB). */
  deletions: number[] = [];
  /** The next batch fails without writing anything, as a transaction IndexedDB aborts. */
  failNext = false;
  async get(key: string) {
    return this.data.get(key);
  }
  async writeBatch(entries: Map<string, Uint8Array | undefined>) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the write failed');
    }
    this.batches.push(entries.size);
    this.deletions.push([...entries.values()].filter((v) => v === undefined).length);
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
  /** What a reload finds: the store as it is now. */
  copy(): MemoryStore {
    const copy = new MemoryStore();
    for (const [key, value] of this.data) copy.data.set(key, value.slice());
    return copy;
  }
  journalKeys(): string[] {
    return [...this.data.keys()].filter((key) => key.startsWith('journal/'));
  }
}

const idl = ({ IDL: I }: { IDL: typeof IDL }) => I.Service({ inc: I.Func([], [I.Nat], []), get: I.Func([], [I.Nat], ['query']) });

/** A fresh replica running the counter (Motoko, enhanced orthogonal persistence), started at 0. */
async function counterReplica() {
  const counter = await motokoFixture('counter', 'eop');
  const replica = await createReplica({ log: 'quiet' });
  const { actor, canisterId } = await replica.setupCanister<{ inc(): Promise<bigint> }>({
    idlFactory: idl,
    wasm: counter.wasm,
    arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])),
  });
  return { replica, actor, canisterId };
}

/** A fresh replica with `store`'s state restored into it, as a reload finds it. */
async function reloaded(store: ReplicaStore): Promise<Replica> {
  const other = await createReplica({ log: 'quiet' });
  await new KvState(store).restore(other.scheduler, other.management);
  return other;
}

describe('replica state in a key-value store', () => {
  it('restores canisters, memory and ids into a fresh replica, writing only what changed', async () => {
    const counter = await motokoFixture('counter', 'eop');
    const store = new MemoryStore();
    const first = await createReplica({ log: 'quiet' });
    const state = new KvState(store, { journal: false });
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
    expect(storedPages).toBeLessThan(heap.length / 4096);
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

  it('compares only the pages written since its own last commit, and always stores the live heap', async () => {
    const { replica, actor, canisterId } = await counterReplica();
    const id = canisterId.toText();
    const instance = () => replica.scheduler.canisters.get(id)!.instance!;
    const stored = (store: MemoryStore) => {
      const out = new Uint8Array(instance().memory.buffer.byteLength);
      for (const [key, value] of store.data) if (key.startsWith(`canister/${id}/heap/`)) out.set(value, Number(key.split('/').at(-1)) * 4096);
      return out;
    };
    const live = () => new Uint8Array(instance().memory.buffer);
    // Two stores on one replica, committing on different schedules: each sees every change since its own last commit.
    const stores = [new MemoryStore(), new MemoryStore()];
    const states = stores.map((store) => new KvState(store, { journal: false }));
    for (let i = 0; i < 6; i++) {
      await actor.inc();
      await states[0].commit(replica.scheduler, replica.management);
      expect(Buffer.compare(stored(stores[0]), live())).toBe(0);
      if (i % 3 === 2) {
        await states[1].commit(replica.scheduler, replica.management);
        expect(Buffer.compare(stored(stores[1]), live())).toBe(0);
      }
    }
    // A reader's first call knows nothing; after it, an update names a few pages of the heap.
    const reader = {};
    expect(instance().writtenSince(reader)).toBeUndefined();
    expect(instance().writtenSince(reader)).toEqual([]);
    await actor.inc();
    const pages = instance().writtenSince(reader)!;
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.length).toBeLessThan(live().length / 65536 / 4);
    await replica.tearDown();
  });

  it('writes an update as a few 4 KiB chunks, and reads format 2 (64 KiB pages) and rewrites it as chunks', async () => {
    const { replica, actor, canisterId } = await counterReplica();
    const id = canisterId.toText();
    const store = new MemoryStore();
    const state = new KvState(store, { journal: false });
    await actor.inc();
    await state.commit(replica.scheduler, replica.management);
    const sizes: number[] = [];
    const writeBatch = store.writeBatch.bind(store);
    store.writeBatch = async (entries) => {
      sizes.push(...[...entries].filter(([k]) => k.includes('/heap/')).map(([, v]) => v?.length ?? 0));
      return writeBatch(entries);
    };
    await actor.inc();
    await state.commit(replica.scheduler, replica.management);
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096);
    const heap = new Uint8Array(replica.scheduler.canisters.get(id)!.instance!.memory.buffer).slice();
    await replica.tearDown();

    // The same state as format 2 wrote it: the memory in 64 KiB pages (zero pages absent).
    const legacy = new MemoryStore();
    for (const [key, value] of store.data) if (!key.includes('/heap/') && !key.includes('/stable/')) legacy.data.set(key, value);
    for (let n = 0; n * 65536 < heap.length; n++) {
      const page = heap.slice(n * 65536, (n + 1) * 65536);
      if (page.some((b) => b !== 0)) legacy.data.set(`canister/${id}/heap/${n}`, page);
    }
    legacy.data.set('format', Uint8Array.of(2));
    const second = await createReplica({ log: 'quiet' });
    const upgraded = new KvState(legacy);
    await upgraded.restore(second.scheduler, second.management);
    const again = second.createActor<{ inc(): Promise<bigint>; get(): Promise<bigint> }>(idl, canisterId);
    expect(await again.get()).toBe(2n);
    expect(await upgraded.commit(second.scheduler, second.management)).toBe(true);
    expect(legacy.data.get('format')).toEqual(Uint8Array.of(KV_STATE_FORMAT));
    const memoryValues = [...legacy.data].filter(([k]) => k.includes('/heap/')).map(([, v]) => v.length);
    expect(memoryValues.length).toBeGreaterThan(0);
    expect(Math.max(...memoryValues)).toBeLessThanOrEqual(4096);
    await second.tearDown();
    const third = await createReplica({ log: 'quiet' });
    await new KvState(legacy).restore(third.scheduler, third.management);
    expect(new Uint8Array(third.scheduler.canisters.get(id)!.instance!.memory.buffer)).toEqual(heap);
    expect(await third.createActor<{ inc(): Promise<bigint> }>(idl, canisterId).inc()).toBe(3n);
    await third.tearDown();
  });

  it('writes each completed call once, deletes it once pruned, and replaces the older single calls value', async () => {
    const replica = await createReplica({ log: 'quiet' });
    const call = (n: number): CompletedCall => ({
      requestId: new Uint8Array(32).fill(n),
      sender: Uint8Array.of(4),
      canisterId: Uint8Array.of(n),
      effectiveCanisterId: Uint8Array.of(n),
      ingressExpiry: 1000n + BigInt(n),
      pruneAt: 2000n + BigInt(n),
      outcome: n % 2 ? { status: 'replied', reply: Uint8Array.of(n) } : { status: 'rejected', rejectCode: 4, rejectMessage: `no ${n}`, errorCode: 'IC0503' },
    });
    let remembered = [call(1), call(2)];
    const ingress: IngressSource = { completedCalls: () => remembered, inflightCalls: () => [] };
    const store = new MemoryStore();
    const written: string[][] = [];
    const writeBatch = store.writeBatch.bind(store);
    store.writeBatch = async (entries) => {
      written.push([...entries.keys()].filter((k) => k.startsWith('call')).sort());
      return writeBatch(entries);
    };
    const state = new KvState(store, { journal: false });
    await state.commit(replica.scheduler, replica.management, ingress);
    const key = (n: number) => `call/${Array.from(new Uint8Array(32).fill(n), (b) => b.toString(16).padStart(2, '0')).join('')}`;
    expect(written.at(-1)).toEqual([key(1), key(2)]);
    remembered = [call(1), call(2), call(3)];
    await state.commit(replica.scheduler, replica.management, ingress);
    expect(written.at(-1)).toEqual([key(3)]);
    remembered = [call(2), call(3)];
    await state.commit(replica.scheduler, replica.management, ingress);
    expect(written.at(-1)).toEqual([key(1)]);
    expect(store.data.has(key(1))).toBe(false);
    const restored = await new KvState(store).restore((await createReplica({ log: 'quiet' })).scheduler, replica.management);
    expect(restored.completedCalls).toEqual([call(2), call(3)]);

    // A store with the single value: read, then replaced by one key per call in the next commit.
    const legacy = new MemoryStore();
    legacy.data.set('format', Uint8Array.of(2));
    legacy.data.set('calls', encodeCbor([call(5), call(6)].map(callToCbor)));
    const upgraded = new KvState(legacy);
    const back = await upgraded.restore(replica.scheduler, replica.management);
    expect(back.completedCalls).toEqual([call(5), call(6)]);
    remembered = back.completedCalls;
    await upgraded.commit(replica.scheduler, replica.management, ingress);
    expect(legacy.data.has('calls')).toBe(false);
    expect([...legacy.data.keys()].filter((k) => k.startsWith('call/')).sort()).toEqual([key(5), key(6)]);
    expect((await new KvState(legacy).restore(replica.scheduler, replica.management)).completedCalls).toEqual([call(5), call(6)]);
    await replica.tearDown();
  });

  it("asks the store to delete only pages it can hold: none for a new canister's zeros, every zero page after a failed write", async () => {
    const replica = await createReplica({ log: 'quiet' });
    const store = new MemoryStore();
    const state = new KvState(store, { journal: false });
    const canisterId = await replica.createCanister();
    await replica.installCode({ canisterId, wasm: await watFixture('probe') });
    // Two pages of stable memory; the first 4 KiB are a copy of the heap's first (its data segments).
    await replica.updateCall({ canisterId, method: 'write_64k' });
    const id = canisterId.toText();
    const canister = replica.scheduler.canisters.get(id)!;
    expect(await state.commit(replica.scheduler, replica.management)).toBe(true);
    // A new canister: its zero pages (all but one of stable memory's 32) were never stored, so none is deleted.
    expect(store.deletions.at(-1)).toBe(0);
    expect(store.data.has(`canister/${id}/stable/0`)).toBe(true);
    expect(store.data.has(`canister/${id}/stable/1`)).toBe(false);
    // The page is zeroed and the next write fails: the store still holds the page, the state's view holds nothing.
    canister.stable.write(0, new Uint8Array(4096));
    store.failNext = true;
    await expect(state.commit(replica.scheduler, replica.management)).rejects.toThrow('the write failed');
    expect(store.data.has(`canister/${id}/stable/0`)).toBe(true);
    // The next commit writes everything and deletes every zero page, the stale one with them.
    expect(await state.commit(replica.scheduler, replica.management)).toBe(true);
    expect(store.data.has(`canister/${id}/stable/0`)).toBe(false);
    const restoredReplica = await createReplica({ log: 'quiet' });
    await new KvState(store).restore(restoredReplica.scheduler, restoredReplica.management);
    expect(restoredReplica.scheduler.canisters.get(id)!.stable.read(0, 65536 * 2)).toEqual(canister.stable.read(0, 65536 * 2));
    // Once a write succeeded the view is exact again: a change costs no deletion of zero pages.
    await replica.updateCall({ canisterId, method: 'write_stable' });
    expect(await state.commit(replica.scheduler, replica.management)).toBe(true);
    expect(store.deletions.at(-1)).toBe(0);
    await replica.tearDown();
    await restoredReplica.tearDown();
  });

  it('deletes a canister deleted after a failed write, whose keys the store still holds', async () => {
    const replica = await createReplica({ log: 'quiet' });
    const store = new MemoryStore();
    const state = new KvState(store);
    const kept = await replica.createCanister();
    const deleted = await replica.createCanister();
    for (const canisterId of [kept, deleted]) {
      await replica.installCode({ canisterId, wasm: await watFixture('probe') });
      await replica.updateCall({ canisterId, method: 'write_64k' });
    }
    await state.commit(replica.scheduler, replica.management);
    const keysOf = (id: Principal) => [...store.data.keys()].filter((key) => key.startsWith(`canister/${id.toText()}/`));
    expect(keysOf(deleted).length).toBeGreaterThan(0);
    // A write fails (the view of what is stored goes with it); then the canister is deleted.
    await replica.updateCall({ canisterId: kept, method: 'bump' });
    store.failNext = true;
    await expect(state.commit(replica.scheduler, replica.management)).rejects.toThrow('the write failed');
    await replica.stopCanister({ canisterId: deleted });
    await replica.deleteCanister({ canisterId: deleted });
    expect(await state.commit(replica.scheduler, replica.management)).toBe(true);
    expect(keysOf(deleted)).toEqual([]);
    const other = await reloaded(store);
    expect([...other.scheduler.canisters.keys()]).toEqual([kept.toText()]);
    await other.tearDown();
    await replica.tearDown();
  });

  it('deletes the chunks past the end of a memory stored larger before a failed write', async () => {
    const { replica, actor, canisterId } = await counterReplica();
    const store = new MemoryStore();
    const state = new KvState(store);
    await state.commit(replica.scheduler, replica.management);
    const id = canisterId.toText();
    const heap = () => new Uint8Array(replica.scheduler.canisters.get(id)!.instance!.memory.buffer);
    const large = heap().length;
    await actor.inc();
    store.failNext = true;
    await expect(state.commit(replica.scheduler, replica.management)).rejects.toThrow('the write failed');
    // Reinstalled with a module of one 64 KiB page: the Motoko heap's chunks past it must go.
    await replica.reinstallCode({ canisterId, wasm: await watFixture('probe') });
    expect(heap().length).toBeLessThan(large);
    expect(await state.commit(replica.scheduler, replica.management)).toBe(true);
    const other = await reloaded(store);
    expect(new Uint8Array(other.scheduler.canisters.get(id)!.instance!.memory.buffer)).toEqual(heap());
    await other.tearDown();
    await replica.tearDown();
  });

  it('reads and compares only the stable memory pages written since its last commit', async () => {
    const replica = await createReplica({ log: 'quiet' });
    const store = new MemoryStore();
    const state = new KvState(store, { journal: false });
    const canisterId = await replica.createCanister();
    await replica.installCode({ canisterId, wasm: await watFixture('probe') });
    const id = canisterId.toText();
    const stable = () => replica.scheduler.canisters.get(id)!.stable;
    const stored = () => {
      const out = new Uint8Array(stable().byteLength);
      for (const [key, value] of store.data) if (key.startsWith(`canister/${id}/stable/`)) out.set(value, Number(key.split('/').at(-1)) * 4096);
      return out;
    };
    const live = () => stable().read(0, stable().byteLength);
    // Two pages (128 KiB); the first holds a copy of the heap's first page.
    await replica.updateCall({ canisterId, method: 'write_64k' });
    await state.commit(replica.scheduler, replica.management);
    expect(stored()).toEqual(live());
    const reads: number[] = [];
    const memory = stable();
    const read = memory.read.bind(memory);
    memory.read = (offset, length) => {
      reads.push(length);
      return read(offset, length);
    };
    // The heap's first page changes (the canister's id at 400), then is copied over stable memory's first page.
    await replica.updateCall({ canisterId, method: 'set_self' });
    await replica.updateCall({ canisterId, method: 'write_64k' });
    const keys: string[] = [];
    const writeBatch = store.writeBatch.bind(store);
    store.writeBatch = async (entries) => {
      keys.push(...[...entries.keys()].filter((k) => k.includes('/stable/')));
      return writeBatch(entries);
    };
    reads.length = 0;
    await state.commit(replica.scheduler, replica.management);
    expect(reads, 'only the written page is read').toEqual([65536]);
    expect(keys).toEqual([`canister/${id}/stable/0`]);
    expect(stored()).toEqual(live());
    // A message that grows and writes stable memory, then traps: rolled back, nothing to store.
    await expect(replica.updateCall({ canisterId, method: 'bump_then_trap' })).rejects.toThrow();
    reads.length = 0;
    keys.length = 0;
    await state.commit(replica.scheduler, replica.management);
    expect(reads.every((length) => length <= 65536)).toBe(true);
    expect(keys).toEqual([]);
    expect(stored()).toEqual(live());
    await replica.tearDown();
  });

  it('saves a canister whose message is paused between slices as the message found it, and the message runs once after a restore', async () => {
    // A commit may be taken while a replicated message is open: the flush timer and the
    // certificates' commits run between rounds, and a message longer than a slice is paused
    // across rounds. (Between its Wasm's end and its commit, or a pause's end and its Wasm
    // resuming, only microtasks run: no commit is taken there.) `work` changes the heap, a
    // global, stable memory, the log and the certified data before it spins for many slices.
    expect(canSuspendWasm, 'this test needs JSPI (time slicing)').toBe(true);
    const limits = { instructionsPerSlice: 100_000 };
    const replica = await createReplica({ log: 'quiet', limits });
    const canisterId = await replica.createCanister();
    await replica.installCode({ canisterId, wasm: await watFixture('slow-writer') });
    const id = canisterId.toText();
    const count = async (pic: Replica) => Array.from(new Uint32Array((await pic.queryCall({ canisterId, method: 'count' })).slice().buffer));
    const first = replica.updateCall({ canisterId, method: 'work' });
    expect(new Uint32Array((await first).slice().buffer)[0]).toBe(1);
    const canister = replica.scheduler.canisters.get(id)!;
    const before = { count: await count(replica), log: canister.logRecords.length, certified: canister.certifiedData.slice(), balance: canister.balance };
    expect(before.count).toEqual([1, 1, 1]);

    // The second `work`, caught while paused (a macrotask between two of its slices).
    const state = new KvState(new MemoryStore());
    const second = replica.updateCall({ canisterId, method: 'work' });
    for (let i = 0; i < 10_000 && replica.scheduler.state.paused.size === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(replica.scheduler.state.paused.has(id), 'the message is paused').toBe(true);
    const written = state.commit(replica.scheduler, replica.management);
    const saved = new MemoryStore();
    await written;
    for (const [key, value] of (state.store as MemoryStore).data) saved.data.set(key, value.slice());
    expect(new Uint32Array((await second).slice().buffer)[0]).toBe(2);
    await replica.tearDown();

    const restoredReplica = await createReplica({ log: 'quiet', limits });
    const restored = await new KvState(saved).restore(restoredReplica.scheduler, restoredReplica.management);
    const back = restoredReplica.scheduler.canisters.get(id)!;
    // What the paused message had changed is not there: heap, global, stable memory, log, certified data, cycles.
    expect(await count(restoredReplica)).toEqual(before.count);
    expect(back.logRecords).toHaveLength(before.log);
    expect(back.certifiedData).toEqual(before.certified);
    // (Less only by the storage fees of the time since: the message prepays millions for its instructions.)
    expect(before.balance - back.balance).toBeGreaterThanOrEqual(0n);
    expect(before.balance - back.balance).toBeLessThan(10_000n);
    // The message itself comes back at the head of the queue and runs once, from the start.
    restoredReplica.scheduler.restore(restored.schedulerState!);
    await restoredReplica.scheduler.settle();
    expect(await count(restoredReplica)).toEqual([2, 2, 2]);
    expect(back.logRecords.map((r) => new TextDecoder().decode(r.content))).toEqual(['working', 'working']);
    expect(before.balance - back.balance).toBeGreaterThan(1_000_000n);
    await restoredReplica.tearDown();
  }, 120_000);

  it('writes a small commit as one journal entry, reads the journal back in order, and folds it into the keys', async () => {
    const { replica, actor, canisterId } = await counterReplica();
    const id = canisterId.toText();
    const store = new MemoryStore();
    const state = new KvState(store);
    // The install (and the format key) go to the keys themselves.
    await state.commit(replica.scheduler, replica.management);
    expect(store.journalKeys()).toEqual([]);
    const heap = () => new Uint8Array(replica.scheduler.canisters.get(id)!.instance!.memory.buffer).slice();
    const restoredFrom = async (saved: MemoryStore) => {
      const other = await reloaded(saved);
      const value = await other.createActor<{ get(): Promise<bigint> }>(idl, canisterId).get();
      const memory = new Uint8Array(other.scheduler.canisters.get(id)!.instance!.memory.buffer).slice();
      const canisters = [...other.scheduler.canisters.keys()].sort();
      await other.tearDown();
      return { value, memory, canisters };
    };
    for (let i = 1; i <= 3; i++) {
      await actor.inc();
      await state.commit(replica.scheduler, replica.management);
      expect(store.batches.at(-1), 'one put').toBe(1);
    }
    // A small canister's creation and install fit in one entry too: its keys exist only in the journal.
    const probe = await replica.createCanister();
    await replica.installCode({ canisterId: probe, wasm: await watFixture('probe') });
    await state.commit(replica.scheduler, replica.management);
    expect(store.batches.at(-1), 'one put').toBe(1);
    expect(store.journalKeys()).toHaveLength(4);
    // A reload now reads the keys, then the four entries over them.
    const pending = await restoredFrom(store.copy());
    expect(pending.value).toBe(3n);
    expect(pending.memory).toEqual(heap());
    expect(pending.canisters).toEqual([id, probe.toText()].sort());
    const chunks = await storedEntries(store, `canister/${id}/heap/`);
    expect(chunks.length).toBeGreaterThan(0);
    // Folded: the keys hold it all, the journal is gone; a second compact has nothing to do.
    expect(await state.compact()).toBe(true);
    expect(store.journalKeys()).toEqual([]);
    expect(await storedEntries(store, `canister/${id}/heap/`)).toEqual(chunks);
    expect(await state.compact()).toBe(false);
    expect(await restoredFrom(store.copy())).toEqual(pending);
    // The journal never holds more than JOURNAL_MAX_ENTRIES entries: the next commit folds them.
    let most = 0;
    for (let i = 0; i < JOURNAL_MAX_ENTRIES + 3; i++) {
      await actor.inc();
      await state.commit(replica.scheduler, replica.management);
      most = Math.max(most, store.journalKeys().length);
    }
    expect(most).toBe(JOURNAL_MAX_ENTRIES);
    expect(store.journalKeys().length).toBeLessThan(JOURNAL_MAX_ENTRIES);
    expect(await restoredFrom(store.copy())).toEqual({ value: BigInt(3 + JOURNAL_MAX_ENTRIES + 3), memory: heap(), canisters: pending.canisters });
    await replica.tearDown();
  });

  it('keeps the journal whole through failed writes: a failed fold leaves its entries, the next write folds them', async () => {
    const { replica, actor, canisterId } = await counterReplica();
    const store = new MemoryStore();
    const state = new KvState(store);
    await state.commit(replica.scheduler, replica.management);
    const value = async (saved: MemoryStore) => {
      const other = await reloaded(saved);
      const got = await other.createActor<{ get(): Promise<bigint> }>(idl, canisterId).get();
      await other.tearDown();
      return got;
    };
    await actor.inc();
    await state.commit(replica.scheduler, replica.management);
    await actor.inc();
    await state.commit(replica.scheduler, replica.management);
    expect(store.journalKeys()).toHaveLength(2);
    // The fold fails: the two entries stay, and a reload still reads both.
    store.failNext = true;
    await expect(state.compact()).rejects.toThrow('the write failed');
    expect(store.journalKeys()).toHaveLength(2);
    expect(await value(store.copy())).toBe(2n);
    // A journal entry fails: nothing of it is stored; the next commit folds everything.
    await actor.inc();
    store.failNext = true;
    await expect(state.commit(replica.scheduler, replica.management)).rejects.toThrow('the write failed');
    expect(await value(store.copy())).toBe(2n);
    await actor.inc();
    expect(await state.commit(replica.scheduler, replica.management)).toBe(true);
    expect(store.journalKeys()).toEqual([]);
    expect(await value(store.copy())).toBe(4n);
    // A damaged entry is refused, not misread.
    await actor.inc();
    await state.commit(replica.scheduler, replica.management);
    const [key] = store.journalKeys();
    const damaged = store.copy();
    damaged.data.set(key, damaged.data.get(key)!.subarray(0, 20));
    const other = await createReplica({ log: 'quiet' });
    await expect(new KvState(damaged).restore(other.scheduler, other.management)).rejects.toThrow(StateFormatError);
    await other.tearDown();
    await replica.tearDown();
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
