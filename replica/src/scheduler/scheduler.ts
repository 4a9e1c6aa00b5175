// The subnet's message routing and execution (interface spec, "Abstract behaviour"), organised
// as the IC's scheduler organises it (dfinity/ic rs/execution_environment/src/scheduler.rs):
// deterministic rounds with a per-thread instruction budget, a few execution threads, one
// message per canister at a time, round-robin fairness across canisters, heartbeats and timers
// once per round, canister-pair queues with the IC's capacities, callback limits, best-effort
// calls whose deadlines expire, and messages longer than a slice continued over later rounds
// (deterministic time slicing). The queues, call contexts, callbacks and deadlines are plain
// data (snapshot()/restore(), see README.md). How rounds are paced in wall-clock time is
// `SubnetOptions.pacing`. This file holds the Scheduler: the state (SubnetState), the public API,
// pacing and the round loop; the other files of the folder do the rest, each reached through
// the host interface it declares (README.md, "The files").
import { resolveModuleOptions, type ModuleOptions } from '../execution/module.ts';
import { Principal } from '@dfinity/principal';
import { Canister } from '../execution/canister.ts';
import type { Entry, ExecutionResult } from '../execution/execute.ts';
import type { ApiKind, MessageContext } from '../system-api/context.ts';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';
import { instructionLimit, resolveLimits } from '../limits.ts';
import { freezingThresholdCycles, isFrozen, OutOfCyclesError, type CyclesState } from '../cycles/account.ts';
import type { StableMemory } from '../execution/stable-memory.ts';
import type { WasmInstance } from '../execution/instance.ts';
import { Clock } from './clock.ts';
import { createMessageContext, cyclesStateOf, executionKind } from './message-context.ts';
import { ReplicaLog } from '../log.ts';
import type { Limits } from '../limits.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import type { CallContext, CallOrigin, InputMessage, RequestMessage } from './call-context.ts';
import { evaluateQuery } from './query.ts';
import { admission, executionFailure, hypervisorError, userErrorResponse } from '../ic/user-errors.ts';
import {
  INITIAL_NOTARY_DELAY_APP_SUBNET_MS,
  INSTRUCTION_OVERHEAD_PER_CANISTER,
  MAX_INGRESS_MESSAGES_PER_BLOCK,
  type Pacing,
  type SubnetOptions,
} from './config.ts';
import { SchedulerMetrics, renderMetrics } from './metrics.ts';
import { QueryCache, type QueryObservation } from './query-cache.ts';
import type { SchedulerState } from './state.ts';
import type { SliceChannel } from './slicing.ts';
import { SubnetState } from './subnet-state.ts';
import * as calls from './calls.ts';
import * as tasks from './tasks.ts';
import { Ingress } from './ingress.ts';
import * as runs from './run.ts';
import * as turns from './turns.ts';
import * as subnetMessages from './subnet-messages.ts';
import type { ManagementHandler } from './subnet-messages.ts';

export type { ManagementHandler } from './subnet-messages.ts';
import { restoreState, snapshotState } from './persistence.ts';
import { abortPausedAboveLimit } from './paused.ts';
import { deadlineDue, earliestDeadline, expireDeadlines, shedBestEffortMessages } from './best-effort.ts';

export interface SchedulerOptions extends SubnetOptions {
  clock: Clock;
  log: ReplicaLog;
  limits?: Partial<Limits>;
  subnetId: Uint8Array;
  /** How canister modules are metered and rewritten (execution/module.ts). */
  modules?: ModuleOptions;
}

const reject = (code: RejectCode, errorCode: ErrorCode | undefined, message: string): CallResponse => ({ kind: 'reject', code, errorCode, message });

/** Yields to the event loop (setImmediate where there is one: it does not wait for timers). */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** How long instant pacing may keep the event loop before it lets HTTP requests and queries in. */
const INSTANT_YIELD_MS = 8;

