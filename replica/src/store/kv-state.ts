// The replica's state over a key-value store (store.ts's ReplicaStore), for places without a file
// system: the site's page backend keeps it in the browser's IndexedDB. Portable (no Node API).
//
// Layout, every write one atomic batch (ReplicaStore.writeBatch):
//   format                      the layout's version (KV_STATE_FORMAT); another version is refused
//   management                  the management canister's allocator state
//   calls                       completed ingress calls (so replays still read as done)
//   module/<sha256>             each installed module once, shared by the canisters running it
//   canister/<id>/meta          the canister's plain fields, module hash, globals, memory sizes
//   canister/<id>/heap/<n>      64 KiB page n of main memory, written only when it changed
//   canister/<id>/stable/<n>    64 KiB page n of stable memory, likewise
//   canister/<id>/snapshots     its snapshots, rewritten whole when the set changes
//
// Commits are taken between messages (the HTTP interface's beforeCertify), when no call is open.
// A canister's fields are written as the disk store writes them (canister-codec.ts: an explicit
// record, so a new Canister property never changes this format by accident).

import { Principal } from '@dfinity/principal';
import {
  applyCanisterRecord,
  callFromCbor,
  callToCbor,
  decodeCanisterRecord,
  decodeSnapshots,
  encodeCanisterRecord,
  encodeSnapshots,
  fromCbor,
  snapshotSetKey,
  stableFrom,
  toCbor,
} from './canister-codec.ts';
import { decodeCbor, encodeCbor, type CborMap, type CborValue } from '../certification/cbor.ts';
import { equalBytes, toHex } from '../ic/bytes.ts';
import { Canister } from '../execution/canister.ts';
import { loadModule } from '../execution/module.ts';
import type { CompletedCall } from '../http/ingress.ts';
import type { ManagementCanister } from '../management/management-canister.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { ReplicaStore } from './store.ts';

/** Bump when the layout or the encoding of a value changes: older state is then refused, not misread. */
export const KV_STATE_FORMAT = 1;
const PAGE = 65536;

/** The stored state cannot be read by this version (another format, or damaged bytes). */
export class StateFormatError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateFormatError';
  }
}

/** What was last written of one canister, to write only what changed. */
interface Written {
  meta: Uint8Array;
  snapshots: string;
  heap: Uint8Array;
  stable: Uint8Array;
}

/** 32-bit words over the bytes when they are aligned (memories and their copies are), else undefined. */
function words(bytes: Uint8Array): Int32Array | undefined {
  return bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : undefined;
}

