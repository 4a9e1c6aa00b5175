// A canister's state (interface spec, "Abstract behaviour" → canister state): module and
// instance, stable memory, settings, status, cycles, certified data, global timer, version,
// chunk store, history and snapshots.
import { equalBytes } from '../ic/bytes.ts';
import { Principal } from '@dfinity/principal';
import { StableMemory } from './stable-memory.ts';
import { WasmInstance, type HeapSnapshot } from './instance.ts';
import type { LoadedModule } from './module.ts';
import type { CanisterView, MessageContext } from '../system-api/context.ts';
import { systemApiImports } from '../system-api/ic0.ts';
import { applicationSubnetCosts, type CyclesCosts } from '../cycles/fees.ts';

/**
 * Instructions a canister runs on its hooked module before it asks for the unsliced variant
 * (metering/unsliced.ts): about a second of metered work here. Making the variant walks the module
 * and compiles it again, its instance is created and filled with a second copy of the heap, and
 * the variant's functions start in V8's baseline tier: hundreds of milliseconds in a reader's
 * tab. With 20 million as the threshold the horizontal-scaling demo's setup (eight installs
 * through its front canister) crossed it and its cold start in Chromium took 2.9 s instead of
 * 2.3 s (mean of four, 2026-12-05); a canister that computes (a query or update of billions of
 * instructions) crosses this one in its first call and then runs about twice as fast.
 */
export const UNSLICED_AFTER_INSTRUCTIONS = 1_000_000_000n;

export type CanisterStatus = 'running' | 'stopping' | 'stopped';

export type Visibility = { controllers: null } | { public: null } | { allowed_viewers: Principal[] };

export interface CanisterSettings {
  controllers: Principal[];
  computeAllocation: bigint;
  memoryAllocation: bigint;
  freezingThreshold: bigint;
  reservedCyclesLimit: bigint;
  wasmMemoryLimit: bigint;
  wasmMemoryThreshold: bigint;
  logVisibility: Visibility;
  snapshotVisibility: Visibility;
  statusVisibility: Visibility;
  logMemoryLimit: bigint;
  minimumIncomingCallCycles: bigint;
  environmentVariables: { name: string; value: string }[];
}

export const defaultSettings = (controllers: Principal[]): CanisterSettings => ({
  controllers,
  computeAllocation: 0n,
  memoryAllocation: 0n,
  // Interface spec defaults: 30 days of freezing threshold, 3 GiB wasm memory limit.
  freezingThreshold: 2_592_000n,
  reservedCyclesLimit: 5_000_000_000_000n,
  wasmMemoryLimit: 3n * 2n ** 30n,
  wasmMemoryThreshold: 0n,
  logVisibility: { controllers: null },
  snapshotVisibility: { controllers: null },
  statusVisibility: { controllers: null },
  logMemoryLimit: 4096n,
  minimumIncomingCallCycles: 0n,
  environmentVariables: [],
});

export type ChangeOrigin = { from_user: { user_id: Principal } } | { from_canister: { canister_id: Principal; canister_version: [] | [bigint] } };

/** One entry of the canister history (ic.did `change`), in the shape Candid encodes. */
export interface Change {
  timestamp_nanos: bigint;
  canister_version: bigint;
  origin: ChangeOrigin;
  details: Record<string, unknown>;
}

export interface CanisterLogRecord {
  idx: bigint;
  timestamp_nanos: bigint;
  content: Uint8Array;
}

/** What a snapshot captures (management canister take_canister_snapshot). */
export interface CanisterSnapshotData {
  id: Uint8Array;
  takenAt: bigint;
  module?: LoadedModule;
  heap?: HeapSnapshot;
  stable: StableMemory;
  certifiedData: Uint8Array;
  globalTimer: bigint;
  chunkStore: Map<string, Uint8Array>;
  canisterVersion: bigint;
}

export class Canister implements CanisterView {
  readonly principal: Principal;
  readonly id: Uint8Array;
  readonly idText: string;
  /** A human name for logs (setupCanister's `name`, else the id). */
  name: string;
  settings: CanisterSettings;
  status: CanisterStatus = 'running';
  balance: bigint;
  instance?: WasmInstance;
  stable = new StableMemory();
  certifiedData: Uint8Array = new Uint8Array();
  globalTimer = 0n;
  version = 0n;
  /**
   * The low-Wasm-memory hook's state (interface spec, "On low Wasm memory"): ready once the
   * memory left below wasm_memory_limit falls under wasm_memory_threshold, executed after it
   * ran, and back to not-satisfied when there is room again, so it runs once per episode.
   */
  lowWasmMemoryHook: 'not-satisfied' | 'ready' | 'executed' = 'not-satisfied';

