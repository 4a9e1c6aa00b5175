// How a canister's metadata is written in the state log: an explicit list of fields with a fixed
// encoding per field, so a renamed or added property of the live Canister object never changes
// the disk format by accident (test/store-format.test.ts fails when Canister gains a field that
// is neither encoded here nor listed as rebuilt). Memories and modules are written beside this
// record by disk-store.ts and kv-state.ts; the snapshot and completed-call encodings at the end
// are shared by both.
//
// Format history:
//   1  the fields were Object.entries of the live Canister object through a generic tagged codec
//      (toCbor below); readable, never written any more.
//   2  this explicit record.

import { Principal } from '@dfinity/principal';
import type { CborMap, CborValue } from '../certification/cbor.ts';
import {
  defaultSettings,
  type Canister,
  type CanisterLogRecord,
  type CanisterSettings,
  type CanisterSnapshotData,
  type CanisterStatus,
  type Change,
  type Visibility,
} from '../execution/canister.ts';
import { loadModule, type LoadedModule, type ModuleOptions } from '../execution/module.ts';
import { StableMemory } from '../execution/stable-memory.ts';
import type { CallOutcome } from '../http/engine-port.ts';
import type { CompletedCall } from '../http/ingress.ts';

/** Canister properties rebuilt on load rather than stored: identity, the live instance, memories, transient execution state. */
export const REBUILT_FIELDS = new Set([
  'principal',
  'id',
  'idText',
  'instance',
  'stable',
  'context',
  'openExecution',
  'openCallContexts',
  'outstandingCalls',
  'snapshots',
]);
/** Canister properties this record stores. */
export const ENCODED_FIELDS = new Set([
  'name',
  'settings',
  'status',
  'balance',
  'certifiedData',
  'globalTimer',
  'version',
  'chunkStore',
  'history',
  'totalChanges',
  'nextSnapshotIndex',
  'logRecords',
  'nextLogIndex',
  'resourcesChargedUntil',
  'queryStats',
  'createdAt',
  'lowWasmMemoryHook',
]);

// ---- a generic tagged codec (bigint, Principal, Map, Uint8Array): format 1, and Candid-shaped values

export function toCbor(value: unknown): CborValue | undefined {
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

export function fromCbor(value: CborValue): unknown {
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

// ---- format 2 ------------------------------------------------------------------------------

/** The stored part of a canister, as plain values. */
export interface CanisterRecord {
  name: string;
  settings: CanisterSettings;
  status: CanisterStatus;
  balance: bigint;
  certifiedData: Uint8Array;
  globalTimer: bigint;
  version: bigint;
  chunkStore: Map<string, Uint8Array>;
  history: Change[];
  totalChanges: bigint;
  nextSnapshotIndex: bigint;
  logRecords: CanisterLogRecord[];
  nextLogIndex: bigint;
  resourcesChargedUntil: bigint;
  queryStats: { calls: bigint; instructions: bigint; requestBytes: bigint; responseBytes: bigint };
  createdAt: bigint;
  /** The on_low_wasm_memory hook's condition (interface spec): absent in records written before it existed. */
  lowWasmMemoryHook: Canister['lowWasmMemoryHook'];
}

class FormatError extends Error {
  constructor(field: string, expected: string) {
    super(`the stored canister record's ${field} is not ${expected}`);
  }
}

const nat = (v: CborValue | undefined, field: string): bigint => {
  if (typeof v === 'number' || typeof v === 'bigint') return BigInt(v);
  throw new FormatError(field, 'an integer');
};
const bytes = (v: CborValue | undefined, field: string): Uint8Array => {
  if (v instanceof Uint8Array) return v;
  throw new FormatError(field, 'a byte string');
};
const str = (v: CborValue | undefined, field: string): string => {
  if (typeof v === 'string') return v;
  throw new FormatError(field, 'a text string');
};
const list = (v: CborValue | undefined, field: string): CborValue[] => {
  if (Array.isArray(v)) return v;
  throw new FormatError(field, 'an array');
};
const map = (v: CborValue | undefined, field: string): CborMap => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) return v;
  throw new FormatError(field, 'a map');
};

function encodeVisibility(v: Visibility): CborValue {
  if ('controllers' in v) return ['controllers'];
  if ('public' in v) return ['public'];
  return ['allowed_viewers', v.allowed_viewers.map((p) => p.toUint8Array())];
}

function decodeVisibility(v: CborValue | undefined, field: string): Visibility {
  const [kind, viewers] = list(v, field);
  if (kind === 'controllers') return { controllers: null };
  if (kind === 'public') return { public: null };
  if (kind === 'allowed_viewers') return { allowed_viewers: list(viewers, field).map((p) => Principal.fromUint8Array(bytes(p, field))) };
  throw new FormatError(field, 'controllers, public or allowed_viewers');
}

