// The replica's state on disk (<state-dir>/state.log): an append-only log of commits. Each commit
// holds what changed since the previous one (canister records, 64 KiB pages of main and stable
// memory that differ, new modules, completed calls with their replies, and, whenever they changed,
// the scheduler's whole state and the calls in flight) and is fsync'ed before any
// certificate reveals the calls it contains, so an update answered as replied survives kill -9.
// The first record of a log is a full checkpoint; when the log grows past a few checkpoints' worth
// it is rewritten (temp file, fsync, rename).
//
// Framing: [u32 length][u32 CRC-32 of the payload][payload: CBOR map with `format`]. On load, a
// damaged record at the very end (a crash mid-write) is dropped; a damaged record followed by a
// valid one means the log was corrupted in place, and loading refuses rather than silently
// forgetting every later commit.
//
// Faults: when a write fails (disk full, EIO) the log is cut back to its last good record and the
// next commit is a full checkpoint, so a failed commit never hides the ones after it; the commit
// throws and its calls are not certified. When an fsync fails the disk may have dropped data that
// was already acknowledged, so the store stops accepting commits and reports it as fatal (the
// replica exits with a message). What the store believes is on disk (the page copies it diffs
// against) changes only after a write succeeded.

import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Principal } from '@dfinity/principal';
import { decodeCbor, encodeCbor, type CborMap, type CborValue } from '../certification/cbor.ts';
import { toHex } from '../ic/bytes.ts';
import { Canister } from '../execution/canister.ts';
import { loadModule } from '../execution/module.ts';
import type { ManagementCanister } from '../management/management-canister.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { CompletedCall, InflightCall } from '../http/ingress.ts';
import type { SchedulerState } from '../scheduler/state.ts';
import {
  applyCanisterRecord,
  callFromCbor,
  callToCbor,
  decodeCanisterRecord,
  decodeCanisterRecordV1,
  decodeSnapshots,
  encodeCanisterRecord,
  encodeSnapshots,
  fromCbor,
  snapshotSetKey,
  stableFrom,
  toCbor,
  type CanisterRecord,
} from './canister-codec.ts';
import { lockStateDir, type StateDirLock } from './state-lock.ts';

const LOG = 'state.log';
const PAGE = 65536;
/** The format this replica writes; see canister-codec.ts for the history. */
export const STORE_FORMAT = 2;
const READABLE_FORMATS = new Set([1, 2]);
/** A checkpoint is forced once the log holds this many times the last checkpoint (at least 16 MiB). */
const LOG_GROWTH_FACTOR = 4;
const MIN_CHECKPOINT_BYTES = 16 * 1024 * 1024;
const HEADER = 8;
/** Every payload starts with CBOR's self-describe tag: used to spot valid records after a damaged one. */
const PAYLOAD_MAGIC = [0xd9, 0xd9, 0xf7];

/** The file operations the store uses; tests pass a wrapper that injects faults (ENOSPC, EIO, failed fsync). */
export type StoreFs = Pick<
  typeof nodeFs,
  'openSync' | 'writeSync' | 'fsyncSync' | 'ftruncateSync' | 'closeSync' | 'renameSync' | 'rmSync' | 'readFileSync' | 'existsSync' | 'mkdirSync'
> & {
  fsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
};

export interface DiskStoreOptions {
  fs?: StoreFs;
  /**
   * Told when an fsync failed: data already acknowledged may not be on disk, so the replica must
   * stop (the CLI prints the message and exits). The store refuses further commits either way.
   */
  onFatal?: (error: StoreFatalError) => void;
}

/** A commit could not be written; the log was cut back and nothing in it was acknowledged. */
export class StoreWriteError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StoreWriteError';
  }
}

/** The disk may have lost acknowledged data (fsync failed): the replica must stop. */
export class StoreFatalError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StoreFatalError';
  }
}

/** The log is damaged in a way a crash cannot explain; it is not loaded. */
export class CorruptLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptLogError';
  }
}

// ---- memory diffs ---------------------------------------------------------------------------