export class Scheduler {
  readonly canisters = new Map<string, Canister>();
  readonly clock: Clock;
  readonly log: ReplicaLog;
  readonly limits: Limits;
  /** How this replica's canister modules are metered and rewritten; every loadModule passes them. */
  readonly moduleOptions: Required<ModuleOptions>;
  readonly subnetId: Uint8Array;
  readonly pacing: Pacing;
  /** Milliseconds between rounds with mainnet pacing. */
  readonly roundMs: number;
  readonly metrics = new SchedulerMetrics();
  /** The replica-side query cache; undefined when switched off (`--no-query-cache`). */
  readonly queryCache?: QueryCache;
  management?: ManagementHandler;
  /** Supplies `ic0.data_certificate_*` to non-replicated queries (set by the certification layer). */
  dataCertificateProvider?: (canisterId: Uint8Array) => Uint8Array | undefined;
  /** Called when an ingress message submitted with a `key` (or restored from a snapshot) is answered. */
  onIngressCompleted?: (key: string | undefined, response: CallResponse) => void;

  /** The state every part of the scheduler shares (queues, call contexts, callbacks, paused executions, totals). */
  readonly state = new SubnetState();
  /** Clock time of the last round that ran heartbeats and timers. */
  private lastTasksTime = 0n;
  /** Ingress waiters and the answers held for a certificate. */
  private readonly ingress = new Ingress(this, () => this.closed);
  private roundLoop?: Promise<void>;
  private inRound = false;
  private roundFinished: Array<() => void> = [];
  /** The time of the round under way (ic0.time of its replicated executions). */
  roundTime?: bigint;
  /** The management canister's asynchronous work under way (subnet-messages.ts); settle() waits for it. */
  private pendingAsync = new Set<Promise<void>>();
  private roundTimer?: ReturnType<typeof setInterval>;
  private deadlineTimer?: ReturnType<typeof setTimeout>;
  private roundEndWaiters: Array<() => void> = [];
  private lastYield = 0;
  private closed = false;
  /** Resolved when a canister in `stopping` reaches `stopped` (used by stop_canister). */
  readonly stopWaiters = new Map<string, ((stopped: boolean) => void)[]>();

  /** Rounds executed so far. */
  get round(): number {
    return this.state.round;
  }

  /** Open call contexts, by id. */
  get callContexts(): Map<number, CallContext> {
    return this.state.callContexts;
  }

  constructor(options: SchedulerOptions) {
    this.clock = options.clock;
    this.log = options.log;
    this.limits = resolveLimits(options.limits);
    this.moduleOptions = resolveModuleOptions(options.modules);
    this.subnetId = options.subnetId;
    this.pacing = options.pacing ?? 'instant';
    if (this.pacing !== 'instant' && this.pacing !== 'mainnet') throw new Error(`pacing must be 'instant' or 'mainnet', got '${String(this.pacing)}'`);
    this.roundMs = options.roundMs ?? INITIAL_NOTARY_DELAY_APP_SUBNET_MS;
    if (!Number.isFinite(this.roundMs) || this.roundMs <= 0) throw new Error(`roundMs must be a positive number of milliseconds, got ${options.roundMs}`);
    if (options.queryCache !== false) this.queryCache = new QueryCache(this.limits, this.metrics);
    if (this.pacing === 'mainnet') {
      this.roundTimer = setInterval(() => this.pacedRound(), this.roundMs);
      (this.roundTimer as { unref?: () => void }).unref?.();
    }
  }

  canister(id: string | Principal | Uint8Array): Canister | undefined {
    return this.canisters.get(toText(id));
  }

  // ---------------------------------------------------------------- message contexts

  newContext(canister: Canister, kind: ApiKind, init: Partial<MessageContext> = {}): MessageContext {
    const ctx = createMessageContext(this, canister, kind, init);
    if (kind === 'U' || kind === 'Ry' || kind === 'Rt' || kind === 'T') ctx.refuseCall = (call) => calls.refuseCall(this, canister, ctx, call);
    else if (this.observation && !ctx.replicated) {
      ctx.observed = this.observation;
      this.observation.canisters.add(canister.idText);
    }
    return ctx;
  }

  private observation?: QueryObservation;

  /** Runs a query evaluation noting what it reads and which canisters it evaluates (query cache). */
  observeQuery<T>(observation: QueryObservation, evaluate: () => T): T {
    const previous = this.observation;
    this.observation = observation;
    try {
      return evaluate();
    } finally {
      this.observation = previous;
    }
  }

  budgetFor(kind: ApiKind): bigint {
    return instructionLimit(this.limits, executionKind(kind));
  }