function samePage(a: Uint8Array, b: Uint8Array, offset: number, end: number, wa?: Int32Array, wb?: Int32Array): boolean {
  if (end > b.length) return false;
  // Word by word where both are aligned: a commit compares every page of every memory.
  if (wa && wb && offset % 4 === 0 && end % 4 === 0) {
    for (let i = offset / 4, last = end / 4; i < last; i++) if (wa[i] !== wb[i]) return false;
    return true;
  }
  for (let i = offset; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Adds the pages of `current` that differ from `previous` to the batch; returns a copy of `current`. */
function pagesOf(prefix: string, current: Uint8Array, previous: Uint8Array | undefined, batch: Map<string, Uint8Array | undefined>): Uint8Array {
  // The copy reuses the previous one when the size held: only changed pages are copied.
  const copy = previous && previous.length === current.length ? previous : current.slice();
  const wc = words(current);
  const wp = previous && words(previous);
  for (let offset = 0, index = 0; offset < current.length; offset += PAGE, index++) {
    const end = Math.min(offset + PAGE, current.length);
    if (previous && samePage(current, previous, offset, end, wc, wp)) continue;
    const page = current.slice(offset, end);
    batch.set(`${prefix}/${index}`, page);
    if (copy !== current) copy.set(page, offset);
  }
  // Pages past the end of a memory that shrank (a reinstall) are dropped.
  for (let offset = Math.ceil(current.length / PAGE) * PAGE, index = offset / PAGE; previous && offset < previous.length; offset += PAGE, index++) {
    batch.set(`${prefix}/${index}`, undefined);
  }
  return copy;
}

async function readPages(store: ReplicaStore, prefix: string, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  for (const [key, bytes] of await store.entries(`${prefix}/`)) {
    const index = Number(key.slice(prefix.length + 1));
    if (!Number.isInteger(index) || index * PAGE + bytes.length > size) throw new StateFormatError(`${key} lies outside a memory of ${size} bytes`);
    out.set(bytes, index * PAGE);
  }
  return out;
}

export class KvState {
  readonly store: ReplicaStore;
  #written = new Map<string, Written>();
  #modules = new Set<string>();
  #management: Uint8Array = new Uint8Array();
  #calls: Uint8Array = new Uint8Array();
  #formatWritten = false;

  constructor(store: ReplicaStore) {
    this.store = store;
  }

  /** True when the store holds no state yet (a first visit, or after a reset). */
  async isEmpty(): Promise<boolean> {
    return (await this.store.get('format')) === undefined;
  }

  /**
   * Rebuilds canisters and the id allocator into a fresh engine. Throws StateFormatError when the
   * stored state is of another format or does not decode; the caller offers a reset.
   */
  async restore(scheduler: Scheduler, management: ManagementCanister): Promise<{ canisters: number; completedCalls: CompletedCall[] }> {
    const format = await this.store.get('format');
    if (format === undefined) return { canisters: 0, completedCalls: [] };
    this.#formatWritten = true;
    const version = format.length === 1 ? format[0] : -1;
    if (version !== KV_STATE_FORMAT) {
      throw new StateFormatError(`the saved replica state has format ${version}; this version of the site reads format ${KV_STATE_FORMAT}`);
    }
    try {
      const managementBytes = await this.store.get('management');
      if (managementBytes) {
        management.allocatorState = fromCbor(decodeCbor(managementBytes)) as ManagementCanister['allocatorState'];
        this.#management = managementBytes;
      }
      const callBytes = await this.store.get('calls');
      const completedCalls = callBytes ? (decodeCbor(callBytes) as CborValue[]).map(callFromCbor) : [];
      if (callBytes) this.#calls = callBytes;
      const metaKeys = (await this.store.keys('canister/')).filter((k) => k.endsWith('/meta'));
      for (const key of metaKeys) {
        const id = key.slice('canister/'.length, -'/meta'.length);
        const metaBytes = (await this.store.get(key))!;
        const meta = decodeCbor(metaBytes) as CborMap;
        const canister = new Canister(Principal.fromText(id), [], 0n, 0n);
        applyCanisterRecord(canister, decodeCanisterRecord(meta.fields as CborValue));
        if (canister.status === 'stopping') canister.status = 'stopped'; // its open calls did not survive
        const heap = await readPages(this.store, `canister/${id}/heap`, meta.heapSize as number);
        const stableBytes = await readPages(this.store, `canister/${id}/stable`, meta.stableSize as number);
        if (meta.moduleHash instanceof Uint8Array) {
          const hash = toHex(meta.moduleHash);
          const moduleBytes = await this.store.get(`module/${hash}`);
          if (!moduleBytes) throw new StateFormatError(`canister ${id} runs module ${hash}, which the saved state lacks`);
          const module = await loadModule(moduleBytes, scheduler.moduleOptions);
          this.#modules.add(hash);
          const instance = canister.instantiate(module);
          instance.restore({ memory: heap, globals: fromCbor(meta.globals as CborValue) as (number | bigint)[] });
          canister.instance = instance;
        }
        canister.stable = stableFrom(stableBytes);
        const snapshotBytes = await this.store.get(`canister/${id}/snapshots`);
        canister.snapshots = await decodeSnapshots(snapshotBytes ? (decodeCbor(snapshotBytes) as CborValue[]) : [], scheduler.moduleOptions, (hash) =>
          this.store.get(`module/${toHex(hash)}`),
        );
        scheduler.canisters.set(id, canister);
        this.#written.set(id, { meta: metaBytes, snapshots: snapshotSetKey(canister), heap, stable: stableBytes });
      }
      return { canisters: metaKeys.length, completedCalls };
    } catch (error) {
      if (error instanceof StateFormatError) throw error;
      throw new StateFormatError(`the saved replica state does not decode: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Writes what changed since the last commit in one atomic batch; false when nothing did. */
  async commit(scheduler: Scheduler, management: ManagementCanister, completedCalls: CompletedCall[]): Promise<boolean> {
    const batch = new Map<string, Uint8Array | undefined>();
    const seen = new Set<string>();
    const next = new Map<string, Written>();
    for (const [id, canister] of scheduler.canisters) {
      seen.add(id);
      const prev = this.#written.get(id);
      const module = canister.instance?.module;
      if (module && !this.#modules.has(toHex(module.hash))) {
        batch.set(`module/${toHex(module.hash)}`, module.bytes);
        this.#modules.add(toHex(module.hash));
      }
      const heap = canister.instance ? new Uint8Array(canister.instance.memory.buffer) : new Uint8Array();
      const stable = canister.stable.byteLength > 0 ? canister.stable.read(0, canister.stable.byteLength) : new Uint8Array();
      const meta = encodeCbor({
        fields: encodeCanisterRecord(canister),
        moduleHash: module ? module.hash : null,
        globals: toCbor(canister.instance?.globals.map((g) => g.value) ?? []) ?? [],
        heapSize: heap.length,
        stableSize: stable.length,
      });
      if (!prev || !equalBytes(prev.meta, meta)) batch.set(`canister/${id}/meta`, meta);
      const heapCopy = pagesOf(`canister/${id}/heap`, heap, prev?.heap, batch);
      const stableCopy = pagesOf(`canister/${id}/stable`, stable, prev?.stable, batch);
      const snapshots = snapshotSetKey(canister);
      if (!prev || prev.snapshots !== snapshots) {
        batch.set(
          `canister/${id}/snapshots`,
          encodeCbor(
            encodeSnapshots(canister, (module) => {
              if (this.#modules.has(toHex(module.hash))) return;
              batch.set(`module/${toHex(module.hash)}`, module.bytes);
              this.#modules.add(toHex(module.hash));
            }),
          ),
        );
      }
      next.set(id, { meta, snapshots, heap: heapCopy, stable: stableCopy });
    }
    for (const id of this.#written.keys()) {
      if (seen.has(id)) continue;
      for (const key of await this.store.keys(`canister/${id}/`)) batch.set(key, undefined);
    }
    const managementBytes = encodeCbor(toCbor(management.allocatorState) ?? null);
    if (!equalBytes(managementBytes, this.#management)) batch.set('management', managementBytes);
    const callBytes = encodeCbor(completedCalls.map(callToCbor));
    if (!equalBytes(callBytes, this.#calls)) batch.set('calls', callBytes);
    if (batch.size === 0) return false;
    if (!this.#formatWritten) batch.set('format', Uint8Array.of(KV_STATE_FORMAT));
    try {
      await this.store.writeBatch(batch);
    } catch (error) {
      // The copies above already hold the new pages: forget them, so the next commit writes all.
      this.#written.clear();
      this.#modules.clear();
      this.#management = new Uint8Array();
      this.#calls = new Uint8Array();
      throw error;
    }
    this.#formatWritten = true;
    this.#written = next;
    this.#management = managementBytes;
    this.#calls = callBytes;
    return true;
  }
}
