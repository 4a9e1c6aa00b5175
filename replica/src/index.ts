// The replica's programmatic API, shaped like PicJS so its users feel at home:
// create, setupCanister, createActor, updateCall/queryCall, upgradeCanister, advanceTime,
// tick, takeSnapshot, tearDown. Everything goes through the same management canister and
// scheduler the HTTP interface uses.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { Scheduler } from './scheduler/scheduler.ts';
import { MANAGEMENT_CANISTER_TEXT } from './ic/principal.ts';
import { Clock } from './scheduler/clock.ts';
import { ManagementCanister } from './management/management-canister.ts';
import { managementMethods } from './management/ic-idl.ts';
import { captureSnapshot, restoreSnapshot } from './management/snapshots.ts';
import { StableMemory, WASM_PAGE } from './execution/stable-memory.ts';
import type { MeteringMode } from './execution/module.ts';
import { ReplicaLog, type LogLevel, type LogSink } from './log.ts';
import { CanisterRejectError, UsageError, type ErrorCode, type RejectCode } from './errors.ts';
import { createActor, type Actor, type IdlFactory } from './actor.ts';
import type { Limits } from './limits.ts';
import type { CallResponse } from './ic/call-outcome.ts';
import { Topology, type SubnetSpec } from './topology/topology.ts';
import { subnetKeys, type SubnetKeys } from './certification/keys.ts';
import { DataCertificates } from './certification/data-certificates.ts';
import { canisterRange } from './management/canister-ids.ts';
import type { Pacing } from './scheduler/config.ts';

export { CanisterRejectError, ReplicaError, CandidError, UsageError, RejectCode, ErrorCode } from './errors.ts';
export type { Actor, IdlFactory } from './actor.ts';
export type { Limits } from './limits.ts';
export type { Pacing } from './scheduler/config.ts';
export type { MeteringMode } from './execution/module.ts';
export {
  usePreparedModuleStore,
  moduleCacheKey,
  prepareModule,
  loadModule,
  resolveModuleOptions,
  type PreparedModule,
  type PreparedModuleStore,
} from './execution/module.ts';
export { encodePreparedModule, decodePreparedModule } from './execution/prepared-file.ts';
export { embeddedModules } from './wasm/module.ts';
export type { SchedulerState } from './scheduler/state.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export { canisterRange } from './management/canister-ids.ts';
export type { LogLevel, LogEvent, LogSink } from './log.ts';
export { Topology } from './topology/topology.ts';
export type { SubnetSpec, SubnetKind, CostSchedule, Subnet } from './topology/topology.ts';

export interface ReplicaOptions {
  /** Keep canisters, ids, heap and stable memory in this directory across restarts (Node only). Default: memory only. */
  stateDir?: string;
  /** The subnet's principal (self-authenticating id of its root key, as the HTTP interface certifies). Default: a fixed local id. */
  subnetId?: Uint8Array;
  /** Start time (Date or ms since 1970). Given: time is frozen there and moves only by setTime/advanceTime. Default: real time. */
  time?: Date | number;
  /** Makes raw_rand deterministic. Default: cryptographic randomness. */
  seed?: Uint8Array | number;
  /** Lower the IC's limits for tests and demos. Default: the IC's. */
  limits?: Partial<Limits>;
  /** Default 'normal': one line per user message, debug_print lines, traps. */
  log?: LogLevel;
  /** Where log lines go. Default: console.log. */
  onLog?: LogSink;
  /** Real-time mode only: run a round (heartbeats, due timers) every this many ms. Default 500; false turns it off. Mainnet pacing runs its own rounds. */
  autoTick?: number | false;
  /**
   * Several subnets, laid out as PocketIC lays them out (topology/topology.ts): each hosts its own
   * canister id range; canisters on system-type subnets (`kind: 'System'`, NNS, II, Bitcoin) or with
   * `costSchedule: 'Free'` pay no cycles. Default: one application subnet with the dfx-like range.
   * @example Replica.create({ subnets: [{ kind: 'Application' }, { kind: 'System' }] })
   */
  subnets?: SubnetSpec[];
  /**
   * The subnet's keys: queries' data certificates are signed with them, so a client can verify
   * what a canister returns against `replica.getRootKey()`. Default: keys derived from `seed`.
   */
  keys?: SubnetKeys;
  /**
   * 'instant' (default): rounds run as soon as a message waits, an update answers in about a
   * millisecond. 'mainnet': a round every `roundMs` (default 600 ms, an application subnet's
   * block rate) and an update's reply released when the next round certifies it; queries
   * answer at once. See replica/src/scheduler/README.md.
   */
  pacing?: Pacing;
  roundMs?: number;
  /** The replica-side query cache, on by default as on the IC. */
  queryCache?: boolean;
  /**
   * Instruction counting: 'block' (default, as the IC instruments modules), 'instruction' (each
   * instruction charged on its own, the reference 'block' must agree with; slow) or 'off' (nothing
   * charged: the baseline that measures what metering costs).
   */
  metering?: MeteringMode;
  /**
   * Modules record the pages they write, so commits and rollbacks copy only those: true
   * (default), false (whole-heap copies) or 'verify' (also compare the whole memory after every
   * page-wise step and throw on a difference; for tests).
   */
  dirtyPages?: boolean | 'verify';
}

