// The replica's state on disk (<state-dir>/state.log): an append-only log of commits. Each commit
// holds what changed since the previous one (canister metadata, 64 KiB pages of main and stable
// memory that differ, new modules) and is fsync'ed before any certificate reveals the calls it
// contains, so an update answered as replied survives kill -9. The first record of a log is a
// full checkpoint; when the log grows past a few checkpoints' worth it is rewritten (temp file,
// fsync, rename). A torn last record (crash mid-write) fails its CRC and is ignored on load.
//
// It reads and rebuilds the engine's objects (execution/canister.ts, scheduler, the management
// canister's allocatorState) and keeps no state of its own beyond the last persisted memories.

import { closeSync, fsync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Principal } from '@dfinity/principal';
import { decodeCbor, encodeCbor, type CborMap, type CborValue } from '../certification/cbor.ts';
import { toHex } from '../certification/bytes.ts';
import { Canister } from '../execution/canister.ts';
import { loadModule } from '../execution/module.ts';
import { StableMemory } from '../execution/stable-memory.ts';
import type { ManagementCanister } from '../management/management-canister.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { CompletedCall } from '../http/ingress.ts';

const LOG = 'state.log';
const PAGE = 65536;
const FORMAT = 1;
/** Canister fields that are rebuilt rather than stored (identity, live instance, transient). */
const DERIVED_FIELDS = new Set(['principal', 'id', 'idText', 'instance', 'stable', 'context', 'openCallContexts', 'snapshots']);

// ---- a small codec for the engine's plain data (bigint, Principal, Map, Uint8Array) ---------

function toCbor(value: unknown): CborValue | undefined {
  if (value === undefined || typeof value === 'function') return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  // Tagged so a small bigint comes back as a bigint (i64 globals, cycles), not a number.
  if (typeof value === 'bigint') return { $bigint: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : { $float: String(value) };
  if (value instanceof Uint8Array) return value;
  if (value instanceof Principal) return { $principal: value.toUint8Array() };
  if (value instanceof Map) return { $map: [...value].map(([k, v]) => [toCbor(k) ?? null, toCbor(v) ?? null]) };
  if (Array.isArray(value)) return value.map((v) => toCbor(v) ?? null);
  if (typeof value === 'object') {
    const out: CborMap = {};
    for (const [k, v] of Object.entries(value)) {
      const encoded = toCbor(v);
      if (encoded !== undefined) out[k] = encoded;
    }
    return out;
  }
  return undefined;
}

function fromCbor(value: CborValue): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(fromCbor);
  if (value.$bigint !== undefined && Object.keys(value).length === 1) return BigInt(value.$bigint as number | bigint);
  if (value.$principal instanceof Uint8Array) return Principal.fromUint8Array(value.$principal);
  if (Array.isArray(value.$map)) return new Map(value.$map.map((e) => [fromCbor((e as CborValue[])[0]), fromCbor((e as CborValue[])[1])]));
  if (typeof value.$float === 'string') return Number(value.$float);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromCbor(v);
  return out;
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
  const out = base.length === size ? base : (() => { const grown = new Uint8Array(size); grown.set(base.subarray(0, Math.min(size, base.length))); return grown; })();
  for (const entry of pages) {
    const [index, bytes] = entry as [number, Uint8Array];
    out.set(bytes, index * PAGE);
  }
  return out;
}

interface PersistedCanister {
  meta: string; // encoded fields, compared as hex to detect changes
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
}

const callToCbor = (c: CompletedCall): CborValue => [c.requestId, c.sender, c.effectiveCanisterId, c.ingressExpiry, c.pruneAt];
const callFromCbor = (v: CborValue): CompletedCall => {
  const [requestId, sender, effectiveCanisterId, ingressExpiry, pruneAt] = v as [Uint8Array, Uint8Array, Uint8Array, number | bigint, number | bigint];
  return { requestId, sender, effectiveCanisterId, ingressExpiry: BigInt(ingressExpiry), pruneAt: BigInt(pruneAt) };
};