function encodeSettings(s: CanisterSettings): CborMap {
  return {
    controllers: s.controllers.map((p) => p.toUint8Array()),
    computeAllocation: s.computeAllocation,
    memoryAllocation: s.memoryAllocation,
    freezingThreshold: s.freezingThreshold,
    reservedCyclesLimit: s.reservedCyclesLimit,
    wasmMemoryLimit: s.wasmMemoryLimit,
    wasmMemoryThreshold: s.wasmMemoryThreshold,
    logVisibility: encodeVisibility(s.logVisibility),
    snapshotVisibility: encodeVisibility(s.snapshotVisibility),
    statusVisibility: encodeVisibility(s.statusVisibility),
    logMemoryLimit: s.logMemoryLimit,
    minimumIncomingCallCycles: s.minimumIncomingCallCycles,
    environmentVariables: s.environmentVariables.map((e) => [e.name, e.value]),
  };
}

function decodeSettings(m: CborMap): CanisterSettings {
  return {
    controllers: list(m.controllers, 'settings.controllers').map((p) => Principal.fromUint8Array(bytes(p, 'settings.controllers'))),
    computeAllocation: nat(m.computeAllocation, 'settings.computeAllocation'),
    memoryAllocation: nat(m.memoryAllocation, 'settings.memoryAllocation'),
    freezingThreshold: nat(m.freezingThreshold, 'settings.freezingThreshold'),
    reservedCyclesLimit: nat(m.reservedCyclesLimit, 'settings.reservedCyclesLimit'),
    wasmMemoryLimit: nat(m.wasmMemoryLimit, 'settings.wasmMemoryLimit'),
    wasmMemoryThreshold: nat(m.wasmMemoryThreshold, 'settings.wasmMemoryThreshold'),
    logVisibility: decodeVisibility(m.logVisibility, 'settings.logVisibility'),
    snapshotVisibility: decodeVisibility(m.snapshotVisibility, 'settings.snapshotVisibility'),
    statusVisibility: decodeVisibility(m.statusVisibility, 'settings.statusVisibility'),
    logMemoryLimit: nat(m.logMemoryLimit, 'settings.logMemoryLimit'),
    minimumIncomingCallCycles: nat(m.minimumIncomingCallCycles, 'settings.minimumIncomingCallCycles'),
    environmentVariables: list(m.environmentVariables, 'settings.environmentVariables').map((e) => {
      const [name, value] = list(e, 'settings.environmentVariables');
      return { name: str(name, 'settings.environmentVariables'), value: str(value, 'settings.environmentVariables') };
    }),
  };
}

export function encodeCanisterRecord(c: Canister): CborMap {
  return {
    name: c.name,
    settings: encodeSettings(c.settings),
    status: c.status,
    balance: c.balance,
    certifiedData: c.certifiedData,
    globalTimer: c.globalTimer,
    version: c.version,
    chunkStore: [...c.chunkStore].map(([hash, chunk]) => [hash, chunk]),
    // Change entries are Candid-shaped (ic.did `change`): kept through the tagged codec.
    history: c.history.map((h) => toCbor(h) ?? null),
    totalChanges: c.totalChanges,
    nextSnapshotIndex: c.nextSnapshotIndex,
    logRecords: c.logRecords.map((r) => [r.idx, r.timestamp_nanos, r.content]),
    nextLogIndex: c.nextLogIndex,
    resourcesChargedUntil: c.resourcesChargedUntil,
    queryStats: [c.queryStats.calls, c.queryStats.instructions, c.queryStats.requestBytes, c.queryStats.responseBytes],
    createdAt: c.createdAt,
    lowWasmMemoryHook: c.lowWasmMemoryHook,
  };
}

const HOOK_STATES: Array<Canister['lowWasmMemoryHook']> = ['not-satisfied', 'ready', 'executed'];
const hookState = (v: CborValue | undefined): Canister['lowWasmMemoryHook'] =>
  HOOK_STATES.includes(v as Canister['lowWasmMemoryHook']) ? (v as Canister['lowWasmMemoryHook']) : 'not-satisfied';

const STATUSES: CanisterStatus[] = ['running', 'stopping', 'stopped'];