export interface SetupCanisterOptions {
  /** The canister's Candid IDL factory. */
  idlFactory: IdlFactory;
  /** The module (raw or gzip-compressed Wasm), or a file path to it (Node only). */
  wasm: Uint8Array | ArrayBuffer | string;
  /** Candid-encoded init argument. Default: empty. */
  arg?: Uint8Array;
  /** Who creates and installs it. Default: anonymous. */
  sender?: Principal;
  /** Default: [sender]. */
  controllers?: Principal[];
  /** Default: 100T cycles. */
  cycles?: bigint;
  /** Create the canister under this id (must be in the local range and free). */
  targetCanisterId?: Principal;
  /** With `subnets`: create the canister on this subnet (default: the first application subnet). */
  targetSubnetId?: Principal;
  /** Name used in log lines instead of the id. */
  name?: string;
}

export interface CallOptions {
  canisterId: Principal;
  method: string;
  /** Candid-encoded argument. Default: empty (`DIDL\0\0`). */
  arg?: Uint8Array;
  /** Default: anonymous. */
  sender?: Principal;
}

export interface InstallOptions {
  canisterId: Principal;
  /** The module (raw or gzip-compressed Wasm), or a file path to it (Node only). */
  wasm: Uint8Array | ArrayBuffer | string;
  arg?: Uint8Array;
  /** Must be a controller. Default: anonymous. */
  sender?: Principal;
}

export interface UpgradeOptions extends InstallOptions {
  /**
   * skip_pre_upgrade and wasm_memory_persistence of ic.did. Default for a canister with
   * enhanced orthogonal persistence: keep main memory (as dfx does); otherwise none.
   */
  upgradeModeOptions?: { skip_pre_upgrade?: boolean; wasm_memory_persistence?: 'keep' | 'replace' };
}

export interface Snapshot {
  /** Puts the canister back to the state it had when the snapshot was taken. Can be called again. */
  restore(): Promise<void>;
}

const EMPTY_ARG = new Uint8Array(IDL.encode([], []));
/** upload_chunk's limit (interface spec): 1 MiB. */
const CHUNK_BYTES = 1024 * 1024;

export class Replica {
  readonly scheduler: Scheduler;
  readonly management: ManagementCanister;
  readonly log: ReplicaLog;
  readonly clock: Clock;
  /** The subnets when created with `subnets`; undefined for the single-subnet replica. */
  readonly topology?: Topology;
  private autoTickTimer?: ReturnType<typeof setInterval>;
  private ticking = false;
  private closed = false;
  /** The disk store when created with stateDir (store/disk-store.ts). */
  private store?: { flush(scheduler: Scheduler, management: ManagementCanister): boolean; close(): Promise<void> };

  #keysOption?: SubnetKeys;
  #keySeed?: Uint8Array;
  #keys?: SubnetKeys;
  #certificates?: DataCertificates;

