// The replica's state over a key-value store (store.ts's ReplicaStore), for places without a file
// system: the site's page backend keeps it in the browser's IndexedDB. Portable (no Node API).
//
// Layout, every write one atomic batch (ReplicaStore.writeBatch):
//   format                      the layout's version (KV_STATE_FORMAT); another version is refused
//   management                  the management canister's allocator state
//   call/<request id>           each completed ingress call with its reply or reject, until it
//                               is pruned (so replays still read as done); formats 1 and 2, and
//                               format 3 until this layout, kept them all in one value `calls`,
//                               which is still read and replaced by the next commit
//   scheduler                   the scheduler's state (scheduler.snapshot(): queues, call contexts,
//                               callbacks, paused executions), written when it changed
//   inflight                    ingress calls accepted and still executing, from the same commit
//   module/<sha256>             each installed module once, shared by the canisters running it
//   canister/<id>/meta          the canister's plain fields, module hash, globals, memory sizes
//   canister/<id>/heap/<n>      4 KiB chunk n of main memory (64 KiB pages in formats 1 and 2),
//                               written only when it changed; absent when it is all zeros
//   canister/<id>/stable/<n>    4 KiB chunk n of stable memory, likewise
//   canister/<id>/snapshots     its snapshots, rewritten whole when the set changes
//   journal/<n>                 a commit's batch of the keys above, as one value (format 4): a
//                               small commit (an update: a few chunks, its meta, its call) is one
//                               put; the journal is folded into those keys by a larger commit,
//                               every JOURNAL_MAX_ENTRIES commits, or when the replica is idle
//                               (compact()). Reads apply the journal over the keys, in order.
//
// Commits are taken between messages (the HTTP interface's beforeCertify, or a timer after a
// round): calls may be open then. As in the disk store (disk-store.ts), everything a commit writes
// is captured in one synchronous step (memories, scheduler state, calls in flight), so a callback
// and the call context it belongs to always come from the same moment; restore() hands the
// scheduler state and the calls in flight back, and execution continues from there. Only the
// write itself is asynchronous; writes land in the order their commits were taken.
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
import { WASM_PAGE, type StableMemory } from '../execution/stable-memory.ts';
import { DIRTY_PAGE_BYTES } from '../execution/dirty-pages.ts';
import { loadModule } from '../execution/module.ts';
import type { CompletedCall, InflightCall } from '../http/ingress.ts';
import type { ManagementCanister } from '../management/management-canister.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { SchedulerState } from '../scheduler/state.ts';
import type { ReplicaStore } from './store.ts';

/**
 * Bump when the layout or the encoding of a value changes: state of an unknown format is then
 * refused, not misread. 2 added `scheduler` and `inflight`; format 1 (without them: calls in flight
 * at its last commit are lost, as they were then) is still read. 3 stores memories in 4 KiB chunks
 * instead of 64 KiB pages: an update writes a few words in a few pages, and IndexedDB stores a
 * value of 64 KiB or more as a separate blob, synchronously serialized by the put, so each saved
 * page cost more than the rest of the call. Formats 1 and 2 are read and rewritten as 3 whole.
 * 4 adds the journal (journal/<n>): a reader of 3 would miss the commits in it. Format 3 holds none
 * and is read as it is.
 */
export const KV_STATE_FORMAT = 4;
const READABLE_FORMATS = new Set([1, 2, 3, 4]);
/**
 * Journal entries (format 4; 3 is read as 4 without one). IndexedDB finishes a transaction of one
 * put about three times sooner than one of seven (0.5 against 1.6 ms in this machine's Chromium,
 * 4 KiB chunks and small values), and an update waits for its transaction before its certificate.
 * An entry stays under 64 KiB, where IndexedDB starts storing a value as a separate blob.
 */
const JOURNAL_PREFIX = 'journal/';
const JOURNAL_ENTRY_MAX_BYTES = 60 * 1024;
/** Entries before a commit folds them all into the keys (and restore() applies at most this many). */
export const JOURNAL_MAX_ENTRIES = 32;
/** What a stored key of memory holds (the IC's own page size); formats 1 and 2 held 64 KiB pages. */
const CHUNK = 4096;
const LEGACY_PAGE = 65536;
/** Chunks per page of the dirty map (WasmInstance.writtenSince names 64 KiB pages). */
const CHUNKS_PER_DIRTY_PAGE = DIRTY_PAGE_BYTES / CHUNK;

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
  /** The stable memory `stable` is a copy of (its pages written since are all that can differ). */
  stableSource?: StableMemory;
}