export function decodeCanisterRecord(value: CborValue): CanisterRecord {
  const m = map(value, 'record');
  const status = str(m.status, 'status') as CanisterStatus;
  if (!STATUSES.includes(status)) throw new FormatError('status', 'running, stopping or stopped');
  const stats = list(m.queryStats, 'queryStats');
  return {
    name: str(m.name, 'name'),
    settings: decodeSettings(map(m.settings, 'settings')),
    status,
    balance: nat(m.balance, 'balance'),
    certifiedData: bytes(m.certifiedData, 'certifiedData'),
    globalTimer: nat(m.globalTimer, 'globalTimer'),
    version: nat(m.version, 'version'),
    chunkStore: new Map(
      list(m.chunkStore, 'chunkStore').map((e) => {
        const [hash, chunk] = list(e, 'chunkStore');
        return [str(hash, 'chunkStore'), bytes(chunk, 'chunkStore')];
      }),
    ),
    history: list(m.history, 'history').map((h) => fromCbor(h) as Change),
    totalChanges: nat(m.totalChanges, 'totalChanges'),
    nextSnapshotIndex: nat(m.nextSnapshotIndex, 'nextSnapshotIndex'),
    logRecords: list(m.logRecords, 'logRecords').map((r) => {
      const [idx, time, content] = list(r, 'logRecords');
      return { idx: nat(idx, 'logRecords'), timestamp_nanos: nat(time, 'logRecords'), content: bytes(content, 'logRecords') };
    }),
    nextLogIndex: nat(m.nextLogIndex, 'nextLogIndex'),
    resourcesChargedUntil: nat(m.resourcesChargedUntil, 'resourcesChargedUntil'),
    queryStats: {
      calls: nat(stats[0], 'queryStats'),
      instructions: nat(stats[1], 'queryStats'),
      requestBytes: nat(stats[2], 'queryStats'),
      responseBytes: nat(stats[3], 'queryStats'),
    },
    createdAt: nat(m.createdAt, 'createdAt'),
    lowWasmMemoryHook: hookState(m.lowWasmMemoryHook),
  };
}

/**
 * Format 1 stored Object.entries of the live object through the tagged codec: read it into the
 * same record, with the defaults of fields that version did not have.
 */
export function decodeCanisterRecordV1(value: CborValue): CanisterRecord {
  const o = fromCbor(value) as Record<string, unknown>;
  const big = (v: unknown, fallback = 0n) => (typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : fallback);
  const settings = { ...defaultSettings([]), ...(o.settings as Partial<CanisterSettings>) };
  const stats = (o.queryStats ?? {}) as Record<string, unknown>;
  const status = STATUSES.includes(o.status as CanisterStatus) ? (o.status as CanisterStatus) : 'running';
  return {
    name: typeof o.name === 'string' ? o.name : '',
    settings,
    status,
    balance: big(o.balance),
    certifiedData: o.certifiedData instanceof Uint8Array ? o.certifiedData : new Uint8Array(),
    globalTimer: big(o.globalTimer),
    version: big(o.version),
    chunkStore: o.chunkStore instanceof Map ? (o.chunkStore as Map<string, Uint8Array>) : new Map(),
    history: Array.isArray(o.history) ? (o.history as Change[]) : [],
    totalChanges: big(o.totalChanges),
    nextSnapshotIndex: big(o.nextSnapshotIndex),
    logRecords: Array.isArray(o.logRecords) ? (o.logRecords as CanisterLogRecord[]) : [],
    nextLogIndex: big(o.nextLogIndex),
    resourcesChargedUntil: big(o.resourcesChargedUntil),
    queryStats: {
      calls: big(stats.calls),
      instructions: big(stats.instructions),
      requestBytes: big(stats.requestBytes),
      responseBytes: big(stats.responseBytes),
    },
    createdAt: big(o.createdAt),
    lowWasmMemoryHook: 'not-satisfied',
  };
}

/** Puts a stored record onto a fresh Canister. */
export function applyCanisterRecord(canister: Canister, r: CanisterRecord): void {
  canister.name = r.name || canister.idText;
  canister.settings = r.settings;
  canister.status = r.status;
  canister.balance = r.balance;
  canister.certifiedData = r.certifiedData;
  canister.globalTimer = r.globalTimer;
  canister.version = r.version;
  canister.chunkStore = r.chunkStore;
  canister.history = r.history;
  canister.totalChanges = r.totalChanges;
  canister.nextSnapshotIndex = r.nextSnapshotIndex;
  canister.logRecords = r.logRecords;
  canister.nextLogIndex = r.nextLogIndex;
  canister.resourcesChargedUntil = r.resourcesChargedUntil;
  canister.queryStats = r.queryStats;
  canister.createdAt = r.createdAt;
  canister.lowWasmMemoryHook = r.lowWasmMemoryHook;
}

// ---- snapshots (immutable once taken: written whole when the set changes) ----------------------