  /** The subnet's keys, made on first use: they sign the data certificates of queries made through this API. */
  #subnetKeys(): SubnetKeys {
    if (!this.#keys) {
      const seed = this.#keySeed ?? new Uint8Array();
      const derive = (label: string) => sha256(new Uint8Array([...new TextEncoder().encode(label), ...seed]));
      this.#keys = this.#keysOption ?? subnetKeys(derive('scaling-wg replica root key'), derive('scaling-wg replica node key'));
    }
    return this.#keys;
  }

  /**
   * The DER root key that verifies the data certificates queries read through this API.
   * @example
   * const cert = await Certificate.create({ certificate, rootKey: pic.getRootKey(), canisterId });
   */
  getRootKey(): Uint8Array {
    return this.#subnetKeys().rootKeyDer;
  }

  private constructor(options: ReplicaOptions) {
    this.clock = new Clock(options.time);
    this.log = new ReplicaLog(options.log ?? 'normal', options.onLog);
    // Without a root key (the HTTP server passes its subnet id), a fixed self-authenticating id.
    const subnetId = options.subnetId ?? Principal.selfAuthenticating(sha256(new TextEncoder().encode('scaling-wg local subnet'))).toUint8Array();
    try {
      this.scheduler = new Scheduler({
        clock: this.clock,
        log: this.log,
        limits: options.limits,
        subnetId,
        pacing: options.pacing,
        roundMs: options.roundMs,
        queryCache: options.queryCache,
        modules: { metering: options.metering, dirtyPages: options.dirtyPages },
      });
    } catch (e) {
      throw new UsageError(`Replica.create: ${(e as Error).message}`);
    }
    this.management = new ManagementCanister(this.scheduler, seedBytes(options.seed));
    if (options.subnets) {
      try {
        this.topology = new Topology(options.subnets);
      } catch (e) {
        throw new UsageError(`Replica.create: ${(e as Error).message}`);
      }
      this.management.placement = this.topology;
    }
    // Queries read a data certificate on the IC whichever way they arrive (interface spec,
    // "Certified data"); the HTTP interface replaces this provider with its own certified state.
    this.#keysOption = options.keys;
    this.#keySeed = seedBytes(options.seed);
    this.scheduler.dataCertificateProvider = (id) => {
      const canister = this.scheduler.canisters.get(Principal.fromUint8Array(id).toText());
      if (!canister) return undefined;
      this.#certificates ??= new DataCertificates({
        keys: this.#subnetKeys(),
        now: () => this.clock.nowNanos(),
        canisterRanges: () => (this.topology ? this.topology.allRanges() : [canisterRange().map((p) => p.toUint8Array()) as [Uint8Array, Uint8Array]]),
      });
      return this.#certificates.certificateFor(id, canister.certifiedData);
    };
    const interval = options.autoTick ?? 500;
    if (this.clock.isReal && interval !== false && this.scheduler.pacing === 'instant') {
      this.autoTickTimer = setInterval(() => {
        if (this.ticking || !this.scheduler.hasPeriodicWork()) return;
        this.ticking = true;
        // A failed round is the replica's bug: say so and try again at the next interval, rather
        // than let the rejection end the process that embeds the replica.
        void this.scheduler
          .tick()
          .catch((error: unknown) => console.error(`replica bug: an automatic round failed: ${(error as Error)?.stack ?? String(error)}`))
          .finally(() => (this.ticking = false));
      }, interval);
      (this.autoTickTimer as { unref?: () => void }).unref?.();
    }
  }

  /**
   * Starts a replica in this process.
   * @example
   * const pic = await Replica.create({ time: new Date('2026-01-01'), seed: 42, log: 'quiet' });
   */
  static async create(options: ReplicaOptions = {}): Promise<Replica> {
    const replica = new Replica(options);
    if (options.stateDir !== undefined) {
      // Loaded on demand: the disk store needs node:fs, the engine itself must not.
      const { DiskStore } = (await nodeOnly(new URL('./store/disk-store.ts', import.meta.url).href)) as typeof import('./store/disk-store.ts');
      const store = await DiskStore.open(options.stateDir);
      try {
        const restored = await store.restore(replica.scheduler, replica.management);
        // Queues, call contexts and callbacks from the same commit as the canisters: execution
        // continues where it was. (Calls made through this API are awaited by nobody after a restart.)
        if (restored.schedulerState) replica.scheduler.restore(restored.schedulerState);
      } catch (error) {
        await store.close();
        throw error;
      }
      replica.store = store;
      // Costs follow the subnet, which the stored state does not name: place restored canisters again.
      const topology = replica.topology;
      if (topology) for (const c of replica.scheduler.canisters.values()) topology.assign(c);
    }
    return replica;
  }

  /**
   * Creates a canister, installs `wasm` and returns a Candid actor for it.
   * @example
   * const { actor, canisterId } = await pic.setupCanister({ idlFactory, wasm });
   * await actor.inc();
   */
  async setupCanister<T = Record<string, (...args: any[]) => Promise<any>>>(
    options: SetupCanisterOptions,
  ): Promise<{ actor: Actor<T>; canisterId: Principal }> {
    const canisterId = await this.createCanister(options);
    if (options.name) this.scheduler.canister(canisterId)!.name = options.name;
    await this.installCode({ canisterId, wasm: options.wasm, arg: options.arg, sender: options.sender });
    return { actor: this.createActor<T>(options.idlFactory, canisterId, options.sender), canisterId };
  }

  /**
   * Creates an empty canister through the management canister (provisional_create_canister_with_cycles).
   * @example
   * const canisterId = await pic.createCanister({ cycles: 10n ** 12n });
   */
  async createCanister(
    options: { sender?: Principal; controllers?: Principal[]; cycles?: bigint; targetCanisterId?: Principal; targetSubnetId?: Principal } = {},
  ): Promise<Principal> {
    const topology = this.topology;
    if (options.targetSubnetId !== undefined) {
      const subnet = topology?.subnetById(options.targetSubnetId);
      if (!subnet)
        throw new UsageError(
          `createCanister: no subnet ${options.targetSubnetId.toText()} on this replica${topology ? '' : ' (it has one subnet; pass `subnets` to Replica.create for more)'}`,
        );
      topology!.userTarget = subnet;
    }
    try {
      return await this.createCanisterOnTarget(options);
    } finally {
      if (topology) topology.userTarget = undefined;
    }
  }

  private async createCanisterOnTarget(options: {
    sender?: Principal;
    controllers?: Principal[];
    cycles?: bigint;
    targetCanisterId?: Principal;
  }): Promise<Principal> {
    const result = (await this.callManagement(
      'provisional_create_canister_with_cycles',
      {
        amount: options.cycles === undefined ? [] : [options.cycles],
        settings: options.controllers ? [canisterSettings({ controllers: [options.controllers] })] : [],
        specified_id: options.targetCanisterId ? [options.targetCanisterId] : [],
        sender_canister_version: [],
      },
      options.sender,
    )) as { canister_id: Principal };
    return result.canister_id;
  }

  /**
   * Installs code on an empty canister (install_code, mode install).
   * @example
   * await pic.installCode({ canisterId, wasm, arg: IDL.encode([IDL.Nat], [5n]) });
   */
  async installCode(options: InstallOptions): Promise<void> {
    await this.install(options, { install: null });
  }

  /**
   * Upgrades a canister: pre_upgrade, new module, post_upgrade; stable memory is kept.
   * @example
   * await pic.upgradeCanister({ canisterId, wasm: v2, upgradeModeOptions: { skip_pre_upgrade: true } });
   */
  async upgradeCanister(options: UpgradeOptions): Promise<void> {
    const o = options.upgradeModeOptions ?? {};
    const eop = this.scheduler.canister(options.canisterId)?.module?.enhancedOrthogonalPersistence ?? false;
    const persistence = o.wasm_memory_persistence ?? (eop ? 'keep' : undefined);
    await this.install(options, {
      upgrade: [
        {
          skip_pre_upgrade: o.skip_pre_upgrade === undefined ? [] : [o.skip_pre_upgrade],
          wasm_memory_persistence: persistence ? [{ [persistence]: null }] : [],
        },
      ],
    });
  }

  /**
   * Replaces a canister's code and wipes its state (heap and stable memory), then runs init.
   * @example
   * await pic.reinstallCode({ canisterId, wasm });
   */
  async reinstallCode(options: InstallOptions): Promise<void> {
    await this.install(options, { reinstall: null });
  }

  private async install(options: InstallOptions, mode: unknown): Promise<void> {
    const arg = options.arg ?? EMPTY_ARG;
    const wasm = await wasmBytes(options.wasm);
    // Like dfx and icp-cli, modules that do not fit in one ingress message (Azle's are ~3.5 MB)
    // go through the chunk store: upload_chunk per MiB, then install_chunked_code.
    if (wasm.length + arg.length > this.scheduler.limits.maxIngressBytes - 64 * 1024) {
      const hashes: { hash: Uint8Array }[] = [];
      for (let offset = 0; offset < wasm.length; offset += CHUNK_BYTES) {
        const chunk = wasm.subarray(offset, offset + CHUNK_BYTES);
        hashes.push((await this.callManagement('upload_chunk', { canister_id: options.canisterId, chunk }, options.sender)) as { hash: Uint8Array });
      }
      await this.callManagement(
        'install_chunked_code',
        {
          mode,
          target_canister: options.canisterId,
          store_canister: [],
          chunk_hashes_list: hashes,
          wasm_module_hash: sha256(wasm),
          arg,
          sender_canister_version: [],
        },
        options.sender,
      );
      await this.callManagement('clear_chunk_store', { canister_id: options.canisterId }, options.sender);
      return;
    }
    await this.callManagement(
      'install_code',
      {
        mode,
        canister_id: options.canisterId,
        wasm_module: wasm,
        arg,
        sender_canister_version: [],
      },
      options.sender,
    );
  }

  /**
   * Stops a canister; resolves once it has no open call contexts.
   * @example
   * await pic.stopCanister({ canisterId });
   */
  async stopCanister(options: { canisterId: Principal; sender?: Principal }): Promise<void> {
    await this.callManagement('stop_canister', { canister_id: options.canisterId }, options.sender);
  }

  /**
   * @example
   * await pic.startCanister({ canisterId });
   */
  async startCanister(options: { canisterId: Principal; sender?: Principal }): Promise<void> {
    await this.callManagement('start_canister', { canister_id: options.canisterId }, options.sender);
  }

  /**
   * Deletes a stopped canister.
   * @example
   * await pic.stopCanister({ canisterId }); await pic.deleteCanister({ canisterId });
   */
  async deleteCanister(options: { canisterId: Principal; sender?: Principal }): Promise<void> {
    await this.callManagement('delete_canister', { canister_id: options.canisterId }, options.sender);
  }

  /**
   * Calls any management canister method with Candid values, as `sender` (default anonymous).
   * @example
   * const status = await pic.callManagement('canister_status', { canister_id: canisterId });
   */
  async callManagement(method: keyof typeof managementMethods, arg: unknown, sender: Principal = Principal.anonymous()): Promise<unknown> {
    const [argTypes, resultTypes] = managementMethods[method];
    const bytes = await this.updateCall({
      canisterId: Principal.managementCanister(),
      method,
      arg: new Uint8Array(IDL.encode([...argTypes], argTypes.length ? [arg] : [])),
      sender,
    });
    const values = IDL.decode([...resultTypes], bytes);
    return values[0];
  }

  /**
   * An update call with a Candid-encoded argument; resolves with the reply bytes or throws CanisterRejectError.
   * @example
   * const reply = await pic.updateCall({ canisterId, method: 'inc', arg: IDL.encode([], []) });
   */
  async updateCall(options: CallOptions): Promise<Uint8Array> {
    const id = options.canisterId.toText();
    const sender = (options.sender ?? Principal.anonymous()).toUint8Array();
    const arg = options.arg ?? EMPTY_ARG;
    const refused = this.scheduler.inspectIngress(id, options.method, arg, sender);
    const response = refused ?? (await this.scheduler.submitIngress(id, options.method, arg, sender));
    this.store?.flush(this.scheduler, this.management);
    return unwrap(response, id, options.method);
  }

  /**
   * A query call (composite queries included); nothing it does persists.
   * @example
   * const reply = await pic.queryCall({ canisterId, method: 'get' });
   */
  async queryCall(options: CallOptions): Promise<Uint8Array> {
    const id = options.canisterId.toText();
    const response = this.scheduler.query(id, options.method, options.arg ?? EMPTY_ARG, (options.sender ?? Principal.anonymous()).toUint8Array());
    return unwrap(response, id, options.method);
  }

  /**
   * A Candid actor for a canister; change the sender with setIdentity / setPrincipal.
   * @example
   * const actor = pic.createActor<_SERVICE>(idlFactory, canisterId);
   * actor.setPrincipal(alice);
   */
  createActor<T = Record<string, (...args: any[]) => Promise<any>>>(idlFactory: IdlFactory, canisterId: Principal, sender?: Principal): Actor<T> {
    return createActor<T>(this, idlFactory, canisterId, sender);
  }

  /**
   * Moves time forward (freezing it if it was real). Timers fire on the next tick().
   * @example
   * await pic.advanceTime(60_000); await pic.tick();
   */
  async advanceTime(ms: number): Promise<void> {
    this.clock.advance(ms);
    this.scheduler.scheduleRounds(); // a best-effort deadline may have passed
  }

  /**
   * Sets the time (ms since 1970 or a Date) and freezes it there; it cannot go back.
   * @example
   * await pic.setTime(new Date('2030-01-01'));
   */
  async setTime(time: number | Date): Promise<void> {
    this.clock.set(time);
    this.scheduler.scheduleRounds(); // a best-effort deadline may have passed
  }

  /**
   * The replica's time in milliseconds since 1970.
   * @example
   * const now = pic.getTime();
   */
  getTime(): number {
    return Number(this.clock.nowNanos() / 1_000_000n);
  }

  /**
   * Runs `rounds` execution rounds: heartbeats, due global timers, then every queued message.
   * @example
   * await pic.tick(3);
   */
  async tick(rounds = 1): Promise<void> {
    for (let i = 0; i < rounds; i++) await this.scheduler.tick();
  }

  /**
   * Captures a canister's whole state (module, heap, stable memory, certified data, timer).
   * @example
   * const snap = await pic.takeSnapshot(canisterId);
   * await actor.reset();
   * await snap.restore();
   */
  async takeSnapshot(canisterId: Principal): Promise<Snapshot> {
    await this.scheduler.settle();
    const canister = this.requireCanister(canisterId);
    const data = captureSnapshot(canister, new Uint8Array(), this.clock.nowNanos());
    return {
      restore: async () => {
        await this.scheduler.settle();
        const target = this.requireCanister(canisterId);
        restoreSnapshot(target, data);
        target.version += 1n;
        this.store?.flush(this.scheduler, this.management);
      },
    };
  }

  /**
   * A canister's cycle balance.
   * @example
   * const cycles = pic.getCyclesBalance(canisterId);
   */
  getCyclesBalance(canisterId: Principal): bigint {
    return this.requireCanister(canisterId).balance;
  }

  /**
   * The canister log: debug_print lines and traps of replicated executions (management
   * canister fetch_canister_logs, subject to log_visibility).
   * @example
   * for (const r of await pic.fetchCanisterLogs({ canisterId })) console.log(new TextDecoder().decode(r.content));
   */
  async fetchCanisterLogs(options: { canisterId: Principal; sender?: Principal }): Promise<{ idx: bigint; timestamp_nanos: bigint; content: Uint8Array }[]> {
    const [argTypes, resultTypes] = managementMethods.fetch_canister_logs;
    const bytes = await this.queryCall({
      canisterId: Principal.managementCanister(),
      method: 'fetch_canister_logs',
      arg: new Uint8Array(IDL.encode([...argTypes], [{ canister_id: options.canisterId, filter: [] }])),
      sender: options.sender,
    });
    return (IDL.decode([...resultTypes], bytes)[0] as unknown as { canister_log_records: { idx: bigint; timestamp_nanos: bigint; content: Uint8Array }[] })
      .canister_log_records;
  }

  /**
   * A canister's controllers.
   * @example
   * const [owner] = pic.getControllers(canisterId);
   */
  getControllers(canisterId: Principal): Principal[] {
    return [...this.requireCanister(canisterId).settings.controllers];
  }

  /**
   * A copy of a canister's whole stable memory.
   * @example
   * const bytes = await pic.getStableMemory(canisterId);
   */
  async getStableMemory(canisterId: Principal): Promise<Uint8Array> {
    await this.scheduler.settle();
    const stable = this.requireCanister(canisterId).stable;
    return stable.read(0, stable.byteLength);
  }

  /**
   * Replaces a canister's stable memory (grown to fit), e.g. to load a fixture state before an upgrade test.
   * @example
   * await pic.setStableMemory(canisterId, bytes);
   */
  async setStableMemory(canisterId: Principal, bytes: Uint8Array): Promise<void> {
    await this.scheduler.settle();
    const canister = this.requireCanister(canisterId);
    const stable = new StableMemory();
    stable.grow(Math.ceil(bytes.length / WASM_PAGE));
    stable.write(0, bytes);
    canister.stable = stable;
    this.scheduler.queryCache?.clear();
    this.store?.flush(this.scheduler, this.management);
  }

  /**
   * Adds cycles (provisional_top_up_canister).
   * @example
   * await pic.addCycles(canisterId, 10n ** 12n);
   */
  async addCycles(canisterId: Principal, amount: bigint): Promise<void> {
    await this.callManagement('provisional_top_up_canister', { canister_id: canisterId, amount });
  }

  /**
   * Stops automatic rounds and waits for queued messages; the replica is unusable afterwards.
   * @example
   * await pic.tearDown();
   */
  async tearDown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.autoTickTimer) clearInterval(this.autoTickTimer);
    await this.scheduler.settle();
    this.scheduler.close();
    try {
      this.store?.flush(this.scheduler, this.management);
    } finally {
      await this.store?.close();
    }
  }

  /**
   * The replica's metrics in the Prometheus text format (the same text as GET /_/metrics):
   * rounds, instructions per round and canister, queue lengths, best-effort expiries, query
   * cache hits and misses, latency histograms.
   * @example
   * const text = pic.metrics();
   */
  metrics(): string {
    return this.scheduler.metricsText();
  }

  /**
   * Rounds executed so far.
   * @example
   * const before = pic.rounds(); await actor.inc(); console.log(pic.rounds() - before);
   */
  rounds(): number {
    return this.scheduler.round;
  }

  private requireCanister(canisterId: Principal) {
    const c = this.scheduler.canister(canisterId);
    if (!c) throw new UsageError(`Canister ${canisterId.toText()} does not exist on this replica`);
    return c;
  }
}