function changedPages(current: Uint8Array, previous: Uint8Array | undefined): Array<[number, Uint8Array]> {
  const pages: Array<[number, Uint8Array]> = [];
  for (let offset = 0; offset < current.length; offset += PAGE) {
    const end = Math.min(offset + PAGE, current.length);
    const page = current.subarray(offset, end);
    if (previous && end <= previous.length && Buffer.compare(page, previous.subarray(offset, end)) === 0) continue;
    pages.push([offset / PAGE, page.slice()]);
  }
  return pages;
}

function applyPages(base: Uint8Array, size: number, pages: CborValue[]): Uint8Array {
  const out =
    base.length === size
      ? base
      : (() => {
          const grown = new Uint8Array(size);
          grown.set(base.subarray(0, Math.min(size, base.length)));
          return grown;
        })();
  for (const entry of pages) {
    const [index, bytes] = entry as [number, Uint8Array];
    out.set(bytes, index * PAGE);
  }
  return out;
}

interface PersistedCanister {
  meta: string; // encoded record, compared as hex to detect changes
  snapshots: string; // ids and times of the canister's snapshots, to detect changes
  moduleHash?: string;
  heap: Uint8Array;
  globals: string;
  stable: Uint8Array;
}

/** The ingress registry, as the store sees it (http/ingress.ts). */
export interface CompletedCallSource {
  completedCalls(): CompletedCall[];
  takeChanges(): { completed: CompletedCall[]; pruned: Uint8Array[] };
  /** Calls accepted and still executing: written with the scheduler's state, in the same commit. */
  inflightCalls?(): InflightCall[];
}

const inflightToCbor = (c: InflightCall): CborValue => [c.requestId, c.sender, c.canisterId, c.effectiveCanisterId, c.ingressExpiry];
const inflightFromCbor = (v: CborValue): InflightCall => {
  const [requestId, sender, canisterId, effectiveCanisterId, ingressExpiry] = v as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, number | bigint];
  return { requestId, sender, canisterId, effectiveCanisterId, ingressExpiry: BigInt(ingressExpiry) };
};

/** Where the next valid record starts at or after `from`, if any. */
function nextValidRecord(bytes: Uint8Array, from: number): number | undefined {
  for (let i = from; i + HEADER + PAYLOAD_MAGIC.length <= bytes.length; i++) {
    if (bytes[i + HEADER] !== PAYLOAD_MAGIC[0] || bytes[i + HEADER + 1] !== PAYLOAD_MAGIC[1] || bytes[i + HEADER + 2] !== PAYLOAD_MAGIC[2]) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset + i, HEADER);
    const length = view.getUint32(0);
    if (length < PAYLOAD_MAGIC.length || i + HEADER + length > bytes.length) continue;
    if (crc32(bytes.subarray(i + HEADER, i + HEADER + length)) === view.getUint32(4)) return i;
  }
  return undefined;
}

export interface RestoreResult {
  canisters: number;
  completedCalls: CompletedCall[];
  /** Calls that were executing at the last commit (give them to HttpInterface.restoreInflightCalls). */
  inflightCalls: InflightCall[];
  /**
   * The scheduler's state at the last commit (queues, call contexts, callbacks, paused executions),
   * from the same moment as the canisters: hand it to scheduler.restore() once whoever records
   * the restored calls' outcomes is listening. Absent in logs written before it was kept.
   */
  schedulerState?: SchedulerState;
  /** Bytes of a damaged last record that were dropped (a crash in the middle of a write). */
  droppedTailBytes: number;
  /** The format of the newest record read (older formats are rewritten by the next checkpoint). */
  format: number | undefined;
}

export class DiskStore {
  readonly dir: string;
  #path: string;
  #fs: StoreFs;
  #lock: StateDirLock | undefined;
  #onFatal: ((error: StoreFatalError) => void) | undefined;
  #fd: number | undefined;
  #persisted = new Map<string, PersistedCanister>();
  #modulesWritten = new Set<string>();
  #management = '';
  #schedulerMeta = '';
  #inflightMeta = '';
  #logBytes = 0;
  #checkpointBytes = 0;
  /** Set after a failed write: the next commit rewrites everything. */
  #needCheckpoint = false;
  /** Set after a failed fsync: nothing more is committed. */
  #fatal: StoreFatalError | undefined;

