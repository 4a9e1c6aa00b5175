// One PocketIC instance: a Replica with a multi-subnet topology, its ingress messages, time
// control and (on demand) the IC's HTTP interface for agents. Operations that must not
// interleave (canister creation on a chosen subnet, time changes, ticks) run one at a time.
import { Principal } from '@dfinity/principal';
import { MANAGEMENT_CANISTER_TEXT } from '../ic/principal.ts';
import { equalBytes, toHex } from '../ic/bytes.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Replica } from '../index.ts';
import { withRootSubnetId, type SubnetSpec, type Subnet, type Topology } from '../topology/topology.ts';
import { subnetKeys, type SubnetKeys } from '../certification/keys.ts';
import type { HttpInterface } from '../http/interface.ts';
import { DiskStore } from '../store/disk-store.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import type { LogSink } from '../log.ts';
import type { UnderscoreSource } from './underscore.ts';
import { badRequest, rejectJson, unsupported, type EffectivePrincipal, type RejectJson } from './wire.ts';
import type { Limits } from '../limits.ts';

/**
 * A new instance's time: 2021-05-06 19:17:10 UTC, PocketIC's genesis timestamp
 * (rs/pocket_ic_server/src/pocket_ic.rs `GENESIS`; CHANGELOG 10.0.0 "06 May 2021 21:17:10 CEST").
 */
export const GENESIS_NANOS = 1_620_328_630_000_000_000n;
/** raw_rand's seed: fixed, so an instance answers the same run after run (PocketIC seeds its RNG with 42). */
const INSTANCE_SEED = 42;
/** Auto progress: a round at least this often when no artificial delay is asked for (ms). */
const AUTO_PROGRESS_INTERVAL_MS = 100;

const MANAGEMENT = MANAGEMENT_CANISTER_TEXT;
/**
 * Submitted calls remembered for await and ingress_status. The IC keeps an ingress history for a
 * few minutes; a test suite can make millions of calls, so the oldest are forgotten past this.
 */
const MAX_REMEMBERED_MESSAGES = 100_000;
const CREATE_METHODS = new Set(['create_canister', 'provisional_create_canister_with_cycles']);

/** The outcome of a call as PocketIC's `RawCanisterResult`: {"Ok": bytes} or {"Err": RejectResponse}. */
export type CallResult = { ok: Uint8Array } | { err: RejectJson };

interface Message {
  sender: Uint8Array;
  promise: Promise<CallResult>;
  result?: CallResult;
}

/** A submitted call waiting in the ingress pool for the next round. */
interface Pooled {
  canisterId: string;
  method: string;
  arg: Uint8Array;
  sender: Uint8Array;
  deliver: (result: Promise<CallResult>) => void;
}

const toResult = (r: CallResponse, certified: boolean): CallResult =>
  r.kind === 'reply' ? { ok: r.data } : { err: rejectJson(r.code, r.message, r.errorCode, certified) };

export interface InstanceOptions {
  id: number;
  subnets: SubnetSpec[];
  /** Initial time in ns (default GENESIS_NANOS). */
  timeNanos?: bigint;
  /** PocketIC's `state_dir`: the instance's state is restored from and saved to it. */
  stateDir?: string;
  onLog?: LogSink;
}

export class PocketIcInstance {
  readonly id: number;
  readonly replica: Replica;
  readonly topology: Topology;
  readonly keys: SubnetKeys;
  readonly specs: SubnetSpec[];
  readonly stateDir?: string;
  #store?: DiskStore;
  #messages = new Map<string, Message>();
  /** Submitted calls not yet executed: PocketIC runs them in the next round (tick or await). */
  #pool: Pooled[] = [];
  #nextMessage = 0;
  #lock: Promise<unknown> = Promise.resolve();
  #http?: HttpInterface;
  #autoProgress?: ReturnType<typeof setTimeout>;
  #lastRoundTime = -1n;
  deleted = false;

  private constructor(id: number, replica: Replica, keys: SubnetKeys, specs: SubnetSpec[], stateDir?: string) {
    this.id = id;
    this.replica = replica;
    this.topology = replica.topology!;
    this.keys = keys;
    this.specs = specs;
    this.stateDir = stateDir;
  }