  /** The canister's cycles account as cycles/account.ts sees it; `balance` writes through. */
  cyclesState(canister: Canister): CyclesState {
    return cyclesStateOf(canister);
  }

  /**
   * Executes an entry point and logs one line for it (run.ts). `persist`: true keeps the
   * changes, false discards them, 'sandbox' keeps them until the composite query ends (execute.ts).
   */
  run(
    canister: Canister,
    ctx: MessageContext,
    entry: Entry,
    persist: boolean | 'sandbox',
    label: { method: string; callerName?: string },
    priorInstructions = 0n,
  ): ExecutionResult {
    return runs.run(this, canister, ctx, entry, persist, label, priorInstructions);
  }

  /**
   * As `run`, for a replicated message that deterministic time slicing may pause: `channel`
   * hears of each slice used up and says when the next may run (a later round).
   */
  runSliced(
    canister: Canister,
    ctx: MessageContext,
    entry: Entry,
    label: { method: string; callerName?: string },
    channel: SliceChannel,
    priorInstructions = 0n,
  ): Promise<ExecutionResult> {
    return runs.runSliced(this, canister, ctx, entry, label, channel, priorInstructions);
  }

  /**
   * One step of install_code (start, init, pre_upgrade, post_upgrade), time-sliced with the
   * install slice; resolves when the step has ended (run.ts).
   */
  runInstallStep(
    canister: Canister,
    ctx: MessageContext,
    entry: Entry,
    label: { method: string },
    priorInstructions: bigint,
    view?: () => { instance?: WasmInstance; stable: StableMemory },
  ): Promise<ExecutionResult> {
    return runs.runInstallStep(this, canister, ctx, entry, label, priorInstructions, view);
  }

  callerName(caller: Uint8Array): string {
    if (caller.length === 1 && caller[0] === 4) return 'anonymous';
    if (caller.length === 0) return 'system';
    const text = Principal.fromUint8Array(caller).toText();
    return this.canisters.get(text)?.name ?? text;
  }

  // ---------------------------------------------------------------- ingress (ingress.ts) and queries

  /**
   * The checks made before an ingress update call is accepted (interface spec, "Ingress
   * message inspection"): the canister exists, runs, has code and the method, its queue has
   * room, and its canister_inspect_message accepts the message. Returns a reject, or undefined
   * if accepted.
   */
  inspectIngress(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array): CallResponse | undefined {
    return this.ingress.inspect(canisterId, method, arg, sender);
  }

  /**
   * Enqueues an ingress update call (after inspectIngress) and resolves with its response.
   * `key` (e.g. the request id) is kept with the message in the state and handed to
   * onIngressCompleted, so a response after a restore can still be recorded.
   */
  submitIngress(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array, key?: string): Promise<CallResponse> {
    return this.ingress.submit(canisterId, method, arg, sender, key);
  }

  /** Hands an ingress message's response to whoever waits for it (under mainnet pacing, once its round is certified). */
  resolveIngress(messageId: number, key: string | undefined, response: CallResponse): void {
    this.ingress.resolve(messageId, key, response);
  }

  /** A non-replicated query call, evaluated against the current state (composite queries included). */
  query(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array): CallResponse {
    const started = performance.now();
    const response = this.queryCache ? this.queryCache.answer(this, canisterId, method, arg, sender) : evaluateQuery(this, canisterId, method, arg, sender);
    this.metrics.queryLatency.observe((performance.now() - started) / 1000);
    return response;
  }

  /** Why a call to `method` cannot be delivered, or undefined if it can. */
  checkCallable(canister: Canister | undefined, id: string, method: string, mode: 'update' | 'query'): CallResponse | undefined {
    if (!canister) return userErrorResponse(admission.canisterNotFound(id));
    if (canister.status === 'stopped') return userErrorResponse(admission.canisterStopped(id));
    if (canister.status === 'stopping' && mode === 'update') return userErrorResponse(admission.canisterStopping(id));
    const state = this.cyclesState(canister);
    if (isFrozen(state)) {
      const message =
        mode === 'query'
          ? `Canister ${id} is unable to process query calls because it's frozen. Please top up the canister with cycles and try again.`
          : new OutOfCyclesError(id, canister.balance, 0n, freezingThresholdCycles(state), false).message;
      return reject(RejectCode.SYS_TRANSIENT, ErrorCode.CanisterOutOfCycles, message);
    }
    const module = canister.module;
    if (!module) return executionFailure(id, hypervisorError.wasmModuleNotFound());
    const m = module.methods;
    if (mode === 'update') {
      if (m.compositeQueries.has(method))
        return reject(RejectCode.CANISTER_ERROR, ErrorCode.CompositeQueryCalledInReplicatedMode, 'Composite query cannot be called in replicated mode');
      if (!m.updates.has(method) && !m.queries.has(method)) return executionFailure(id, hypervisorError.methodNotFound('update', method));
    } else if (!m.queries.has(method) && !m.compositeQueries.has(method)) {
      return executionFailure(id, hypervisorError.methodNotFound('query', method));
    }
    return undefined;
  }