  /** Opens (creating) the directory and takes its lock; throws StateDirInUseError if another replica holds it. */
  static async open(dir: string, options: DiskStoreOptions = {}): Promise<DiskStore> {
    (options.fs ?? nodeFs).mkdirSync(dir, { recursive: true });
    const lock = await lockStateDir(dir);
    return new DiskStore(dir, lock, options);
  }

  private constructor(dir: string, lock: StateDirLock, options: DiskStoreOptions) {
    this.dir = dir;
    this.#fs = options.fs ?? nodeFs;
    this.#path = join(dir, LOG);
    this.#lock = lock;
    this.#onFatal = options.onFatal;
  }

  /**
   * Rebuilds canisters and the id allocator from the log into a fresh engine; returns how many
   * canisters, and the completed calls to hand to HttpInterface.restoreCompletedCalls.
   */
  async restore(scheduler: Scheduler, management: ManagementCanister): Promise<RestoreResult> {
    if (!this.#fs.existsSync(this.#path)) return { canisters: 0, completedCalls: [], inflightCalls: [], droppedTailBytes: 0, format: undefined };
    const calls = new Map<string, CompletedCall>();
    const bytes = new Uint8Array(this.#fs.readFileSync(this.#path));
    const state = new Map<
      string,
      { record?: CanisterRecord; module?: Uint8Array; heap: Uint8Array; globals: unknown[]; stable: Uint8Array; snapshots?: CborValue[] }
    >();
    const modules = new Map<string, Uint8Array>();
    let managementFields: unknown;
    let schedulerState: SchedulerState | undefined;
    let inflight: InflightCall[] = [];
    let offset = 0;
    let format: number | undefined;
    let droppedTailBytes = 0;
    while (offset < bytes.length) {
      let damage: string | undefined;
      let length = 0;
      if (offset + HEADER > bytes.length) damage = 'its header is cut short';
      else {
        const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER);
        length = view.getUint32(0);
        if (offset + HEADER + length > bytes.length) damage = `it claims ${length} bytes but the file ends first`;
        else if (crc32(bytes.subarray(offset + HEADER, offset + HEADER + length)) !== view.getUint32(4)) damage = 'its checksum does not match';
      }
      if (damage) {
        const later = nextValidRecord(bytes, offset + 1);
        if (later !== undefined) {
          throw new CorruptLogError(
            `${this.#path} is damaged: the record at byte ${offset} is unreadable (${damage}) but a valid record follows at byte ${later}, ` +
              'so commits after the damage would be lost. The replica does not load it; restore the state directory from a backup, or move it away to start fresh',
          );
        }
        droppedTailBytes = bytes.length - offset; // a torn last write: the commit before it stands
        break;
      }
      let record: CborMap;
      try {
        record = decodeCbor(bytes.subarray(offset + HEADER, offset + HEADER + length)) as CborMap;
      } catch (error) {
        throw new CorruptLogError(`${this.#path}: the record at byte ${offset} passes its checksum but is not valid CBOR (${(error as Error).message})`);
      }
      offset += HEADER + length;
      const recordFormat = record.format as number;
      if (!READABLE_FORMATS.has(recordFormat)) {
        throw new Error(
          `${this.#path} has a record in format ${String(recordFormat)}, which this replica cannot read (it reads ${[...READABLE_FORMATS].join(', ')}); ` +
            'it was written by a newer replica version',
        );
      }
      format = recordFormat;
      if (record.full) {
        state.clear();
        calls.clear();
        schedulerState = undefined;
        inflight = [];
      }
      if (record.scheduler !== undefined) schedulerState = fromCbor(record.scheduler) as SchedulerState;
      if (record.inflight !== undefined) inflight = (record.inflight as CborValue[]).map(inflightFromCbor);
      for (const c of (record.calls ?? []) as CborValue[]) {
        const call = callFromCbor(c);
        calls.set(toHex(call.requestId), call);
      }
      for (const id of (record.prunedCalls ?? []) as Uint8Array[]) calls.delete(toHex(id));
      for (const m of (record.modules ?? []) as CborMap[]) modules.set(toHex(m.hash as Uint8Array), m.bytes as Uint8Array);
      if (record.management) managementFields = fromCbor(record.management);
      for (const id of (record.removed ?? []) as string[]) state.delete(id);
      for (const c of (record.canisters ?? []) as CborMap[]) {
        const id = c.id as string;
        const prev = state.get(id) ?? { heap: new Uint8Array(), globals: [], stable: new Uint8Array() };
        if (c.fields) prev.record = recordFormat === 1 ? decodeCanisterRecordV1(c.fields) : decodeCanisterRecord(c.fields);
        if (c.moduleHash !== undefined) prev.module = c.moduleHash === null ? undefined : modules.get(toHex(c.moduleHash as Uint8Array));
        if (c.heapSize !== undefined) prev.heap = applyPages(prev.heap, c.heapSize as number, c.heapPages as CborValue[]);
        if (c.globals) prev.globals = fromCbor(c.globals) as unknown[];
        if (c.stableSize !== undefined) prev.stable = applyPages(prev.stable, c.stableSize as number, c.stablePages as CborValue[]);
        if (c.snapshots) prev.snapshots = c.snapshots as CborValue[];
        state.set(id, prev);
      }
    }
    this.#logBytes = offset;

    if (managementFields) management.allocatorState = managementFields as ManagementCanister['allocatorState'];
    for (const [id, saved] of state) {
      const principal = Principal.fromText(id);
      const canister = new Canister(principal, [], 0n, 0n);
      if (saved.record) applyCanisterRecord(canister, saved.record);
      // Without the scheduler's state its open calls did not survive; with it, it stops when they finish.
      if (canister.status === 'stopping' && !schedulerState) canister.status = 'stopped';
      if (saved.module) {
        const module = await loadModule(saved.module, scheduler.moduleOptions);
        const instance = canister.instantiate(module);
        instance.restore({ memory: saved.heap, globals: saved.globals as (number | bigint)[] });
        canister.instance = instance;
      }
      canister.stable = stableFrom(saved.stable);
      canister.snapshots = await decodeSnapshots(saved.snapshots ?? [], scheduler.moduleOptions, (hash) => modules.get(toHex(hash)));
      scheduler.canisters.set(id, canister);
    }
    this.#schedulerMeta = schedulerState ? toHex(encodeCbor(toCbor(schedulerState) ?? null)) : '';
    return { canisters: state.size, completedCalls: [...calls.values()], inflightCalls: inflight, schedulerState, droppedTailBytes, format };
  }

  /**
   * Appends and fsyncs a commit with everything that changed since the last one. Cheap when
   * nothing changed (a memcmp per memory page). Returns true when it wrote. Throws
   * StoreWriteError (nothing of this commit may be acknowledged) or StoreFatalError.
   */
  flush(scheduler: Scheduler, management: ManagementCanister, ingress?: CompletedCallSource): boolean {
    return this.#commit(scheduler, management, ingress, true) !== undefined;
  }

  /**
   * Like flush, but the fsync runs on libuv's thread pool: the commit is captured and written
   * now, and the promise settles once it is durable (undefined when there was nothing to write).
   */
  flushDurable(scheduler: Scheduler, management: ManagementCanister, ingress?: CompletedCallSource): Promise<void> | undefined {
    return this.#commit(scheduler, management, ingress, false);
  }

  #fail(message: string, cause: unknown): StoreFatalError {
    const error = new StoreFatalError(message, { cause });
    if (!this.#fatal) {
      this.#fatal = error;
      this.#onFatal?.(error);
    }
    return error;
  }