  static async create(options: InstanceOptions): Promise<PocketIcInstance> {
    // Deterministic keys: the root key (and so the first subnet's id) is the same run after run.
    const keys = subnetKeys(sha256(new TextEncoder().encode('pocket-ic root key')), sha256(new TextEncoder().encode('pocket-ic node key')));
    let specs = options.subnets;
    let timeNanos = options.timeNanos ?? GENESIS_NANOS;
    const saved = options.stateDir ? readSavedTopology(options.stateDir) : undefined;
    if (saved) {
      specs = saved.subnets;
      if (options.timeNanos === undefined || saved.timeNanos > timeNanos) timeNanos = saved.timeNanos;
    }
    if (specs.length === 0) throw badRequest('ExtendedSubnetConfigSet must contain at least one subnet');
    // The first subnet in PocketIC's order (NNS when there is one) signs: its id is the root key's.
    const replica = await Replica.create({
      time: new Date(0),
      seed: INSTANCE_SEED,
      log: options.onLog ? 'normal' : 'quiet',
      onLog: options.onLog,
      subnets: withRootSubnetId(specs, keys.subnetId),
      limits: benchmarkingLimits(specs),
      keys, // queries' data certificates verify against the instance's root key
    });
    replica.clock.setNanos(timeNanos);
    const instance = new PocketIcInstance(options.id, replica, keys, specs, options.stateDir);
    if (options.stateDir) {
      mkdirSync(options.stateDir, { recursive: true });
      instance.#store = await DiskStore.open(options.stateDir);
      const restored = await instance.#store.restore(replica.scheduler, replica.management);
      for (const c of replica.scheduler.canisters.values()) instance.topology.assign(c);
      // As startLocalNetwork does: the calls the HTTP interface knew come back first (answered
      // ones with their replies, those in flight as processing), then the scheduler's state from
      // the same commit (queues, call contexts, callbacks, management requests in flight), so
      // execution continues where it stood and no canister waits on a response that never comes.
      if (restored.completedCalls.length > 0 || restored.inflightCalls.length > 0) {
        const http = await instance.httpInterface();
        http.restoreCompletedCalls(restored.completedCalls);
        http.restoreInflightCalls(restored.inflightCalls);
      }
      if (restored.schedulerState) replica.scheduler.restore(restored.schedulerState);
    }
    return instance;
  }

  /** What `/_/topology` and `/_/dashboard` show of this instance (underscore.ts). */
  get underscore(): UnderscoreSource {
    return { topology: this.topology, scheduler: this.replica.scheduler, nodeIds: () => [this.keys.nodeId] };
  }

  /** Runs `fn` when no other exclusive operation of this instance runs. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------------------------ time

  get timeNanos(): bigint {
    return this.replica.clock.nowNanos();
  }

  setTime(nanos: bigint): Promise<void> {
    return this.exclusive(() => {
      const now = this.timeNanos;
      // PocketIC's error for this (CHANGELOG 7.0.0), in its Debug format.
      if (nanos < now) throw badRequest(`SettingTimeIntoPast((${now}, ${nanos}))`);
      this.replica.clock.setNanos(nanos);
    });
  }

  /** A round: heartbeats and due timers. Time moves by 1 ns if nothing moved it since the last round (PocketIC 7.0.0). */
  tick(): Promise<void> {
    return this.exclusive(() => this.round());
  }