  // ---------------------------------------------------------------- rounds

  /** Whether a message waits, or a paused execution continues, anywhere on the subnet. */
  hasWork(): boolean {
    return this.state.queued > 0 || this.state.paused.size > 0 || deadlineDue(this.state, this.clock);
  }

  /** Instant pacing: runs rounds back to back while there is work (`force`: at least one round). */
  scheduleRounds(force = false): void {
    if (this.pacing !== 'instant' || this.roundLoop || this.closed) return;
    if (!force && !this.hasWork()) return;
    this.roundLoop = this.instantLoop().finally(() => {
      this.roundLoop = undefined;
      if (this.hasWork()) this.scheduleRounds();
      else this.armDeadlineTimer();
    });
  }

  private async instantLoop(): Promise<void> {
    await Promise.resolve();
    do {
      await this.runRound(false);
    } while (this.hasWork() && !this.closed);
  }

  /** Mainnet pacing: one round every roundMs; the previous round's replies go out as it is certified. */
  private pacedRound(): void {
    if (this.closed || this.inRound) return;
    this.ingress.releaseCertified();
    const done = () => {
      const waiters = this.roundEndWaiters;
      this.roundEndWaiters = [];
      for (const w of waiters) w();
    };
    if (this.hasWork() || this.hasPeriodicWork()) void this.runRound(true).then(done);
    else done();
  }

  /** Rounds never overlap: a round waits for the one under way. */
  private async runRound(withTasks: boolean): Promise<void> {
    while (this.inRound) await new Promise<void>((resolve) => this.roundFinished.push(resolve));
    this.inRound = true;
    try {
      await this.executeRound(withTasks);
    } finally {
      this.inRound = false;
      this.roundTime = undefined;
      for (const w of this.roundFinished.splice(0)) w();
    }
  }

  /** Lets HTTP requests and queries in when the event loop has been held for INSTANT_YIELD_MS. */
  private async maybeYield(): Promise<void> {
    if (performance.now() - this.lastYield <= INSTANT_YIELD_MS) return;
    await yieldToEventLoop();
    this.lastYield = performance.now();
  }