/** A canister's memory sizes (bytes) as stored: its chunk keys lie below them. */
interface StoredSizes {
  heap: number;
  stable: number;
}

const storedSizes = (written: Written): StoredSizes => ({ heap: written.heap.length, stable: written.stable.length });

/** What restore() hands back (inflightCalls to HttpInterface.restoreInflightCalls, schedulerState to scheduler.restore()). */
export interface KvRestoreResult {
  canisters: number;
  completedCalls: CompletedCall[];
  /** Ingress calls that were executing at the last commit: they read as processing, then complete. */
  inflightCalls: InflightCall[];
  /** The scheduler's state from the same commit; absent when none was saved (format 1, or a fresh store). */
  schedulerState?: SchedulerState;
}

/** The ingress registry as a commit reads it (http/ingress.ts IngressRegistry). */
export interface IngressSource {
  completedCalls(): CompletedCall[];
  inflightCalls(): InflightCall[];
}

const inflightToCbor = (c: InflightCall): CborValue => [c.requestId, c.sender, c.canisterId, c.effectiveCanisterId, c.ingressExpiry];
const inflightFromCbor = (v: CborValue): InflightCall => {
  const [requestId, sender, canisterId, effectiveCanisterId, ingressExpiry] = v as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, number | bigint];
  return { requestId, sender, canisterId, effectiveCanisterId, ingressExpiry: BigInt(ingressExpiry) };
};

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