/** Stable memory holding `bytes` (a whole number of 64 KiB pages). */
export function stableFrom(bytes: Uint8Array): StableMemory {
  const stable = new StableMemory();
  if (bytes.length > 0) {
    stable.grow(bytes.length / 65536);
    stable.write(0, bytes);
  }
  return stable;
}

/** The ids and times of a canister's snapshots: changes exactly when the set is rewritten. */
export function snapshotSetKey(canister: Canister): string {
  return [...canister.snapshots].map(([key, snap]) => `${key}@${snap.takenAt}`).join(',');
}

/** The canister's snapshots; `addModule` is told each module they run, to store it beside them. */
export function encodeSnapshots(canister: Canister, addModule: (module: LoadedModule) => void): CborValue[] {
  return [...canister.snapshots].map(([key, snap]) => {
    if (snap.module) addModule(snap.module);
    return [
      key,
      {
        id: snap.id,
        takenAt: toCbor(snap.takenAt) ?? null,
        moduleHash: snap.module?.hash ?? null,
        heap: snap.heap?.memory ?? null,
        globals: toCbor(snap.heap?.globals ?? []) ?? [],
        stable: snap.stable.byteLength > 0 ? snap.stable.read(0, snap.stable.byteLength) : new Uint8Array(),
        certifiedData: snap.certifiedData,
        globalTimer: toCbor(snap.globalTimer) ?? null,
        canisterVersion: toCbor(snap.canisterVersion) ?? null,
        chunkStore: toCbor(snap.chunkStore) ?? null,
      },
    ];
  });
}

/** Reads what encodeSnapshots wrote; `moduleBytes` finds a stored module by its hash. */
export async function decodeSnapshots(
  entries: CborValue[],
  moduleOptions: ModuleOptions,
  moduleBytes: (hash: Uint8Array) => Uint8Array | undefined | Promise<Uint8Array | undefined>,
): Promise<Map<string, CanisterSnapshotData>> {
  const snapshots = new Map<string, CanisterSnapshotData>();
  for (const entry of entries) {
    const [key, snap] = entry as [string, CborMap];
    const bytes = snap.moduleHash instanceof Uint8Array ? await moduleBytes(snap.moduleHash) : undefined;
    snapshots.set(key, {
      id: snap.id as Uint8Array,
      takenAt: fromCbor(snap.takenAt) as bigint,
      module: bytes ? await loadModule(bytes, moduleOptions) : undefined,
      heap: snap.heap ? { memory: snap.heap as Uint8Array, globals: fromCbor(snap.globals) as (number | bigint)[] } : undefined,
      stable: stableFrom(snap.stable as Uint8Array),
      certifiedData: snap.certifiedData as Uint8Array,
      globalTimer: fromCbor(snap.globalTimer) as bigint,
      canisterVersion: fromCbor(snap.canisterVersion) as bigint,
      chunkStore: (fromCbor(snap.chunkStore) as Map<string, Uint8Array> | null) ?? new Map(),
    });
  }
  return snapshots;
}

// ---- completed ingress calls -------------------------------------------------------------------

function outcomeToCbor(o: CallOutcome): CborValue {
  return o.status === 'replied' ? ['replied', o.reply] : ['rejected', o.rejectCode, o.rejectMessage, o.errorCode];
}
function outcomeFromCbor(v: CborValue | undefined): CallOutcome | undefined {
  if (!Array.isArray(v)) return undefined; // format 1 kept no outcome: the call reads as done
  if (v[0] === 'replied') return { status: 'replied', reply: v[1] as Uint8Array };
  return { status: 'rejected', rejectCode: Number(v[1]), rejectMessage: String(v[2]), errorCode: String(v[3]) };
}
// [requestId, sender, effectiveCanisterId, ingressExpiry, pruneAt, outcome | null, canisterId];
// format 1 of the state log wrote the first five.
export const callToCbor = (c: CompletedCall): CborValue => [
  c.requestId,
  c.sender,
  c.effectiveCanisterId,
  c.ingressExpiry,
  c.pruneAt,
  c.outcome ? outcomeToCbor(c.outcome) : null,
  c.canisterId,
];
export const callFromCbor = (v: CborValue): CompletedCall => {
  const [requestId, sender, effectiveCanisterId, ingressExpiry, pruneAt, outcome, canisterId] = v as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    number | bigint,
    number | bigint,
    CborValue | undefined,
    Uint8Array | undefined,
  ];
  return {
    requestId,
    sender,
    effectiveCanisterId,
    ingressExpiry: BigInt(ingressExpiry),
    pruneAt: BigInt(pruneAt),
    outcome: outcomeFromCbor(outcome ?? undefined),
    // Format 1 did not keep the canister id; the effective one is the same except for aaaaa-aa calls.
    canisterId: canisterId ?? effectiveCanisterId,
  };
};