  /** Instant pacing with real time: a round when the earliest best-effort deadline passes. */
  private armDeadlineTimer(): void {
    if (this.deadlineTimer || this.closed || !this.clock.isReal) return;
    const earliest = earliestDeadline(this.state);
    if (earliest === 0n) return;
    const ms = Math.max(1, Number((earliest - this.clock.nowNanos()) / 1_000_000n) + 1);
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      this.scheduleRounds(true);
    }, ms);
    (this.deadlineTimer as { unref?: () => void }).unref?.();
  }

  /**
   * One execution round (rs/execution_environment/src/scheduler.rs, inner round loop): the
   * round's heartbeats and due timers are queued first; expired best-effort callbacks get their
   * SYS_UNKNOWN reject; up to a block's worth of ingress is inducted; then iterations run until
   * the round's instructions are spent or nothing is left to do. In each iteration the
   * management canister's messages run first, then the canisters with work, ordered by when
   * they last went first (round-robin) and dealt out over the execution threads; a thread runs
   * its canisters' messages one at a time until its instructions for the round are spent.
   * Messages that canisters send to each other are delivered within the round, so a call and
   * its response can both complete in one round. A message longer than a slice is paused and
   * continued one slice per round.
   */
  private async executeRound(withTasks: boolean): Promise<void> {
    this.state.round++;
    this.metrics.rounds++;
    // The round's time: every replicated execution in it sees this ic0.time, as on the IC (batch time).
    const now = this.clock.nowNanos();
    this.roundTime = now;
    // Real time under instant pacing: rounds that messages start also run the heartbeats and
    // due timers once a mainnet round's worth of time has passed since the last ones, so a
    // canister that keeps the subnet busy (awaiting raw_rand in a loop) sees them go on.
    if (withTasks || (this.clock.isReal && now - this.lastTasksTime >= TASKS_INTERVAL_NS)) {
      this.lastTasksTime = now;
      tasks.scheduleTasks(this, now);
    }
    expireDeadlines(this, now);
    // This round's block: the ingress that arrived before it started, at most a block's worth.
    const block = (this.state.block = this.state.ingressPool.splice(0, MAX_INGRESS_MESSAGES_PER_BLOCK));
    const threads = Math.max(1, this.limits.executionThreads);
    let left = BigInt(this.limits.instructionsPerRound);
    let total = 0n;
    const sliced = new Set<string>();
    for (let iteration = 0; left > 0n; iteration++) {
      this.ingress.induct(block);
      subnetMessages.executeSubnetMessages(this, this.pendingAsync);
      const active = turns.activeCanisters(this, sliced);
      if (active.length === 0) break;
      let busiest = 0n;
      for (let t = 0; t < threads; t++) {
        let used = 0n;
        for (let i = t; i < active.length && used < left; i += threads) {
          const id = active[i];
          if (iteration === 0 && i < threads) this.state.lastFullRound.set(id, this.state.round);
          // A canister that starts runs at least one message; it stops when the thread's share of the round is spent.
          used += INSTRUCTION_OVERHEAD_PER_CANISTER + (await turns.executeCanister(this, id, left - used - INSTRUCTION_OVERHEAD_PER_CANISTER, sliced));
        }
        if (used > busiest) busiest = used;
      }
      left -= busiest;
      total += busiest;
      await this.maybeYield();
    }
    // What the block still held waits for the next round, ahead of later arrivals.
    if (block.length > 0) this.state.ingressPool.unshift(...block);
    this.state.block = [];
    await abortPausedAboveLimit(this);
    shedBestEffortMessages(this);
    this.metrics.roundInstructions.observe(Number(total));
    await this.maybeYield();
  }

  /**
   * Puts a message in the receiving canister's input queue from `source` (the sender, or '' for
   * ingress): every part of the scheduler queues its messages through here.
   */
  enqueue(canister: string, source: string, message: InputMessage): void {
    this.state.enqueue(canister, source, message);
  }

  /** Resolves when no message is queued or being processed, no reply waits for certification and no management work is pending. */
  async settle(): Promise<void> {
    for (;;) {
      if (this.roundLoop) {
        await this.roundLoop;
        continue;
      }
      if (this.pendingAsync.size > 0) {
        await Promise.all([...this.pendingAsync]);
        continue;
      }
      if (this.closed) return;
      if (this.hasWork() || this.ingress.uncertified.length > 0) {
        if (this.pacing === 'instant') this.scheduleRounds();
        else await new Promise<void>((resolve) => this.roundEndWaiters.push(resolve));
        continue;
      }
      return;
    }
  }

  /** Stops the round timers; queued work is left as it is (tearDown settles first). */
  close(): void {
    this.closed = true;
    if (this.roundTimer) clearInterval(this.roundTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.ingress.releaseCertified();
    for (const w of this.roundEndWaiters.splice(0)) w();
  }

  // ---------------------------------------------------------------- call contexts (calls.ts)

  /** Sends a response to whoever made the request (ingress or a canister's callback). */
  answer(request: RequestMessage, response: CallResponse, refund: bigint): void {
    calls.answer(this, request, response, refund);
  }

  openCallContext(canister: Canister, origin: CallOrigin, caller: Uint8Array, method: string, cycles: bigint, deadline: bigint): CallContext {
    return calls.openCallContext(this, canister, origin, caller, method, cycles, deadline);
  }

  /** Applies a message's effects to its call context: outgoing calls, the response, completion. */
  afterExecution(canister: Canister, cc: CallContext, ctx: MessageContext, result: ExecutionResult): void {
    calls.afterExecution(this, canister, cc, ctx, result);
  }

  respond(cc: CallContext, response: CallResponse): void {
    calls.respond(this, cc, response);
  }

  /** A stopping canister becomes stopped once it has no open call contexts (spec: stop_canister). */
  checkStopped(canister: Canister): void {
    calls.checkStopped(this, canister);
  }

  /**
   * uninstall_code, reinstall and deletion: every open call context of the canister is
   * rejected and its callbacks forgotten, so late responses are ignored (interface spec).
   */
  rejectOpenCallContexts(canister: Canister, message: string): void {
    calls.rejectOpenCallContexts(this, canister, message);
  }

  // ---------------------------------------------------------------- heartbeats and timers (tasks.ts)

  /** Runs one round now, with heartbeats and due global timers, then every message until the queues are empty. */
  async tick(): Promise<void> {
    await this.runRound(true);
    await this.settle();
  }

  /** Removes a canister's code and state (uninstall_code, and running out of cycles). */
  uninstallCode(canister: Canister, reason: string): void {
    tasks.uninstallCode(this, canister, reason);
  }

  /** Whether any canister has periodic work (a heartbeat or an armed timer), for automatic rounds. */
  hasPeriodicWork(): boolean {
    return tasks.hasPeriodicWork(this.canisters);
  }

  // ---------------------------------------------------------------- state and metrics

  /**
   * The scheduler's replicated state as plain data (a deep copy): queues, call contexts,
   * callbacks with their deadlines, paused executions, the round counter. Persist it with the
   * canisters' state; restore() puts it back (README.md).
   */
  snapshot(): SchedulerState {
    return snapshotState(this.state, this.ingress.uncertified);
  }

  /**
   * Replaces the scheduler's state with `state` (from snapshot(), possibly of an earlier
   * process). The canisters must be in place first: their open call contexts and outstanding
   * calls are recounted from the state. Ingress calls in flight have no waiter any more; their
   * responses go to onIngressCompleted with the key they were submitted with.
   */
  restore(state: SchedulerState): void {
    const s = restoreState(this.state, state, this.canisters);
    this.stopWaiters.clear();
    this.ingress.forgetWaiters();
    // A state written before executions were really paused holds the effects of sliced
    // messages that had already run: they take effect now.
    for (const p of s.paused) {
      const c = this.canisters.get(p.canister);
      const cc = this.state.callContexts.get(p.callContextId);
      if (c && cc) calls.applyEffects(this, c, cc, p.effects);
    }
    // Answers that were waiting for a certificate are released with the next one.
    for (const { key, response } of s.answered ?? []) this.resolveIngress(-1, key, response);
    this.scheduleRounds();
    this.armDeadlineTimer();
  }

  /** The replica's metrics in the Prometheus text format (served at /_/metrics). */
  metricsText(): string {
    const queueLengths: Array<{ canister: string; name: string; length: number }> = [];
    const names = new Map<string, string>();
    for (const c of this.canisters.values()) {
      names.set(c.idText, c.name);
      queueLengths.push({
        canister: c.idText,
        name: c.name,
        length: (this.state.queues.get(c.idText)?.size ?? 0) + this.state.ingressPool.filter((m) => m.callee === c.idText).length,
      });
    }
    return renderMetrics(this.metrics, {
      pacing: this.pacing,
      roundMs: this.pacing === 'mainnet' ? this.roundMs : 0,
      threads: this.limits.executionThreads,
      queueLengths,
      callbacks: this.state.callbacks.size,
      guaranteedMessageBytes: this.state.guaranteedMessageBytes,
      bestEffortMessageBytes: this.state.bestEffortMessageBytes,
      pausedExecutions: this.state.paused.size,
      cacheBytes: this.queryCache?.bytes ?? 0,
      cacheEntries: this.queryCache?.size ?? 0,
      canisterNames: names,
    });
  }
}

/** Under instant pacing and real time, how often message-driven rounds run heartbeats and timers: a mainnet round. */
const TASKS_INTERVAL_NS = BigInt(INITIAL_NOTARY_DELAY_APP_SUBNET_MS) * 1_000_000n;

export { CANISTER_UNINSTALLED } from './calls.ts';

export function toText(id: string | Principal | Uint8Array): string {
  if (typeof id === 'string') return id;
  if (id instanceof Uint8Array) return Principal.fromUint8Array(id).toText();
  return id.toText();
}