  /** Re-evaluates the hook's condition after the canister's memory or settings changed. */
  checkLowWasmMemory(): void {
    const limit = this.settings.wasmMemoryLimit;
    const threshold = this.settings.wasmMemoryThreshold;
    const used = BigInt(this.instance?.heapBytes ?? 0);
    const satisfied = this.instance !== undefined && limit > 0n && threshold > 0n && (limit > used ? limit - used : 0n) < threshold;
    if (!satisfied) this.lowWasmMemoryHook = 'not-satisfied';
    else if (this.lowWasmMemoryHook === 'not-satisfied') this.lowWasmMemoryHook = 'ready';
  }
  chunkStore = new Map<string, Uint8Array>();
  history: Change[] = [];
  totalChanges = 0n;
  snapshots = new Map<string, CanisterSnapshotData>();
  nextSnapshotIndex = 0n;
  /**
   * A replicated message whose execution may yield to the event loop before it commits
   * (execute.ts executeSliced): `working` is the instance it runs on, `committed` the state other
   * executions see meanwhile.
   */
  openExecution?: { working: WasmInstance; committed(): { instance?: WasmInstance; stable: StableMemory } };
  /** The message being executed on this canister, read by the ic0 imports. */
  context?: MessageContext;
  /** Open call contexts (the canister may only become stopped when this reaches 0). */
  openCallContexts = 0;
  /** Calls made that wait for a response. */
  outstandingCalls = 0;
  /** The canister log (interface spec, fetch_canister_logs): debug_print lines and traps of replicated executions. */
  logRecords: CanisterLogRecord[] = [];
  nextLogIndex = 0n;
  /** Time (ns) up to which memory and compute allocation have been paid; kept with the state so a restart does not charge twice. */
  resourcesChargedUntil: bigint;
  /** Non-replicated queries answered (canister_status query_stats). */
  queryStats = { calls: 0n, instructions: 0n, requestBytes: 0n, responseBytes: 0n };
  createdAt: bigint;
  // A private field, not a plain property: the disk store saves a canister's own fields, and the
  // cost schedule follows from the subnet (it is set again on restore), it is not state.
  #costs: CyclesCosts = applicationSubnetCosts;
  #subnetId?: Uint8Array;
  // Transient like #costs: the unsliced variant's instance is made again from `instance` when needed.
  #unsliced?: { source: WasmInstance; compiled: WebAssembly.Module; instance: WasmInstance };
  #hookedInstructions = 0n;
  #longRunning = new Set<string>();

  /** Entry points (exports, 'callback') whose last run needed more than one slice (execute.ts executeSliced); transient. */
  get longRunning(): Set<string> {
    return this.#longRunning;
  }

  constructor(principal: Principal, controllers: Principal[], cycles: bigint, now: bigint) {
    this.principal = principal;
    this.id = principal.toUint8Array();
    this.idText = principal.toText();
    this.name = this.idText;
    this.settings = defaultSettings(controllers);
    this.balance = cycles;
    this.createdAt = now;
    this.resourcesChargedUntil = now;
  }

  /** What this canister pays: its subnet's cost schedule (topology/topology.ts). */
  get costs(): CyclesCosts {
    return this.#costs;
  }

  set costs(costs: CyclesCosts) {
    this.#costs = costs;
  }

  /** The subnet hosting it when the replica has several (ic0.subnet_self); undefined: the replica's one subnet. */
  get subnetId(): Uint8Array | undefined {
    return this.#subnetId;
  }

  set subnetId(id: Uint8Array | undefined) {
    this.#subnetId = id;
  }

  get module(): LoadedModule | undefined {
    return this.instance?.module;
  }

  statusCode(): number {
    return this.status === 'running' ? 1 : this.status === 'stopping' ? 2 : 3;
  }

  isController(principal: Uint8Array): boolean {
    return this.settings.controllers.some((c) => equalBytes(c.toUint8Array(), principal));
  }