  /**
   * One round: the pooled calls enter the subnet's queue together, heartbeats and due timers run
   * (scheduler.tick runs them before the queue drains), then everything queued runs to completion.
   * Calls submitted before a round therefore interleave at their awaits, as on the IC.
   */
  private async round(): Promise<void> {
    const now = this.timeNanos;
    if (now <= this.#lastRoundTime) this.replica.clock.setNanos(this.#lastRoundTime + 1n);
    this.#lastRoundTime = this.timeNanos;
    this.#flushPool();
    await this.replica.scheduler.tick();
  }

  #flushPool(): void {
    const scheduler = this.replica.scheduler;
    for (const m of this.#pool.splice(0)) m.deliver(scheduler.submitIngress(m.canisterId, m.method, m.arg, m.sender).then((r) => toResult(r, true)));
  }

  get autoProgress(): boolean {
    return this.#autoProgress !== undefined;
  }

  /** Time follows the wall clock and rounds run every `delayMs` (PocketIC `/auto_progress`). */
  startAutoProgress(delayMs = 0): void {
    if (this.#autoProgress) throw badRequest('Auto progress mode has already been enabled.');
    const step = () => {
      if (this.deleted) return;
      void this.exclusive(async () => {
        const real = BigInt(Date.now()) * 1_000_000n;
        if (real > this.timeNanos) this.replica.clock.setNanos(real);
        await this.round();
      }).finally(() => {
        if (this.#autoProgress) this.#autoProgress = setTimeout(step, Math.max(delayMs, AUTO_PROGRESS_INTERVAL_MS));
      });
    };
    this.#autoProgress = setTimeout(step, 0);
  }

  stopAutoProgress(): void {
    if (this.#autoProgress) clearTimeout(this.#autoProgress);
    this.#autoProgress = undefined;
  }

  // ------------------------------------------------------------------------------ calls

  /** The subnet a call is routed to (PocketIC `route_call`), or a 400 saying why none. */
  route(canisterId: Principal, effective: EffectivePrincipal): Subnet {
    // The management canister's id is the empty principal (compared as bytes: toText costs a
    // CRC-32 and a base32 encoding on every call).
    if (canisterId.toUint8Array().length !== 0) {
      const subnet = this.topology.subnetOf(canisterId);
      if (subnet) return subnet;
      throw badRequest(`BadIngressMessage("Canister ${canisterId.toText()} does not belong to any subnet of this instance.")`);
    }
    if (effective.kind === 'subnet') {
      const subnet = this.topology.subnetById(effective.id);
      if (!subnet) throw badRequest(`SubnetNotFound(${effective.id.toText()})`);
      return subnet;
    }
    if (effective.kind === 'canister') {
      const subnet = this.topology.subnetOf(effective.id);
      if (!subnet) throw badRequest(`BadIngressMessage("Effective canister id ${effective.id.toText()} does not belong to any subnet of this instance.")`);
      return subnet;
    }
    return this.topology.defaultSubnet;
  }

  /**
   * Submits an update call (PocketIC `submit_ingress_message`): checked now (inspect_message and
   * the rest), executed in the next round (`tick`, or `awaitMessage` of any pooled call). Calls
   * that create canisters run at once, since their subnet is chosen while they run.
   */
  async submit(
    sender: Principal,
    canisterId: Principal,
    method: string,
    arg: Uint8Array,
    effective: EffectivePrincipal,
  ): Promise<{ messageId: Uint8Array; subnet: Subnet } | { err: RejectJson }> {
    const subnet = this.route(canisterId, effective);
    const id = canisterId.toText();
    const senderBytes = sender.toUint8Array();
    const scheduler = this.replica.scheduler;
    const refused = scheduler.inspectIngress(id, method, arg, senderBytes);
    if (refused)
      return {
        err: rejectJson(
          refused.kind === 'reject' ? refused.code : 5,
          refused.kind === 'reject' ? refused.message : '',
          refused.kind === 'reject' ? refused.errorCode : undefined,
          false,
        ),
      };
    const messageId = sha256(new TextEncoder().encode(`pocket-ic instance ${this.id} message ${this.#nextMessage++}`));
    let promise: Promise<CallResult>;
    if (id === MANAGEMENT && CREATE_METHODS.has(method)) {
      // The new canister's subnet is decided while the call runs: run it now (after what is
      // already pooled), holding the instance until it has.
      const response = await this.exclusive(async () => {
        this.#flushPool();
        this.topology.userTarget = subnet;
        try {
          return await scheduler.submitIngress(id, method, arg, senderBytes);
        } finally {
          this.topology.userTarget = undefined;
        }
      });
      promise = Promise.resolve(toResult(response, true));
    } else {
      promise = new Promise<CallResult>((resolve) => this.#pool.push({ canisterId: id, method, arg, sender: senderBytes, deliver: resolve }));
    }
    const message: Message = { sender: senderBytes, promise };
    void promise.then((r) => (message.result = r));
    this.#messages.set(toHex(messageId), message);
    if (this.#messages.size > MAX_REMEMBERED_MESSAGES) this.#messages.delete(this.#messages.keys().next().value!);
    return { messageId, subnet };
  }

  /** Waits for a submitted call's outcome (PocketIC `await_ingress_message`). */
  async awaitMessage(messageId: Uint8Array): Promise<CallResult> {
    const message = this.#messages.get(toHex(messageId));
    if (!message) throw badRequest(`The message ${toHex(messageId)} was never submitted to instance ${this.id}`);
    // Still in the pool: execute a round (PocketIC executes rounds until the message completes).
    if (message.result === undefined && this.#pool.length > 0) await this.exclusive(() => this.round());
    return message.promise;
  }

  /** PocketIC `ingress_status`: the outcome if known, null while running or unknown. */
  ingressStatus(messageId: Uint8Array, caller?: Principal): CallResult | null {
    const message = this.#messages.get(toHex(messageId));
    if (!message) return null;
    if (caller && !equalBytes(caller.toUint8Array(), message.sender)) {
      throw badRequest(`Forbidden("The user tries to access Request ID not signed by the caller.")`);
    }
    return message.result ?? null;
  }

  /** A query (PocketIC `/read/query`): never persists, answered at once. */
  query(sender: Principal, canisterId: Principal, method: string, arg: Uint8Array, effective: EffectivePrincipal): CallResult {
    this.route(canisterId, effective);
    return toResult(this.replica.scheduler.query(canisterId.toText(), method, arg, sender.toUint8Array()), false);
  }

  canister(canisterId: Principal) {
    const c = this.replica.scheduler.canister(canisterId);
    if (!c) throw badRequest(`CanisterNotFound(${canisterId.toText()})`);
    return c;
  }

  // ------------------------------------------------------------------------------ HTTP interface

  /**
   * The IC's HTTP interface for this instance (`/instances/<id>/api/…` and HTTP gateways), made
   * (and its modules loaded) on first use: most test suites never need it.
   */
  async httpInterface(): Promise<HttpInterface> {
    if (!this.#http) {
      const [{ HttpInterface }, { schedulerEngine }, { nodeCrypto }, { topologyEngine }] = await Promise.all([
        import('../http/interface.ts'),
        import('../http/engine-adapter.ts'),
        import('../http/node-crypto.ts'),
        import('../topology/engine.ts'),
      ]);
      const engine = topologyEngine(schedulerEngine(this.replica.scheduler), this.topology, (run) => this.exclusive(run));
      this.#http ??= new HttpInterface({ engine, keys: this.keys, crypto: nodeCrypto });
      // With a state_dir its calls are saved with the state (delete()), as the CLI saves them.
      if (this.stateDir) this.#http.registry.keepForDisk();
    }
    return this.#http;
  }

  // ------------------------------------------------------------------------------ lifetime

  /** Stops progress, waits for running messages and, with a state_dir, saves the state there. */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    this.stopAutoProgress();
    for (const m of this.#pool.splice(0))
      m.deliver(Promise.resolve({ err: rejectJson(2, `Instance ${this.id} was deleted before the call ran`, undefined, false) }));
    await this.replica.tearDown();
    if (this.stateDir && this.#store) {
      this.#store.flush(this.replica.scheduler, this.replica.management, this.#http?.registry);
      await this.#store.close();
      writeFileSync(
        join(this.stateDir, TOPOLOGY_FILE),
        JSON.stringify(
          {
            subnets: this.topology.subnets.map((s) =>
              plainSpec({
                kind: s.kind,
                costSchedule: s.costSchedule === 'Free' && s.kind === 'Application' ? 'Free' : undefined,
                benchmarking: s.benchmarking,
              }),
            ),
            timeNanos: this.timeNanos.toString(),
          },
          null,
          2,
        ) + '\n',
      );
    }
  }
}

/**
 * PocketIC's Benchmarking instruction config raises the per-message, per-round and query-graph
 * instruction limits to 99,999,999,999,999 (rs/pocket_ic_server/src/pocket_ic.rs
 * `state_machine_builder`, read 2026-12-04). Our limits hold for a whole instance, so every
 * subnet must ask for it, or none.
 */
const BENCHMARKING_INSTRUCTIONS = 99_999_999_999_999;

function benchmarkingLimits(specs: SubnetSpec[]): Partial<Limits> | undefined {
  const asking = specs.filter((s) => s.benchmarking).length;
  if (asking === 0) return undefined;
  if (asking < specs.length) {
    throw unsupported(
      'SubnetInstructionConfig::Benchmarking on some subnets of an instance only',
      'instruction limits hold for a whole instance here: ask for it on every subnet, or use one instance per configuration',
    );
  }
  const n = BENCHMARKING_INSTRUCTIONS;
  return { instructionsPerUpdate: n, instructionsPerQuery: n, instructionsPerInstall: n, instructionsPerRound: n };
}

const TOPOLOGY_FILE = 'pocket-ic-topology.json';

function plainSpec(s: SubnetSpec): SubnetSpec {
  return { kind: s.kind, ...(s.costSchedule ? { costSchedule: s.costSchedule } : {}), ...(s.benchmarking ? { benchmarking: true } : {}) };
}

function readSavedTopology(dir: string): { subnets: SubnetSpec[]; timeNanos: bigint } | undefined {
  const path = join(dir, TOPOLOGY_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { subnets: SubnetSpec[]; timeNanos: string };
    return { subnets: saved.subnets, timeNanos: BigInt(saved.timeNanos) };
  } catch (error) {
    throw badRequest(`state_dir ${dir}: ${TOPOLOGY_FILE} is unreadable (${(error as Error).message})`);
  }
}