function unwrap(response: CallResponse, canisterId: string, method: string): Uint8Array {
  if (response.kind === 'reply') return response.data;
  throw new CanisterRejectError({
    rejectCode: response.code as RejectCode,
    errorCode: response.errorCode as ErrorCode | undefined,
    canisterId: canisterId === MANAGEMENT_CANISTER_TEXT ? 'aaaaa-aa (management canister)' : canisterId,
    method,
    message: response.message,
  });
}

/**
 * Imports a Node-only module by a specifier bundlers do not follow, so a browser build of the
 * replica contains none of them (they are only reached with stateDir or a wasm file path).
 */
function nodeOnly(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

async function wasmBytes(wasm: Uint8Array | ArrayBuffer | string): Promise<Uint8Array> {
  if (wasm instanceof Uint8Array) return wasm;
  if (wasm instanceof ArrayBuffer) return new Uint8Array(wasm);
  // A path, as PicJS accepts: read with node:fs, loaded only here so the engine stays portable.
  const { readFile } = (await nodeOnly('node:fs/promises')) as typeof import('node:fs/promises');
  return new Uint8Array(await readFile(wasm));
}

function seedBytes(seed: Uint8Array | number | undefined): Uint8Array | undefined {
  if (seed === undefined) return undefined;
  if (seed instanceof Uint8Array) return seed;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(Math.trunc(seed)));
  return b;
}

/** A `create_canister` / `update_settings` settings record (ic.did `canister_settings`): every field unset, then `over`. */
export function canisterSettings(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    controllers: [],
    compute_allocation: [],
    memory_allocation: [],
    freezing_threshold: [],
    reserved_cycles_limit: [],
    minimum_incoming_canister_call_cycles: [],
    log_visibility: [],
    log_memory_limit: [],
    snapshot_visibility: [],
    status_visibility: [],
    wasm_memory_limit: [],
    wasm_memory_threshold: [],
    environment_variables: [],
    ...over,
  };
}