export class DiskStore {
  readonly dir: string;
  #path: string;
  #fd: number | undefined;
  #persisted = new Map<string, PersistedCanister>();
  #modulesWritten = new Set<string>();
  #management = '';
  #logBytes = 0;
  #checkpointBytes = 0;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.#path = join(dir, LOG);
    acquireLock(dir);
  }

  /**
   * Rebuilds canisters and the id allocator from the log into a fresh engine; returns how many
   * canisters, and the completed calls to hand to HttpInterface.restoreCompletedCalls.
   */
  async restore(scheduler: Scheduler, management: ManagementCanister): Promise<{ canisters: number; completedCalls: CompletedCall[] }> {
    if (!existsSync(this.#path)) return { canisters: 0, completedCalls: [] };
    const calls = new Map<string, CompletedCall>();
    const bytes = new Uint8Array(readFileSync(this.#path));
    const state = new Map<string, { fields: unknown; module?: Uint8Array; heap: Uint8Array; globals: unknown[]; stable: Uint8Array; snapshots?: CborValue[] }>();
    const modules = new Map<string, Uint8Array>();
    let managementFields: unknown;
    let offset = 0;
    while (offset + 8 <= bytes.length) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
      const length = view.getUint32(0);
      const crc = view.getUint32(4);
      if (offset + 8 + length > bytes.length) break; // torn tail: the crash happened mid-write
      const payload = bytes.subarray(offset + 8, offset + 8 + length);
      if (crc32(payload) !== crc) break;
      offset += 8 + length;
      const record = decodeCbor(payload) as CborMap;
      if (record.format !== FORMAT) throw new Error(`${this.#path} was written by an incompatible replica version (format ${String(record.format)})`);
      if (record.full) {
        state.clear();
        calls.clear();
      }
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
        const prev = state.get(id) ?? { fields: undefined, heap: new Uint8Array(), globals: [], stable: new Uint8Array() };
        if (c.fields) prev.fields = fromCbor(c.fields);
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
      const fields = saved.fields as Record<string, unknown>;
      const principal = Principal.fromText(id);
      const canister = new Canister(principal, [], 0n, 0n);
      Object.assign(canister, fields);
      if (canister.status === 'stopping') canister.status = 'stopped'; // its open calls did not survive
      if (saved.module) {
        const module = await loadModule(saved.module);
        const instance = canister.instantiate(module);
        instance.restore({ memory: saved.heap, globals: saved.globals as (number | bigint)[] });
        canister.instance = instance;
      }
      const stable = new StableMemory();
      if (saved.stable.length > 0) {
        stable.grow(saved.stable.length / PAGE);
        stable.write(0, saved.stable);
      }
      canister.stable = stable;
      canister.snapshots = new Map();
      for (const entry of saved.snapshots ?? []) {
        const [key, snap] = entry as [string, CborMap];
        const moduleBytes = snap.moduleHash ? modules.get(toHex(snap.moduleHash as Uint8Array)) : undefined;
        const snapshotStable = new StableMemory();
        const stableBytes = snap.stable as Uint8Array;
        if (stableBytes.length > 0) {
          snapshotStable.grow(stableBytes.length / PAGE);
          snapshotStable.write(0, stableBytes);
        }
        canister.snapshots.set(key, {
          id: snap.id as Uint8Array,
          takenAt: fromCbor(snap.takenAt) as bigint,
          module: moduleBytes ? await loadModule(moduleBytes) : undefined,
          heap: snap.heap ? { memory: snap.heap as Uint8Array, globals: fromCbor(snap.globals) as (number | bigint)[] } : undefined,
          stable: snapshotStable,
          certifiedData: snap.certifiedData as Uint8Array,
          globalTimer: fromCbor(snap.globalTimer) as bigint,
          canisterVersion: fromCbor(snap.canisterVersion) as bigint,
          chunkStore: (fromCbor(snap.chunkStore) as Map<string, Uint8Array> | null) ?? new Map(),
        });
      }
      scheduler.canisters.set(id, canister);
    }
    return { canisters: state.size, completedCalls: [...calls.values()] };
  }

  /**
   * Appends and fsyncs a commit with everything that changed since the last one. Cheap when
   * nothing changed (a memcmp per memory page). Returns true when it wrote.
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

  #commit(scheduler: Scheduler, management: ManagementCanister, ingress: CompletedCallSource | undefined, syncNow: boolean): Promise<void> | undefined {
    const full = this.#fd === undefined || this.#logBytes > 4 * Math.max(this.#checkpointBytes, 16 * 1024 * 1024);
    if (full) this.#persisted.clear();
    const canisters: CborMap[] = [];
    const modules: CborMap[] = [];
    const seen = new Set<string>();
    for (const [id, canister] of scheduler.canisters) {
      seen.add(id);
      const prev = this.#persisted.get(id);
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(canister)) if (!DERIVED_FIELDS.has(k)) fields[k] = v;
      const metaBytes = encodeCbor(toCbor(fields) ?? null);
      const meta = toHex(metaBytes);
      const module = canister.instance?.module;
      const moduleHash = module ? toHex(module.hash) : undefined;
      const heap = canister.instance ? new Uint8Array(canister.instance.memory.buffer) : new Uint8Array();
      const globals = toHex(encodeCbor(toCbor(canister.instance?.globals.map((g) => g.value) ?? []) ?? null));
      const stable = canister.stable.byteLength > 0 ? canister.stable.read(0, canister.stable.byteLength) : new Uint8Array();
      const record: CborMap = { id };
      if (!prev || prev.meta !== meta) record.fields = decodeCbor(metaBytes);
      if (!prev || prev.moduleHash !== moduleHash) {
        record.moduleHash = module ? module.hash : null;
        if (module && (full || !this.#modulesWritten.has(moduleHash!))) {
          modules.push({ hash: module.hash, bytes: module.bytes });
          this.#modulesWritten.add(moduleHash!);
        }
      }
      const heapPages = changedPages(heap, prev?.heap);
      if (!prev || heapPages.length > 0 || heap.length !== prev.heap.length) {
        record.heapSize = heap.length;
        record.heapPages = heapPages;
      }
      if (!prev || prev.globals !== globals) record.globals = toCbor(canister.instance?.globals.map((g) => g.value) ?? []) ?? [];
      // Snapshots are immutable once taken: written whole when the set changes.
      const snapshotKey = [...canister.snapshots].map(([key, snap]) => `${key}@${snap.takenAt}`).join(',');
      if (!prev || prev.snapshots !== snapshotKey) {
        record.snapshots = [...canister.snapshots].map(([key, snap]) => {
          const hash = snap.module ? toHex(snap.module.hash) : undefined;
          if (snap.module && (full || !this.#modulesWritten.has(hash!))) {
            modules.push({ hash: snap.module.hash, bytes: snap.module.bytes });
            this.#modulesWritten.add(hash!);
          }
          return [key, {
            id: snap.id, takenAt: toCbor(snap.takenAt) ?? null, moduleHash: snap.module?.hash ?? null,
            heap: snap.heap?.memory ?? null, globals: toCbor(snap.heap?.globals ?? []) ?? [],
            stable: snap.stable.byteLength > 0 ? snap.stable.read(0, snap.stable.byteLength) : new Uint8Array(),
            certifiedData: snap.certifiedData, globalTimer: toCbor(snap.globalTimer) ?? null, canisterVersion: toCbor(snap.canisterVersion) ?? null,
            chunkStore: toCbor(snap.chunkStore) ?? null,
          }];
        });
      }
      const stablePages = changedPages(stable, prev?.stable);
      if (!prev || stablePages.length > 0 || stable.length !== prev.stable.length) {
        record.stableSize = stable.length;
        record.stablePages = stablePages;
      }
      if (Object.keys(record).length > 1) {
        canisters.push(record);
        // Keep a copy of what is now on disk; patch only the changed pages when the size held.
        let heapCopy: Uint8Array;
        if (prev && prev.heap.length === heap.length) {
          for (const [index, bytes] of heapPages) prev.heap.set(bytes, index * PAGE);
          heapCopy = prev.heap;
        } else heapCopy = heap.slice();
        this.#persisted.set(id, { meta, snapshots: snapshotKey, moduleHash, heap: heapCopy, globals, stable });
      }
    }
    const removed = [...this.#persisted.keys()].filter((id) => !seen.has(id));
    for (const id of removed) this.#persisted.delete(id);
    const managementMeta = toHex(encodeCbor(toCbor(management.allocatorState) ?? null));
    const managementChanged = managementMeta !== this.#management;
    const callChanges = ingress?.takeChanges() ?? { completed: [], pruned: [] };
    const calls = full ? (ingress?.completedCalls() ?? []) : callChanges.completed;
    const prunedCalls = full ? [] : callChanges.pruned;
    if (!full && canisters.length === 0 && removed.length === 0 && !managementChanged && calls.length === 0 && prunedCalls.length === 0) return undefined;
    this.#management = managementMeta;

    const payload = encodeCbor({
      format: FORMAT, full, modules, canisters, removed,
      management: toCbor(management.allocatorState) ?? null,
      calls: calls.map(callToCbor), prunedCalls,
    });
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, payload.length);
    new DataView(header.buffer).setUint32(4, crc32(payload));
    if (full) {
      // A checkpoint starts a new log: write it beside the old one, then swap atomically.
      const temp = `${this.#path}.tmp`;
      const fd = openSync(temp, 'w');
      writeSync(fd, header);
      writeSync(fd, payload);
      fsyncSync(fd);
      renameSync(temp, this.#path);
      const dirFd = openSync(this.dir, 'r');
      fsyncSync(dirFd);
      closeSync(dirFd);
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = fd;
      this.#checkpointBytes = this.#logBytes = 8 + payload.length;
    } else {
      writeSync(this.#fd!, header);
      writeSync(this.#fd!, payload);
      this.#logBytes += 8 + payload.length;
      if (syncNow) fsyncSync(this.#fd!);
      else {
        const fd = this.#fd!;
        return new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
      }
    }
    return Promise.resolve();
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    releaseLock(this.dir);
  }
}

// One replica per state directory: two writers would interleave commits. The lock file holds the
// owner's pid; a lock left by a process that no longer runs (kill -9) is taken over.
const LOCK = 'LOCK';

function acquireLock(dir: string): void {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8'));
      if (owner === process.pid) return;
      if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
        throw new Error(`the state directory ${dir} is in use by another replica (pid ${owner}); stop it or pass another --state-dir`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot lock the state directory ${dir}`);
}

function releaseLock(dir: string): void {
  const path = join(dir, LOCK);
  try {
    if (Number(readFileSync(path, 'utf8')) === process.pid) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