function zeroPage(bytes: Uint8Array, offset: number, end: number, w?: Int32Array): boolean {
  if (w && offset % 4 === 0 && end % 4 === 0) {
    for (let i = offset / 4, last = end / 4; i < last; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = offset; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Adds the pages of `current` that differ from `previous` to the batch; returns a copy of
 * `current`. `candidates`: the only pages that may differ (WasmInstance.writtenSince), when known
 * and the size held; otherwise every page is compared. `unknown`: the store may hold pages of this
 * memory that `previous` does not show (after a failed write), so every zero page is deleted.
 */
function pagesOf(
  prefix: string,
  current: Uint8Array,
  previous: Uint8Array | undefined,
  batch: Map<string, Uint8Array | undefined>,
  candidates: number[] | undefined,
  unknown: boolean,
  /** The key index of `current`'s first chunk (a window of a memory, as stablePagesOf passes). */
  firstIndex = 0,
): Uint8Array {
  // The copy reuses the previous one when the size held: only changed pages are copied.
  const copy = previous && previous.length === current.length ? previous : current.slice();
  const wc = words(current);
  const wp = previous && words(previous);
  const pages = candidates && copy === previous ? candidates : undefined;
  const count = pages ? pages.length : Math.ceil(current.length / CHUNK);
  for (let n = 0; n < count; n++) {
    const index = pages ? pages[n] : n;
    const offset = index * CHUNK;
    if (offset >= current.length) continue;
    const end = Math.min(offset + CHUNK, current.length);
    if (previous && samePage(current, previous, offset, end, wc, wp)) continue;
    // A page of zeros is not stored (readPages leaves zeros where no page is): Motoko reserves
    // megabytes of heap it has not written, and every visit reads back what is stored. It is
    // deleted only where the store can hold a page: one `previous` shows (non-zero there, as it
    // differs), or any after a failed write. A new canister's or a grown memory's zero pages cost
    // nothing; deleting them cost IndexedDB a request each (10,266 of them when the
    // horizontal-scaling demo installs its eight workers, a quarter of a second of the worker).
    const key = `${prefix}/${firstIndex + index}`;
    if (zeroPage(current, offset, end, wc)) {
      if (unknown || (previous && end <= previous.length)) batch.set(key, undefined);
    } else batch.set(key, current.slice(offset, end));
    if (copy !== current) copy.set(current.subarray(offset, end), offset);
  }
  // Pages past the end of a memory that shrank (a reinstall) are dropped.
  for (let offset = Math.ceil(current.length / CHUNK) * CHUNK, index = offset / CHUNK; previous && offset < previous.length; offset += CHUNK, index++) {
    batch.set(`${prefix}/${firstIndex + index}`, undefined);
  }
  return copy;
}

/**
 * pagesOf for stable memory when only `pages` (64 KiB, StableMemory.writtenSince) can differ from
 * `previous`, the copy of it the last commit stored (same size): reads and compares those pages
 * only, each as a window of `previous`, which pagesOf brings up to date.
 */
function stablePagesOf(prefix: string, stable: StableMemory, previous: Uint8Array, pages: number[], batch: Map<string, Uint8Array | undefined>): Uint8Array {
  for (const page of pages) {
    const start = page * WASM_PAGE;
    if (start >= previous.length) continue;
    const current = stable.read(start, Math.min(WASM_PAGE, previous.length - start));
    pagesOf(prefix, current, previous.subarray(start, start + current.length), batch, undefined, false, start / CHUNK);
  }
  return previous;
}

type Batch = Map<string, Uint8Array | undefined>;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const DELETED = 0xffffffff;

/** A journal entry: u32 count, then per key u16 length, the key (UTF-8), u32 length (DELETED for a deletion) and the bytes. */
function encodeJournalEntry(batch: Batch): Uint8Array {
  const keys = [...batch.keys()].map((key) => textEncoder.encode(key));
  let size = 4;
  let i = 0;
  for (const value of batch.values()) size += 2 + keys[i++].length + 4 + (value?.length ?? 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, batch.size);
  let at = 4;
  i = 0;
  for (const value of batch.values()) {
    const key = keys[i++];
    view.setUint16(at, key.length);
    out.set(key, at + 2);
    at += 2 + key.length;
    view.setUint32(at, value ? value.length : DELETED);
    at += 4;
    if (value) {
      out.set(value, at);
      at += value.length;
    }
  }
  return out;
}

function decodeJournalEntry(name: string, bytes: Uint8Array): Batch {
  const fail = (): never => {
    throw new StateFormatError(`the journal entry ${name} is damaged`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batch: Batch = new Map();
  if (bytes.length < 4) fail();
  const count = view.getUint32(0);
  let at = 4;
  for (let n = 0; n < count; n++) {
    if (at + 2 > bytes.length) fail();
    const keyLength = view.getUint16(at);
    if (at + 2 + keyLength + 4 > bytes.length) fail();
    const key = textDecoder.decode(bytes.subarray(at + 2, at + 2 + keyLength));
    at += 2 + keyLength;
    const length = view.getUint32(at);
    at += 4;
    if (length === DELETED) batch.set(key, undefined);
    else {
      if (at + length > bytes.length) fail();
      batch.set(key, bytes.slice(at, at + length));
      at += length;
    }
  }
  if (at !== bytes.length) fail();
  return batch;
}

/** The bytes a batch puts (an entry's size, near enough). */
function batchBytes(batch: Batch): number {
  let size = 0;
  for (const [key, value] of batch) size += key.length + 6 + (value?.length ?? 0);
  return size;
}

/** Journal keys sort as numbers do. */
const journalKey = (n: number) => `${JOURNAL_PREFIX}${String(n).padStart(12, '0')}`;

/**
 * The store as its journal leaves it: the keys, then each journal entry's batch over them in
 * order (what restore() reads). Reads only; the journal keys themselves are not shown.
 */
class JournaledView implements Pick<ReplicaStore, 'get' | 'keys' | 'entries'> {
  readonly #store: ReplicaStore;
  readonly #overlay: Batch;
  constructor(store: ReplicaStore, overlay: Batch) {
    this.#store = store;
    this.#overlay = overlay;
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.#overlay.has(key) ? this.#overlay.get(key) : this.#store.get(key);
  }
  async keys(prefix: string): Promise<string[]> {
    const merged = new Set((await this.#store.keys(prefix)).filter((key) => !key.startsWith(JOURNAL_PREFIX)));
    for (const [key, value] of this.#overlay) {
      if (!key.startsWith(prefix)) continue;
      if (value === undefined) merged.delete(key);
      else merged.add(key);
    }
    return [...merged].sort();
  }
  async entries(prefix: string): Promise<Array<[string, Uint8Array]>> {
    const merged = new Map((await this.#store.entries(prefix)).filter(([key]) => !key.startsWith(JOURNAL_PREFIX)));
    for (const [key, value] of this.#overlay) {
      if (!key.startsWith(prefix)) continue;
      if (value === undefined) merged.delete(key);
      else merged.set(key, value);
    }
    return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** Reads the journal: its entries' batches in order, merged; the keys and the next entry number. */
async function readJournal(store: ReplicaStore): Promise<{ batches: Batch[]; overlay: Batch; keys: string[]; next: number }> {
  const entries = await store.entries(JOURNAL_PREFIX);
  const batches: Batch[] = [];
  const overlay: Batch = new Map();
  let next = 0;
  for (const [key, bytes] of entries) {
    const n = Number(key.slice(JOURNAL_PREFIX.length));
    if (!Number.isSafeInteger(n) || key !== journalKey(n)) throw new StateFormatError(`${key} is not a journal entry's key`);
    const batch = decodeJournalEntry(key, bytes);
    batches.push(batch);
    for (const [k, v] of batch) overlay.set(k, v);
    next = n + 1;
  }
  return { batches, overlay, keys: entries.map(([key]) => key), next };
}

/**
 * The state as stored, for a reader outside KvState (tests, tools): `prefix`'s entries with the
 * journal applied, as restore() reads them.
 */
export async function storedEntries(store: ReplicaStore, prefix: string): Promise<Array<[string, Uint8Array]>> {
  const { overlay } = await readJournal(store);
  return new JournaledView(store, overlay).entries(prefix);
}

async function readPages(store: Pick<ReplicaStore, 'entries'>, prefix: string, size: number, unit: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  for (const [key, bytes] of await store.entries(`${prefix}/`)) {
    const index = Number(key.slice(prefix.length + 1));
    if (!Number.isInteger(index) || index * unit + bytes.length > size) throw new StateFormatError(`${key} lies outside a memory of ${size} bytes`);
    out.set(bytes, index * unit);
  }
  return out;
}

/** The 4 KiB chunks of the 64 KiB pages WasmInstance.writtenSince names. */
function chunksOf(pages: number[] | undefined): number[] | undefined {
  if (!pages) return undefined;
  const chunks: number[] = [];
  for (const page of pages) for (let c = 0; c < CHUNKS_PER_DIRTY_PAGE; c++) chunks.push(page * CHUNKS_PER_DIRTY_PAGE + c);
  return chunks;
}

export class KvState {
  readonly store: ReplicaStore;
  #written = new Map<string, Written>();
  #modules = new Set<string>();
  #management: Uint8Array = new Uint8Array();
  /** Completed calls (by request id, hex) this view holds as stored, and keys a failed write may have left. */
  #storedCalls = new Set<string>();
  #maybeStoredCalls = new Set<string>();
  /**
   * Request ids (hex) of the calls the ingress source hands out: IngressRegistry hands out the
   * same objects at every commit, so each id is spelled out once, not once per commit per call.
   */
  #callIds = new WeakMap<CompletedCall, string>();
  /** The store holds the older single `calls` value. */
  #callsValue = false;
  #scheduler: Uint8Array = new Uint8Array();
  #inflight: Uint8Array = new Uint8Array();
  /** The format the store holds (undefined: nothing yet); a commit rewrites older formats. */
  #format: number | undefined;
  /**
   * Memories stored as 64 KiB pages (formats 1 and 2), by key prefix and size: the next commit
   * deletes those keys and writes every memory anew in chunks, in the same batch.
   */
  #legacyMemories = new Map<string, number>();
  /**
   * A write failed since the last one that succeeded: the store may hold memory pages the view
   * (#written) does not show, so the next commit deletes every zero page instead of only those the
   * view shows stored.
   */
  #unknownPages = false;
  /**
   * Canisters whose keys the store may hold though the view (#written) does not show them (it is
   * dropped when a write fails), with the largest memory sizes (bytes) they may have been stored
   * at: a canister deleted since is deleted from the store, and chunks past a memory's present end
   * are, by the next commit.
   */
  #maybeStored = new Map<string, StoredSizes>();
  /** The write of the last commit taken: the next one waits for it, so batches land in order. */
  #lastWrite: Promise<void> = Promise.resolve();
  /** Writes not yet settled: with none, a commit's write starts at once. */
  #writing = 0;
  /** The batches of the journal entries taken since the last fold was taken, in order (the next fold writes them into the keys). */
  #journal: Batch[] = [];
  /** Journal keys the store may hold: a fold deletes them all (they leave this set once it is stored). */
  #journalKeys = new Set<string>();
  #nextJournal = 0;
  /** A write failed: the next write folds the journal (the commit after a failure writes everything anyway). */
  #foldNext = false;
  readonly #journaled: boolean;

  /** `journal: false` writes every commit's keys directly (tests of what a commit writes use it). */
  constructor(store: ReplicaStore, options: { journal?: boolean } = {}) {
    this.store = store;
    this.#journaled = options.journal ?? true;
  }

  /** Resolves once every commit taken so far is stored; rejects when one of them failed. */
  written(): Promise<void> {
    return this.#lastWrite;
  }

  /** True when the store holds no state yet (a first visit, or after a reset). */
  async isEmpty(): Promise<boolean> {
    return (await this.store.get('format')) === undefined;
  }

  /**
   * Rebuilds canisters and the id allocator into a fresh engine, and returns the completed calls,
   * the calls in flight and the scheduler's state of the last commit. Throws StateFormatError when
   * the stored state is of another format or does not decode; the caller offers a reset.
   */
  async restore(scheduler: Scheduler, management: ManagementCanister): Promise<KvRestoreResult> {
    const format = await this.store.get('format');
    if (format === undefined) return { canisters: 0, completedCalls: [], inflightCalls: [] };
    const version = format.length === 1 ? format[0] : -1;
    if (!READABLE_FORMATS.has(version)) {
      throw new StateFormatError(
        `the saved replica state has format ${version}; this version of the site reads format${READABLE_FORMATS.size > 1 ? 's' : ''} ${[...READABLE_FORMATS].join(', ')}`,
      );
    }
    this.#format = version;
    try {
      // The journal's entries apply over the keys, in order; the next fold writes them into the keys.
      const journal = await readJournal(this.store);
      const store = new JournaledView(this.store, journal.overlay);
      this.#journal = journal.batches;
      this.#journalKeys = new Set(journal.keys);
      this.#nextJournal = journal.next;
      const managementBytes = await store.get('management');
      if (managementBytes) {
        management.allocatorState = fromCbor(decodeCbor(managementBytes)) as ManagementCanister['allocatorState'];
        this.#management = managementBytes;
      }
      const callBytes = await store.get('calls');
      const completedCalls = callBytes ? (decodeCbor(callBytes) as CborValue[]).map(callFromCbor) : [];
      this.#callsValue = callBytes !== undefined;
      for (const [key, bytes] of await store.entries('call/')) {
        completedCalls.push(callFromCbor(decodeCbor(bytes)));
        // The next commit deletes those the registry no longer remembers (pruned).
        this.#storedCalls.add(key.slice('call/'.length));
      }
      const schedulerBytes = await store.get('scheduler');
      const schedulerState = schedulerBytes ? ((fromCbor(decodeCbor(schedulerBytes)) as SchedulerState | null) ?? undefined) : undefined;
      if (schedulerBytes) this.#scheduler = schedulerBytes;
      const inflightBytes = await store.get('inflight');
      const inflightCalls = inflightBytes ? (decodeCbor(inflightBytes) as CborValue[]).map(inflightFromCbor) : [];
      if (inflightBytes) this.#inflight = inflightBytes;
      const metaKeys = (await store.keys('canister/')).filter((k) => k.endsWith('/meta'));
      // Canisters are read and their modules compiled side by side (IndexedDB reads and
      // WebAssembly.compile overlap), then added to the scheduler in key order, as one by one.
      const restoredCanisters = await Promise.all(
        metaKeys.map(async (key) => {
          const id = key.slice('canister/'.length, -'/meta'.length);
          const metaBytes = (await store.get(key))!;
          const meta = decodeCbor(metaBytes) as CborMap;
          const canister = new Canister(Principal.fromText(id), [], 0n, 0n);
          applyCanisterRecord(canister, decodeCanisterRecord(meta.fields as CborValue));
          // Without the scheduler's state its open calls did not survive; with it, it stops when they finish.
          if (canister.status === 'stopping' && !schedulerState) canister.status = 'stopped';
          const unit = version >= 3 ? CHUNK : LEGACY_PAGE;
          const [heap, stableBytes, snapshotBytes] = await Promise.all([
            readPages(store, `canister/${id}/heap`, meta.heapSize as number, unit),
            readPages(store, `canister/${id}/stable`, meta.stableSize as number, unit),
            store.get(`canister/${id}/snapshots`),
          ]);
          if (unit !== CHUNK) {
            this.#legacyMemories.set(`canister/${id}/heap`, heap.length);
            this.#legacyMemories.set(`canister/${id}/stable`, stableBytes.length);
          }
          if (meta.moduleHash instanceof Uint8Array) {
            const hash = toHex(meta.moduleHash);
            const moduleBytes = await store.get(`module/${hash}`);
            if (!moduleBytes) throw new StateFormatError(`canister ${id} runs module ${hash}, which the saved state lacks`);
            const module = await loadModule(moduleBytes, scheduler.moduleOptions);
            this.#modules.add(hash);
            const instance = canister.instantiate(module);
            instance.restore({ memory: heap, globals: fromCbor(meta.globals as CborValue) as (number | bigint)[] });
            canister.instance = instance;
          }
          canister.stable = stableFrom(stableBytes);
          // What is stored is this memory now: the first commit compares only what is written after.
          canister.stable.writtenSince(this);
          canister.snapshots = await decodeSnapshots(snapshotBytes ? (decodeCbor(snapshotBytes) as CborValue[]) : [], scheduler.moduleOptions, (hash) =>
            store.get(`module/${toHex(hash)}`),
          );
          return { id, canister, written: { meta: metaBytes, snapshots: snapshotSetKey(canister), heap, stable: stableBytes, stableSource: canister.stable } };
        }),
      );
      for (const { id, canister, written } of restoredCanisters) {
        scheduler.canisters.set(id, canister);
        this.#written.set(id, written);
      }
      return { canisters: metaKeys.length, completedCalls, inflightCalls, schedulerState };
    } catch (error) {
      if (error instanceof StateFormatError) throw error;
      throw new StateFormatError(`the saved replica state does not decode: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Writes what changed since the last commit in one atomic batch; false when nothing did.
   * Everything is captured before this returns its promise (synchronously, at the call), so the
   * state written is the state of that moment whatever runs while the write is under way. A
   * failed write throws, and so does every commit taken while it was under way (their batches
   * were computed against it); the next commit then writes everything.
   */
  commit(scheduler: Scheduler, management: ManagementCanister, ingress?: IngressSource): Promise<boolean> {
    const batch = new Map<string, Uint8Array | undefined>();
    const seen = new Set<string>();
    const next = new Map<string, Written>();
    // Formats 1 and 2: their pages go, and every memory is written whole (chunks set below replace these deletions).
    const legacy = this.#legacyMemories;
    const unknown = this.#unknownPages;
    for (const [prefix, size] of legacy) for (let n = 0; n * LEGACY_PAGE < size; n++) batch.set(`${prefix}/${n}`, undefined);
    for (const [id, canister] of scheduler.canisters) {
      seen.add(id);
      const prev = this.#written.get(id);
      const module = canister.instance?.module;
      if (module && !this.#modules.has(toHex(module.hash))) {
        batch.set(`module/${toHex(module.hash)}`, module.bytes);
        this.#modules.add(toHex(module.hash));
      }
      const heap = canister.instance ? new Uint8Array(canister.instance.memory.buffer) : new Uint8Array();
      const stableMemory = canister.stable;
      const stableWritten = stableMemory.writtenSince(this);
      const meta = encodeCbor({
        fields: encodeCanisterRecord(canister),
        moduleHash: module ? module.hash : null,
        globals: toCbor(canister.instance?.globals.map((g) => g.value) ?? []) ?? [],
        heapSize: heap.length,
        stableSize: stableMemory.byteLength,
      });
      if (!prev || !equalBytes(prev.meta, meta)) batch.set(`canister/${id}/meta`, meta);
      // Only the pages written since this store's last commit can differ (all of them after a restore, a reinstall, or without dirty tracking).
      const written = canister.instance?.writtenSince(this);
      // Formats 1 and 2: the legacy pages' deletions above cover every key the store holds.
      const heapCopy = pagesOf(`canister/${id}/heap`, heap, legacy.size ? undefined : prev?.heap, batch, chunksOf(written), unknown);
      // Stable memory: only the pages written since, when the last commit stored this same memory at this size.
      const stableCopy =
        prev && !legacy.size && stableWritten && prev.stableSource === stableMemory && prev.stable.length === stableMemory.byteLength
          ? stablePagesOf(`canister/${id}/stable`, stableMemory, prev.stable, stableWritten, batch)
          : pagesOf(
              `canister/${id}/stable`,
              stableMemory.byteLength > 0 ? stableMemory.read(0, stableMemory.byteLength) : new Uint8Array(),
              legacy.size ? undefined : prev?.stable,
              batch,
              undefined,
              unknown,
            );
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
      next.set(id, { meta, snapshots, heap: heapCopy, stable: stableCopy, stableSource: stableMemory });
    }
    // A deleted canister: every key it had, known from what was last written of it (or, after a
    // failed write, from the sizes it may have been stored at).
    const deleteChunks = (prefix: string, from: number, to: number) => {
      for (let n = Math.ceil(from / CHUNK); n * CHUNK < to; n++) batch.set(`${prefix}/${n}`, undefined);
    };
    const deleteCanister = (id: string, sizes: StoredSizes) => {
      batch.set(`canister/${id}/meta`, undefined);
      batch.set(`canister/${id}/snapshots`, undefined);
      deleteChunks(`canister/${id}/heap`, 0, sizes.heap);
      deleteChunks(`canister/${id}/stable`, 0, sizes.stable);
    };
    for (const [id, written] of this.#written) if (!next.has(id)) deleteCanister(id, storedSizes(written));
    const maybeStored = this.#maybeStored;
    for (const [id, sizes] of maybeStored) {
      const present = next.get(id);
      if (!present) deleteCanister(id, sizes);
      else {
        // Stored at a larger size before a failed write: the chunks past the present end go (pagesOf
        // does this when the view knows the stored size).
        deleteChunks(`canister/${id}/heap`, present.heap.length, sizes.heap);
        deleteChunks(`canister/${id}/stable`, present.stable.length, sizes.stable);
      }
    }
    const managementBytes = encodeCbor(toCbor(management.allocatorState) ?? null);
    if (!equalBytes(managementBytes, this.#management)) batch.set('management', managementBytes);
    // A completed call never changes: each is written once, when it first appears, and deleted
    // once pruned, so a commit costs the same with ten calls remembered or ten thousand.
    const storedCalls = new Set<string>();
    for (const call of ingress?.completedCalls() ?? []) {
      let id = this.#callIds.get(call);
      if (id === undefined) this.#callIds.set(call, (id = toHex(call.requestId)));
      storedCalls.add(id);
      if (!this.#storedCalls.has(id)) batch.set(`call/${id}`, encodeCbor(callToCbor(call)));
    }
    for (const keys of [this.#storedCalls, this.#maybeStoredCalls]) for (const id of keys) if (!storedCalls.has(id)) batch.set(`call/${id}`, undefined);
    const callsValue = this.#callsValue;
    if (callsValue) batch.set('calls', undefined);
    // The scheduler's state and the calls in flight, from this same synchronous moment as the memories.
    const schedulerBytes = encodeCbor(toCbor(scheduler.snapshot()) ?? null);
    if (!equalBytes(schedulerBytes, this.#scheduler)) batch.set('scheduler', schedulerBytes);
    const inflightBytes = encodeCbor((ingress?.inflightCalls() ?? []).map(inflightToCbor));
    if (!equalBytes(inflightBytes, this.#inflight)) batch.set('inflight', inflightBytes);
    if (this.#format !== KV_STATE_FORMAT && batch.size > 0) batch.set('format', Uint8Array.of(KV_STATE_FORMAT));
    if (batch.size === 0) return this.#lastWrite.then(() => false); // durable once earlier writes are

    // The view of what is stored follows now, so the next commit diffs against this one.
    this.#format = KV_STATE_FORMAT;
    this.#legacyMemories = new Map();
    this.#unknownPages = false;
    const before = this.#written;
    this.#maybeStored = new Map();
    this.#written = next;
    this.#management = managementBytes;
    const maybeStoredCalls = [...this.#storedCalls, ...this.#maybeStoredCalls];
    this.#storedCalls = storedCalls;
    this.#maybeStoredCalls = new Set();
    this.#callsValue = false;
    this.#scheduler = schedulerBytes;
    this.#inflight = inflightBytes;
    const chain: Promise<void> = this.#write(batch).catch((error: unknown) => {
      // This commit's view (and that of any commit taken since) assumed this write: forget it,
      // so the next commit writes everything. Commits queued behind this one fail with it.
      this.#written.clear();
      // Whatever pages of it reached the store, none is in the view now.
      this.#unknownPages = true;
      // The canisters the store may hold: those of the view it was assumed to hold, of this batch, and any still unresolved.
      const keep = (id: string, sizes: StoredSizes) => {
        const known = this.#maybeStored.get(id);
        this.#maybeStored.set(id, { heap: Math.max(sizes.heap, known?.heap ?? 0), stable: Math.max(sizes.stable, known?.stable ?? 0) });
      };
      for (const [id, sizes] of maybeStored) keep(id, sizes);
      for (const view of [before, next]) for (const [id, written] of view) keep(id, storedSizes(written));
      this.#modules.clear();
      this.#management = new Uint8Array();
      // Any call this commit or an earlier view touched may or may not be stored: the next commit puts every remembered call and deletes the rest.
      for (const id of [...maybeStoredCalls, ...storedCalls]) this.#maybeStoredCalls.add(id);
      this.#storedCalls.clear();
      this.#callsValue ||= callsValue;
      this.#scheduler = new Uint8Array();
      this.#inflight = new Uint8Array();
      this.#format = undefined;
      // Still in the old layout if this was the commit that rewrote it.
      for (const [prefix, size] of legacy) this.#legacyMemories.set(prefix, size);
      if (this.#lastWrite === chain) this.#lastWrite = Promise.resolve();
      throw error;
    });
    this.#lastWrite = chain;
    return chain.then(() => true);
  }

  /**
   * Folds the journal into the keys it holds, in one batch (the page backend calls it when the
   * replica is idle); resolves once stored, false when there was nothing to fold.
   */
  compact(): Promise<boolean> {
    if (this.#journal.length === 0 && this.#journalKeys.size === 0) return this.#lastWrite.then(() => false);
    const chain: Promise<void> = this.#write(new Map(), true).catch((error: unknown) => {
      if (this.#lastWrite === chain) this.#lastWrite = Promise.resolve();
      throw error;
    });
    this.#lastWrite = chain;
    return chain.then(() => true);
  }

  /**
   * Hands `batch` to the store after the writes already taken: as one journal entry when it is
   * small and the journal has room, else folded with the journal into the keys themselves (a
   * commit that changes the format always is: the format key is never in the journal).
   */
  #write(batch: Batch, fold = false): Promise<void> {
    fold ||=
      !this.#journaled || this.#foldNext || batch.has('format') || this.#journal.length >= JOURNAL_MAX_ENTRIES || batchBytes(batch) > JOURNAL_ENTRY_MAX_BYTES;
    let out: Batch;
    let folded: Batch[] = [];
    let foldedKeys: string[] = [];
    if (fold) {
      folded = this.#journal;
      foldedKeys = [...this.#journalKeys];
      out = new Map();
      for (const entry of folded) for (const [key, value] of entry) out.set(key, value);
      for (const [key, value] of batch) out.set(key, value);
      for (const key of foldedKeys) out.set(key, undefined);
      this.#journal = [];
      this.#foldNext = false;
    } else {
      const key = journalKey(this.#nextJournal++);
      out = new Map([[key, encodeJournalEntry(batch)]]);
      this.#journal.push(batch);
      this.#journalKeys.add(key);
    }
    // With no write under way the batch goes to the store now, synchronously: IndexedDB then
    // works on it while this thread goes on (the certificate's signature), not after.
    const write = this.#writing === 0 ? startWrite(this.store, out) : this.#lastWrite.then(() => this.store.writeBatch(out));
    this.#writing++;
    return write
      .finally(() => this.#writing--)
      .then(
        () => {
          for (const key of foldedKeys) this.#journalKeys.delete(key);
        },
        (error: unknown) => {
          // Entries a failed fold took are still stored (a batch lands whole or not at all): the next
          // fold takes them again, before those taken since. A failed entry's batch stays in the
          // journal too: the commit after a failure rewrites every key, over it.
          if (fold) this.#journal = [...folded, ...this.#journal];
          this.#foldNext = true;
          throw error;
        },
      );
  }
}

function startWrite(store: ReplicaStore, batch: Map<string, Uint8Array | undefined>): Promise<void> {
  try {
    return store.writeBatch(batch);
  } catch (error) {
    return Promise.reject(error);
  }
}