  #fsync(fd: number, what: string): void {
    try {
      this.#fs.fsyncSync(fd);
    } catch (error) {
      throw this.#fail(fsyncMessage(what, error), error);
    }
  }

  #commit(scheduler: Scheduler, management: ManagementCanister, ingress: CompletedCallSource | undefined, syncNow: boolean): Promise<void> | undefined {
    if (this.#fatal) throw this.#fatal;
    const full = this.#fd === undefined || this.#needCheckpoint || this.#logBytes > LOG_GROWTH_FACTOR * Math.max(this.#checkpointBytes, MIN_CHECKPOINT_BYTES);
    // What is on disk as far as this commit is concerned: nothing for a checkpoint.
    const baseline = full ? new Map<string, PersistedCanister>() : this.#persisted;
    const modulesOnDisk = full ? new Set<string>() : this.#modulesWritten;
    const newModules = new Set<string>();
    const canisters: CborMap[] = [];
    const modules: CborMap[] = [];
    /** Applied to the on-disk view only once the write succeeded. */
    const afterWrite: Array<() => void> = [];
    const addModule = (module: { hash: Uint8Array; bytes: Uint8Array }) => {
      const hash = toHex(module.hash);
      if (modulesOnDisk.has(hash) || newModules.has(hash)) return;
      newModules.add(hash);
      modules.push({ hash: module.hash, bytes: module.bytes });
    };
    const seen = new Set<string>();
    const nextView = new Map<string, PersistedCanister>();
    for (const [id, canister] of scheduler.canisters) {
      seen.add(id);
      const prev = baseline.get(id);
      const metaBytes = encodeCbor(encodeCanisterRecord(canister));
      const meta = toHex(metaBytes);
      const module = canister.instance?.module;
      const moduleHash = module ? toHex(module.hash) : undefined;
      const heap = canister.instance ? new Uint8Array(canister.instance.memory.buffer) : new Uint8Array();
      const globalValues = canister.instance?.globals.map((g) => g.value) ?? [];
      const globals = toHex(encodeCbor(toCbor(globalValues) ?? null));
      const stable = canister.stable.byteLength > 0 ? canister.stable.read(0, canister.stable.byteLength) : new Uint8Array();
      const record: CborMap = { id };
      if (!prev || prev.meta !== meta) record.fields = decodeCbor(metaBytes);
      if (!prev || prev.moduleHash !== moduleHash) {
        record.moduleHash = module ? module.hash : null;
        if (module) addModule(module);
      }
      const heapPages = changedPages(heap, prev?.heap);
      if (!prev || heapPages.length > 0 || heap.length !== prev.heap.length) {
        record.heapSize = heap.length;
        record.heapPages = heapPages;
      }
      if (!prev || prev.globals !== globals) record.globals = toCbor(globalValues) ?? [];
      // Snapshots are immutable once taken: written whole when the set changes.
      const snapshotKey = snapshotSetKey(canister);
      if (!prev || prev.snapshots !== snapshotKey) record.snapshots = encodeSnapshots(canister, addModule);
      const stablePages = changedPages(stable, prev?.stable);
      if (!prev || stablePages.length > 0 || stable.length !== prev.stable.length) {
        record.stableSize = stable.length;
        record.stablePages = stablePages;
      }
      if (Object.keys(record).length > 1) {
        canisters.push(record);
        // The copy of what will be on disk; an unchanged-size heap is patched page-wise later.
        const samePrevHeap = prev && prev.heap.length === heap.length ? prev.heap : undefined;
        const entry: PersistedCanister = { meta, snapshots: snapshotKey, moduleHash, heap: samePrevHeap ?? heap.slice(), globals, stable };
        if (samePrevHeap)
          afterWrite.push(() => {
            for (const [index, bytes] of heapPages) samePrevHeap.set(bytes, index * PAGE);
          });
        nextView.set(id, entry);
      } else if (prev) nextView.set(id, prev);
    }
    const removed = [...baseline.keys()].filter((id) => !seen.has(id));
    const managementMeta = toHex(encodeCbor(toCbor(management.allocatorState) ?? null));
    const managementChanged = managementMeta !== this.#management;
    const callChanges = ingress?.takeChanges() ?? { completed: [], pruned: [] };
    const calls = full ? (ingress?.completedCalls() ?? []) : callChanges.completed;
    const prunedCalls = full ? [] : callChanges.pruned;
    // The scheduler's state and the calls in flight, from this same synchronous moment as the
    // memories above: a callback and the call context it belongs to never come from two commits.
    const schedulerCbor = toCbor(scheduler.snapshot()) ?? null;
    const schedulerMeta = toHex(encodeCbor(schedulerCbor));
    const schedulerChanged = full || schedulerMeta !== this.#schedulerMeta;
    const inflightCbor = (ingress?.inflightCalls?.() ?? []).map(inflightToCbor);
    const inflightMeta = toHex(encodeCbor(inflightCbor));
    const inflightChanged = full || inflightMeta !== this.#inflightMeta;
    if (
      !full &&
      canisters.length === 0 &&
      removed.length === 0 &&
      !managementChanged &&
      calls.length === 0 &&
      prunedCalls.length === 0 &&
      !schedulerChanged &&
      !inflightChanged
    )
      return undefined;

    const payload = encodeCbor({
      format: STORE_FORMAT,
      full,
      modules,
      canisters,
      removed,
      management: toCbor(management.allocatorState) ?? null,
      calls: calls.map(callToCbor),
      prunedCalls,
      ...(schedulerChanged ? { scheduler: schedulerCbor } : {}),
      ...(inflightChanged ? { inflight: inflightCbor } : {}),
    });
    const frame = new Uint8Array(HEADER + payload.length);
    new DataView(frame.buffer).setUint32(0, payload.length);
    new DataView(frame.buffer).setUint32(4, crc32(payload));
    frame.set(payload, HEADER);

    let durable: Promise<void> | undefined;
    if (full) this.#writeCheckpoint(frame);
    else durable = this.#append(frame, syncNow);

    // Written: the on-disk view follows.
    for (const apply of afterWrite) apply();
    this.#persisted = nextView;
    for (const hash of newModules) this.#modulesWritten.add(hash);
    if (full) this.#modulesWritten = new Set(newModules);
    this.#management = managementMeta;
    this.#schedulerMeta = schedulerMeta;
    this.#inflightMeta = inflightMeta;
    this.#needCheckpoint = false;
    return durable ?? Promise.resolve();
  }

  /** A checkpoint starts a new log: written beside the old one, then swapped in atomically. */
  #writeCheckpoint(frame: Uint8Array): void {
    const fs = this.#fs;
    const temp = `${this.#path}.tmp`;
    let fd: number | undefined;
    try {
      fd = fs.openSync(temp, 'w');
      writeAll(fs, fd, frame);
    } catch (error) {
      if (fd !== undefined) closeQuietly(fs, fd);
      fs.rmSync(temp, { force: true });
      this.#needCheckpoint = true;
      throw new StoreWriteError(`could not write a checkpoint of the replica's state to ${temp}: ${describe(error)}; the previous log still stands`, {
        cause: error,
      });
    }
    this.#fsync(fd, temp);
    try {
      fs.renameSync(temp, this.#path);
    } catch (error) {
      closeQuietly(fs, fd);
      fs.rmSync(temp, { force: true });
      this.#needCheckpoint = true;
      throw new StoreWriteError(`could not move the checkpoint into place as ${this.#path}: ${describe(error)}`, { cause: error });
    }
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      this.#fsync(dirFd, this.dir);
    } finally {
      closeQuietly(fs, dirFd);
    }
    if (this.#fd !== undefined) closeQuietly(fs, this.#fd);
    this.#fd = fd;
    this.#checkpointBytes = this.#logBytes = frame.length;
  }

  #append(frame: Uint8Array, syncNow: boolean): Promise<void> | undefined {
    const fs = this.#fs;
    const fd = this.#fd!;
    try {
      writeAll(fs, fd, frame);
    } catch (error) {
      // Cut the log back to its last good record, so a later commit is never written after a torn one.
      try {
        fs.ftruncateSync(fd, this.#logBytes);
      } catch {
        closeQuietly(fs, fd);
        this.#fd = undefined; // cannot even truncate: the next commit replaces the file
      }
      this.#needCheckpoint = true;
      throw new StoreWriteError(`could not append a commit to ${this.#path}: ${describe(error)}; the log was cut back to its last complete commit`, {
        cause: error,
      });
    }
    this.#logBytes += frame.length;
    if (syncNow) {
      this.#fsync(fd, this.#path);
      return undefined;
    }
    return new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(this.#fail(fsyncMessage(this.#path, error), error)) : resolve())));
  }

  async close(): Promise<void> {
    if (this.#fd !== undefined) closeQuietly(this.#fs, this.#fd);
    this.#fd = undefined;
    await this.#lock?.release();
    this.#lock = undefined;
  }
}

function writeAll(fs: StoreFs, fd: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
}

function closeQuietly(fs: StoreFs, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed or unusable; nothing more to lose
  }
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${e.message})` : String(e?.message ?? error);
}

function fsyncMessage(what: string, error: unknown): string {
  return (
    `fsync of ${what} failed: ${describe(error)}. The disk may have dropped writes the replica already acknowledged, ` +
    'so it stops rather than answer from a state it cannot vouch for. Check the disk, then restart the replica (the log is checked on load)'
  );
}