  /** A fresh instance of `module` wired to this canister's System API (start function not yet run). */
  instantiate(module: LoadedModule): WasmInstance {
    const canister = this;
    let instance: WasmInstance | undefined;
    const host = {
      context: () => canister.context,
      memory: () => instance!.memory,
      stable: () => canister.stable,
      memory64: module.info.memory64,
      counter: () => instance?.counter,
      markDirty: (offset: number, length: number) => instance?.markDirty(offset, length),
      environmentVariables: (): Array<[string, string]> =>
        canister.settings.environmentVariables.map((v): [string, string] => [v.name, v.value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    };
    instance = new WasmInstance(module, { ic0: systemApiImports(host, module.imports) });
    return instance;
  }

  /**
   * An instance of the module's unsliced variant (metering/unsliced.ts) holding the canister's
   * current state, synchronised page by page from its instance, for an execution that is never
   * time-sliced (a query, inspect_message) or that tries to end within one slice (execute.ts
   * executeSliced); undefined while there is no variant (not yet compiled, or none for this
   * module; the execution then runs on the instance as usual). Only between replicated
   * messages: `openExecution` must be undefined.
   */
  unslicedInstance(): WasmInstance | undefined {
    const source = this.instance;
    if (!source?.module.dirtyTracking || this.openExecution || this.#hookedInstructions < UNSLICED_AFTER_INSTRUCTIONS) return undefined;
    const compiled = source.module.unsliced();
    if (!compiled) return undefined;
    let view = this.#unsliced;
    if (view?.source !== source || view.compiled !== compiled) {
      view = { source, compiled, instance: this.instantiate({ ...source.module, compiled }) };
      this.#unsliced = view;
    }
    if (!view.instance.syncFrom(source)) {
      // The canister's memory is smaller than the variant's (restored from a snapshot): start over.
      view.instance = this.instantiate({ ...source.module, compiled });
      view.instance.syncFrom(source);
    }
    return view.instance;
  }

  /** Counts instructions that executions which could have run on the unsliced variant ran on the hooked module. */
  noteHooked(instructions: bigint): void {
    this.#hookedInstructions += instructions;
  }

  /** A fresh instance of `module` holding `state` (heap and globals), e.g. the committed state while a message is paused. */
  instantiateWith(module: LoadedModule, state: HeapSnapshot): WasmInstance {
    const instance = this.instantiate(module);
    instance.restore(state);
    return instance;
  }

  /** Appends to the canister log, dropping the oldest records beyond log_memory_limit bytes. */
  appendLog(text: string, now: bigint): void {
    const content = new TextEncoder().encode(text);
    this.logRecords.push({ idx: this.nextLogIndex++, timestamp_nanos: now, content });
    let bytes = this.logRecords.reduce((n, r) => n + r.content.length, 0);
    while (bytes > Number(this.settings.logMemoryLimit) && this.logRecords.length > 1) bytes -= this.logRecords.shift()!.content.length;
  }

  recordChange(origin: ChangeOrigin, details: Record<string, unknown>, now: bigint): void {
    this.totalChanges += 1n;
    this.history.push({ timestamp_nanos: now, canister_version: this.version, origin, details });
    // The IC keeps the 20 most recent changes (interface spec, canister_info).
    if (this.history.length > 20) this.history.shift();
  }

  /** Memory in use: heap + stable + chunk store, for canister_status. */
  get memorySize(): bigint {
    let chunks = 0;
    for (const c of this.chunkStore.values()) chunks += c.length;
    return BigInt((this.instance?.heapBytes ?? 0) + this.stable.byteLength + chunks + (this.module?.bytes.length ?? 0));
  }
}

/**
 * Whether `caller` may read the canister's logs (its log_visibility; controllers always may).
 * The IC shows a trap's backtrace in the reject message only to such callers.
 */
export function mayReadLogs(canister: Canister, caller: Uint8Array): boolean {
  const v = canister.settings.logVisibility;
  if ('public' in v) return true;
  if (canister.isController(caller)) return true;
  if ('allowed_viewers' in v) {
    const text = Principal.fromUint8Array(caller).toText();
    return v.allowed_viewers.some((p) => p.toText() === text);
  }
  return false;
}
