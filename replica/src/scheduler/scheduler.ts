// The subnet's message routing and execution (interface spec, "Abstract behaviour"): ingress
// and inter-canister requests, responses into callbacks, call contexts answered at most once,
// cycles sent/accepted/refunded, heartbeats and global timers. Messages run one at a time to
// completion; a drain loop yields to the event loop between messages so an HTTP front end
// stays responsive.
import { Principal } from '@dfinity/principal';
import { Canister, mayReadLogs } from '../execution/canister.ts';
import { execute, type Entry, type ExecutionResult } from '../execution/execute.ts';
import type { ApiKind, MessageContext, PendingCall } from '../system-api/context.ts';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';
import { instructionLimit, resolveLimits } from '../limits.ts';
import { formatCycles } from '../metering/stable-access.ts';
import { chargeForResources, freezingThresholdCycles, isFrozen, OutOfCyclesError, prepayExecution, withdrawCycles, type CyclesState } from '../cycles/account.ts';
import { StableMemory } from '../execution/stable-memory.ts';
import { Clock } from './clock.ts';
import { chargedKinds, createMessageContext, cyclesStateOf, executionKind } from './message-context.ts';
import { ReplicaLog, formatDuration, formatInstructions } from '../log.ts';
import type { Limits } from '../limits.ts';
import type { CallContext, CallOrigin, CallResponse, Callback, QueuedMessage, RequestMessage, SystemTask } from './call-context.ts';
import { evaluateQuery } from './query.ts';
import { admission, canisterReject, executionFailure, hypervisorError, rejectMessageForCanister, routing, trapLogRecord, userErrorResponse } from '../ic/user-errors.ts';
import { canisterIndexOf } from '../management/canister-ids.ts';

export const MANAGEMENT_CANISTER_ID = 'aaaaa-aa';

/** What the management canister (management/) must provide to the scheduler. */
export interface ManagementHandler {
  /** Handles a call; calls `done` once, possibly later (stop_canister waits for the canister to stop). */
  handle(request: RequestMessage, done: (response: CallResponse, refund: bigint) => void): void | Promise<void>;
  /** Methods users may call by ingress (the others only canisters may call). */
  acceptsIngress(method: string, sender: Uint8Array, arg: Uint8Array): CallResponse | undefined;
  /** The management canister's query methods (fetch_canister_logs); undefined: not a query method. */
  query(method: string, arg: Uint8Array, sender: Uint8Array): CallResponse | undefined;
  /** Whether some subnet of this replica hosts the canister id (it is in a canister range). */
  hostsCanisterId?(id: Principal): boolean;
}

export interface SchedulerOptions {
  clock: Clock;
  log: ReplicaLog;
  limits?: Partial<Limits>;
  subnetId: Uint8Array;
}

const reject = (code: RejectCode, errorCode: ErrorCode | undefined, message: string): CallResponse => ({ kind: 'reject', code, errorCode, message });

export class Scheduler {
  readonly canisters = new Map<string, Canister>();
  readonly clock: Clock;
  readonly log: ReplicaLog;
  readonly limits: Limits;
  readonly subnetId: Uint8Array;
  management?: ManagementHandler;
  /** Supplies `ic0.data_certificate_*` to non-replicated queries (set by the certification layer). */
  dataCertificateProvider?: (canisterId: Uint8Array) => Uint8Array | undefined;
  private queue: QueuedMessage[] = [];
  private callbacks = new Map<number, Callback>();
  readonly callContexts = new Map<number, CallContext>();
  private nextId = 1;
  private draining?: Promise<void>;
  private pendingAsync = new Set<Promise<void>>();
  /** Resolved when a canister in `stopping` reaches `stopped` (used by stop_canister). */
  readonly stopWaiters = new Map<string, ((stopped: boolean) => void)[]>();

  constructor(options: SchedulerOptions) {
    this.clock = options.clock;
    this.log = options.log;
    this.limits = resolveLimits(options.limits);
    this.subnetId = options.subnetId;
  }

  canister(id: string | Principal | Uint8Array): Canister | undefined {
    return this.canisters.get(toText(id));
  }

  // ---------------------------------------------------------------- message contexts

  newContext(canister: Canister, kind: ApiKind, init: Partial<MessageContext> = {}): MessageContext {
    return createMessageContext(this, canister, kind, init);
  }

  budgetFor(kind: ApiKind): bigint {
    return instructionLimit(this.limits, executionKind(kind));
  }

  /** The canister's cycles account as cycles/account.ts sees it; `balance` writes through. */
  cyclesState(canister: Canister): CyclesState {
    return cyclesStateOf(canister);
  }

  /** Executes an entry point and logs one line for it. */
  /** `persist`: true keeps the changes, false discards them, 'sandbox' keeps them until the composite query ends (execute.ts). */
  run(canister: Canister, ctx: MessageContext, entry: Entry, persist: boolean | 'sandbox', label: { method: string; callerName?: string }, priorInstructions = 0n): ExecutionResult {
    const full = this.budgetFor(ctx.kind);
    const budget = full > priorInstructions ? full - priorInstructions : 0n;
    // Update-type executions prepay their whole instruction budget and get the unused part
    // back; queries and inspect_message are free (cycles/account.ts prepayExecution).
    let payment: ReturnType<typeof prepayExecution> | undefined;
    if (chargedKinds.has(ctx.kind)) {
      try {
        payment = prepayExecution(this.cyclesState(canister), canister.idText, budget, { wasm64: canister.module?.info.memory64, revealTopUp: canister.isController(ctx.caller) });
      } catch (e) {
        if (!(e instanceof OutOfCyclesError)) throw e;
        this.log.emit({ kind: 'trap', level: 'normal', text: `${canister.name}.${label.method} (${label.callerName ?? this.callerName(ctx.caller)}) -> not run: ${e.message}` });
        return { trap: { ...hypervisorError.other(ErrorCode.CanisterOutOfCycles, e.message), plain: true }, instructions: 0n, durationMs: 0, cycles: 0n };
      }
    }
    // wasm_memory_limit binds replicated executions; queries may use more (interface spec, canister settings).
    const wasmMemoryLimit = ctx.replicated ? canister.settings.wasmMemoryLimit : undefined;
    const result: ExecutionResult = execute(canister, ctx, entry, { persist: persist !== false, sandbox: persist === 'sandbox', budget, wasmMemoryLimit, priorInstructions });
    if (payment) result.cycles = payment.settle(result.instructions).charged;
    // Every successful replicated execution changes the canister's version, replicated queries
    // included (system_api.rs `should_bump_canister_version`); install_code counts once for
    // its init/upgrade steps (management/install.ts).
    if (!result.trap && ctx.replicated && VERSION_BUMPING_KINDS.has(ctx.kind)) canister.version += 1n;
    if (ctx.replicated && persist !== false) canister.checkLowWasmMemory();
    const logRecord = result.trap && ctx.replicated ? trapLogRecord(result.trap) : undefined;
    if (logRecord) canister.appendLog(logRecord, ctx.time);
    if (!ctx.replicated && ctx.kind !== 'F') canister.queryStats.instructions += result.instructions;
    const caller = label.callerName ?? this.callerName(ctx.caller);
    let outcome: string;
    if (result.trap) {
      outcome = `trapped${result.trap.functionName ? ` in \`${result.trap.functionName}\`` : ''}: ${result.trap.text}`;
    } else if (ctx.outcome?.kind === 'reply') outcome = `replied (${ctx.outcome.data.length} bytes)`;
    else if (ctx.outcome?.kind === 'reject') outcome = `rejected: ${ctx.outcome.message}`;
    else if (ctx.outgoing.length > 0) outcome = `waiting on ${ctx.outgoing.length} call${ctx.outgoing.length > 1 ? 's' : ''}`;
    else outcome = 'done';
    const instr = (result.instructions > 0n ? `, ${formatInstructions(result.instructions)}` : '') + (result.cycles ? `, ${formatCycles(result.cycles)}` : '');
    const userFacing = ctx.kind === 'U' || ctx.kind === 'NRQ' || ctx.kind === 'CQ' || ctx.kind === 'I';
    this.log.emit({
      kind: result.trap ? 'trap' : 'message',
      level: result.trap || (userFacing && ctx.caller.length !== 10) ? 'normal' : 'verbose',
      text: `${canister.name}.${label.method} (${caller}) -> ${outcome} ${formatDuration(result.durationMs)}${instr}`,
    });
    return result;
  }

  callerName(caller: Uint8Array): string {
    if (caller.length === 1 && caller[0] === 4) return 'anonymous';
    if (caller.length === 0) return 'system';
    const text = Principal.fromUint8Array(caller).toText();
    return this.canisters.get(text)?.name ?? text;
  }

  // ---------------------------------------------------------------- ingress and queries

  /**
   * The checks made before an ingress update call is accepted (interface spec, "Ingress
   * message inspection"): the canister exists, runs, has code and the method, and its
   * canister_inspect_message accepts the message. Returns a reject, or undefined if accepted.
   */
  inspectIngress(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array): CallResponse | undefined {
    if (arg.length > this.limits.maxIngressBytes) {
      return reject(RejectCode.CANISTER_REJECT, ErrorCode.CanisterRejectedMessage, `The ingress message of ${arg.length} bytes for ${canisterId}.${method} exceeds the limit of ${this.limits.maxIngressBytes} bytes`);
    }
    if (canisterId === MANAGEMENT_CANISTER_ID) return this.management?.acceptsIngress(method, sender, arg);
    const canister = this.canisters.get(canisterId);
    const problem = this.checkCallable(canister, canisterId, method, 'update');
    if (problem) return problem;
    const c = canister!;
    if (!c.instance!.hasExport('canister_inspect_message')) return undefined;
    const ctx = this.newContext(c, 'F', { caller: sender, arg, methodName: method });
    const result = this.run(c, ctx, { export: 'canister_inspect_message' }, false, { method: `canister_inspect_message(${method})` });
    if (result.trap) {
      return executionFailure(canisterId, result.trap, mayReadLogs(c, sender));
    }
    if (!ctx.messageAccepted) {
      this.log.emit({ kind: 'message', level: 'normal', text: `${c.name}.${method} (${this.callerName(sender)}) -> refused by canister_inspect_message` });
      return userErrorResponse(admission.messageRejected(canisterId));
    }
    return undefined;
  }

  /** Enqueues an ingress update call (after inspectIngress) and resolves with its response. */
  submitIngress(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array): Promise<CallResponse> {
    return new Promise((resolve) => {
      this.queue.push({ kind: 'request', callee: canisterId, method, arg, cycles: 0n, caller: sender, origin: { kind: 'ingress', resolve }, deadline: 0n });
      this.scheduleDrain();
    });
  }

  /** A non-replicated query call, evaluated against the current state (composite queries included). */
  query(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array): CallResponse {
    return evaluateQuery(this, canisterId, method, arg, sender);
  }

  /** Why a call to `method` cannot be delivered, or undefined if it can. */
  checkCallable(canister: Canister | undefined, id: string, method: string, mode: 'update' | 'query'): CallResponse | undefined {
    if (!canister) return userErrorResponse(admission.canisterNotFound(id));
    if (canister.status === 'stopped') return userErrorResponse(admission.canisterStopped(id));
    if (canister.status === 'stopping' && mode === 'update') return userErrorResponse(admission.canisterStopping(id));
    const state = this.cyclesState(canister);
    if (isFrozen(state)) {
      const message = mode === 'query'
        ? `Canister ${id} is unable to process query calls because it's frozen. Please top up the canister with cycles and try again.`
        : new OutOfCyclesError(id, canister.balance, 0n, freezingThresholdCycles(state), false).message;
      return reject(RejectCode.SYS_TRANSIENT, ErrorCode.CanisterOutOfCycles, message);
    }
    const module = canister.module;
    if (!module) return executionFailure(id, hypervisorError.wasmModuleNotFound());
    const m = module.methods;
    if (mode === 'update') {
      if (m.compositeQueries.has(method)) return reject(RejectCode.CANISTER_ERROR, ErrorCode.CompositeQueryCalledInReplicatedMode, 'Composite query cannot be called in replicated mode');
      if (!m.updates.has(method) && !m.queries.has(method)) return executionFailure(id, hypervisorError.methodNotFound('update', method));
    } else if (!m.queries.has(method) && !m.compositeQueries.has(method)) {
      return executionFailure(id, hypervisorError.methodNotFound('query', method));
    }
    return undefined;
  }

  // ---------------------------------------------------------------- the drain loop

  scheduleDrain(): void {
    if (this.draining) return;
    this.draining = this.drainLoop().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.scheduleDrain();
    });
  }

  private async drainLoop(): Promise<void> {
    await Promise.resolve();
    let since = performance.now();
    while (this.queue.length > 0) {
      const message = this.queue.shift()!;
      try {
        if (message.kind === 'request') this.deliverRequest(message);
        else this.deliverResponse(message);
      } catch (e) {
        // A replica bug must not take the subnet down: answer the call and keep going.
        this.log.info(`replica error while handling a ${message.kind}: ${(e as Error).stack ?? e}`);
        if (message.kind === 'request') this.answer(message, reject(RejectCode.SYS_FATAL, undefined, `replica error: ${(e as Error).message}`), message.cycles);
      }
      if (performance.now() - since > 20) {
        await new Promise((r) => setTimeout(r, 0));
        since = performance.now();
      }
    }
  }

  /** Resolves when no message is queued or being processed and no management work is pending. */
  async settle(): Promise<void> {
    for (;;) {
      if (this.queue.length > 0) this.scheduleDrain();
      if (this.draining) { await this.draining; continue; }
      if (this.pendingAsync.size > 0) { await Promise.all([...this.pendingAsync]); continue; }
      return;
    }
  }

  // ---------------------------------------------------------------- requests and responses

  /** Sends a response to whoever made the request (ingress or a canister's callback). */
  answer(request: RequestMessage, response: CallResponse, refund: bigint): void {
    if (request.origin.kind === 'ingress') request.origin.resolve(response);
    else this.queue.push({ kind: 'response', canister: request.origin.canister, callbackId: request.origin.callbackId, response, refund });
  }

  private deliverRequest(request: RequestMessage): void {
    if (request.callee === MANAGEMENT_CANISTER_ID) {
      if (!this.management) throw new Error('no management canister attached');
      let answered = false;
      const started = performance.now();
      const done = (response: CallResponse, refund: bigint) => {
        if (answered) return;
        answered = true;
        const outcome = response.kind === 'reply' ? 'replied' : `rejected (${response.errorCode ?? `code ${response.code}`}): ${response.message}`;
        this.log.emit({
          kind: 'message',
          level: request.origin.kind === 'ingress' ? 'normal' : 'verbose',
          text: `management.${request.method} (${this.callerName(request.caller)}) -> ${outcome} ${formatDuration(performance.now() - started)}`,
        });
        this.answer(request, response, refund);
        this.scheduleDrain();
      };
      const pending = this.management.handle(request, done);
      if (pending) {
        const tracked: Promise<void> = pending
          .catch((e) => done(reject(RejectCode.CANISTER_ERROR, undefined, `management canister: ${(e as Error).message}`), request.cycles))
          .finally(() => this.pendingAsync.delete(tracked));
        this.pendingAsync.add(tracked);
      }
      return;
    }
    const canister = this.canisters.get(request.callee);
    if (!canister && request.origin.kind === 'canister') {
      // Between canisters the routing layer answers, without an IC error code: an id in this
      // subnet's range names a canister that does not exist, any other id has no route.
      let inRange = false;
      try {
        const callee = Principal.fromText(request.callee);
        inRange = this.management?.hostsCanisterId ? this.management.hostsCanisterId(callee) : canisterIndexOf(callee) !== undefined;
      } catch {
        // not a principal at all: no route
      }
      return this.answer(request, { kind: 'reject', code: RejectCode.DESTINATION_INVALID, message: inRange ? routing.canisterNotFound(request.callee) : routing.noRoute(request.callee) }, request.cycles);
    }
    const problem = this.checkCallable(canister, request.callee, request.method, 'update');
    if (problem) return this.answer(request, problem, request.cycles);
    const c = canister!;
    if (request.origin.kind === 'ingress') {
      // Ingress induction is paid by the receiving canister (cycles/fees.ts ingressInduction).
      try {
        withdrawCycles(this.cyclesState(c), c.costs.ingressInduction(request.arg.length + request.method.length), c.idText);
      } catch (e) {
        if (!(e instanceof OutOfCyclesError)) throw e;
        return this.answer(request, reject(RejectCode.SYS_TRANSIENT, ErrorCode.CanisterOutOfCycles, e.message), 0n);
      }
    }
    const isQuery = c.module!.methods.queries.has(request.method);
    const cc = this.openCallContext(c, request.origin, request.caller, request.method, request.cycles, request.deadline);
    const ctx = this.newContext(c, isQuery ? 'RQ' : 'U', {
      caller: request.caller,
      arg: request.arg,
      methodName: request.method,
      cyclesAvailable: request.cycles,
      deadline: request.deadline,
    });
    const exportName = isQuery ? `canister_query ${request.method}` : `canister_update ${request.method}`;
    // A query executed in replicated mode discards its state changes (interface spec).
    const result = this.run(c, ctx, { export: exportName }, !isQuery, { method: request.method });
    this.afterExecution(c, cc, ctx, result);
  }

  private deliverResponse(message: Extract<QueuedMessage, { kind: 'response' }>): void {
    const callback = this.callbacks.get(message.callbackId);
    if (!callback) return; // dropped by uninstall_code: the response is ignored (spec)
    this.callbacks.delete(message.callbackId);
    const canister = this.canisters.get(callback.canister);
    if (!canister) return;
    canister.outstandingCalls--;
    canister.balance += message.refund;
    const fees = callback.call.prepaidFees;
    if (fees) {
      // The callback prepays its own execution below, so the call's execution prepayment comes
      // back in full, and the unused part of the response transmission prepayment with it.
      const bytes = message.response.kind === 'reply' ? message.response.data.length : message.response.message.length;
      canister.balance += fees.execution + canister.costs.responseTransmissionRefund(bytes);
    }
    const cc = callback.callContext;
    cc.outstanding--;
    if (!canister.instance) {
      this.closeIfDone(canister, cc);
      return;
    }
    const isReply = message.response.kind === 'reply';
    const ctx = this.newContext(canister, isReply ? 'Ry' : 'Rt', {
      caller: cc.caller,
      arg: message.response.kind === 'reply' ? message.response.data : new Uint8Array(),
      methodName: cc.method,
      rejectCode: message.response.kind === 'reject' ? message.response.code : 0,
      rejectMessage: message.response.kind === 'reject' ? rejectMessageForCanister(message.response) : '',
      cyclesRefunded: message.refund,
      cyclesAvailable: cc.cyclesAvailable,
      callContextResponded: cc.responded,
      callContextInstructions: cc.instructions, // performance_counter(1) spans the call context
      deadline: cc.deadline,
    });
    const closure = isReply ? callback.call.reply : callback.call.reject;
    const label = `${cc.method} ${isReply ? 'reply' : 'reject'} callback from ${this.canisters.get(callback.callee)?.name ?? callback.callee}.${callback.call.method}`;
    const result = this.run(canister, ctx, { closure }, true, { method: label });
    if (result.trap && callback.call.cleanup) {
      // The cleanup closure runs when a callback traps (spec: call_on_cleanup); its own
      // state changes persist, but it may not send or answer anything.
      const cleanupCtx = this.newContext(canister, 'C', { caller: cc.caller, methodName: cc.method });
      this.run(canister, cleanupCtx, { closure: callback.call.cleanup }, true, { method: `${cc.method} cleanup` });
    }
    this.afterExecution(canister, cc, ctx, result);
  }

  openCallContext(canister: Canister, origin: CallOrigin, caller: Uint8Array, method: string, cycles: bigint, deadline: bigint): CallContext {
    const cc: CallContext = {
      id: this.nextId++, canister: canister.idText, origin, caller, method, responded: false,
      cyclesAvailable: cycles, outstanding: 0, instructions: 0n, closed: false, deadline,
    };
    this.callContexts.set(cc.id, cc);
    canister.openCallContexts++;
    return cc;
  }

  /** Applies a message's effects to its call context: outgoing calls, the response, completion. */
  afterExecution(canister: Canister, cc: CallContext, ctx: MessageContext, result: ExecutionResult): void {
    cc.instructions += result.instructions;
    if (!result.trap) {
      cc.cyclesAvailable = ctx.cyclesAvailable;
      for (const call of ctx.outgoing) this.sendCall(canister, cc, call);
      if (ctx.outcome) {
        this.respond(cc, ctx.outcome.kind === 'reply' ? ctx.outcome : canisterReject(ctx.outcome.message));
      }
    } else if (!cc.responded && cc.outstanding === 0) {
      this.respond(cc, executionFailure(canister.idText, result.trap, mayReadLogs(canister, cc.caller)));
    }
    this.closeIfDone(canister, cc);
  }

  private sendCall(canister: Canister, cc: CallContext, call: PendingCall): void {
    const id = this.nextId++;
    let callee: string;
    try {
      callee = Principal.fromUint8Array(call.callee).toText();
    } catch {
      callee = `<invalid principal ${call.callee.length} bytes>`;
    }
    this.callbacks.set(id, { id, canister: canister.idText, callContext: cc, call, callee });
    cc.outstanding++;
    canister.outstandingCalls++;
    const arg = new Uint8Array(call.argSize);
    let o = 0;
    for (const part of call.arg) { arg.set(part, o); o += part.length; }
    const deadline = call.timeoutSeconds !== undefined ? this.clock.nowNanos() + BigInt(call.timeoutSeconds) * 1_000_000_000n : 0n;
    this.queue.push({ kind: 'request', callee, method: call.method, arg, cycles: call.cycles, caller: canister.id, origin: { kind: 'canister', canister: canister.idText, callbackId: id }, deadline });
  }

  respond(cc: CallContext, response: CallResponse): void {
    if (cc.responded) return;
    cc.responded = true;
    const refund = cc.cyclesAvailable;
    cc.cyclesAvailable = 0n;
    if (cc.origin.kind === 'ingress') cc.origin.resolve(response);
    else if (cc.origin.kind === 'canister') this.queue.push({ kind: 'response', canister: cc.origin.canister, callbackId: cc.origin.callbackId, response, refund });
  }

  private closeIfDone(canister: Canister, cc: CallContext): void {
    if (cc.closed || cc.outstanding > 0) return;
    if (!cc.responded && cc.origin.kind !== 'system') {
      // A user learns that the canister did not reply (IC0506); a calling canister gets a bare
      // "No response" (execution/common.rs).
      this.respond(cc, cc.origin.kind === 'ingress'
        ? reject(RejectCode.CANISTER_ERROR, ErrorCode.CanisterDidNotReply, `Canister ${canister.idText} did not reply to the call`)
        : reject(RejectCode.CANISTER_ERROR, undefined, routing.noResponse));
    }
    cc.closed = true;
    this.callContexts.delete(cc.id);
    canister.openCallContexts--;
    this.checkStopped(canister);
  }

  /** A stopping canister becomes stopped once it has no open call contexts (spec: stop_canister). */
  checkStopped(canister: Canister): void {
    if (canister.status !== 'stopping' || canister.openCallContexts > 0) return;
    canister.status = 'stopped';
    const waiters = this.stopWaiters.get(canister.idText) ?? [];
    this.stopWaiters.delete(canister.idText);
    for (const w of waiters) w(true);
  }

  /**
   * uninstall_code, reinstall and deletion: every open call context of the canister is
   * rejected and its callbacks forgotten, so late responses are ignored (interface spec).
   */
  rejectOpenCallContexts(canister: Canister, message: string): void {
    for (const cb of [...this.callbacks.values()]) if (cb.canister === canister.idText) this.callbacks.delete(cb.id);
    canister.outstandingCalls = 0;
    for (const cc of [...this.callContexts.values()]) {
      if (cc.canister !== canister.idText) continue;
      // The IC answers with the same words whatever removed the code (execution_environment.rs):
      // a user sees IC0406, a calling canister the bare text.
      this.log.info(`${canister.name}: call context for ${cc.method} rejected: ${message}`);
      this.respond(cc, { ...canisterReject(CANISTER_UNINSTALLED) });
      cc.outstanding = 0;
      cc.closed = true;
      this.callContexts.delete(cc.id);
    }
    canister.openCallContexts = 0;
    this.checkStopped(canister);
  }

  // ---------------------------------------------------------------- rounds: heartbeat and timers

  /** One execution round: heartbeats, due global timers, then every message until the queues are empty. */
  async tick(): Promise<void> {
    const now = this.clock.nowNanos();
    this.chargeStorage(now);
    for (const c of [...this.canisters.values()]) {
      if (c.status !== 'running' || !c.instance) continue;
      if (c.lowWasmMemoryHook === 'ready' && c.instance.hasExport('canister_on_low_wasm_memory')) {
        c.lowWasmMemoryHook = 'executed';
        this.runSystemTask(c, 'canister_on_low_wasm_memory');
      }
      if (c.instance?.hasExport('canister_heartbeat')) this.runSystemTask(c, 'canister_heartbeat');
      if (c.globalTimer !== 0n && now >= c.globalTimer && c.instance?.hasExport('canister_global_timer')) {
        c.globalTimer = 0n; // the timer fires once; the canister sets it again (spec: global timer)
        this.runSystemTask(c, 'canister_global_timer');
      }
    }
    await this.settle();
  }

  /**
   * Charges memory and compute allocation for the time since the last charge (the IC does it
   * every 10 s; here at each round). A canister that cannot pay loses its code, as on the IC.
   */
  private chargeStorage(now: bigint): void {
    for (const c of this.canisters.values()) {
      const last = c.resourcesChargedUntil ?? c.createdAt; // state saved before this field existed
      const seconds = (now - last) / 1_000_000_000n;
      if (seconds <= 0n) continue;
      c.resourcesChargedUntil = last + seconds * 1_000_000_000n;
      const { exhausted } = chargeForResources(this.cyclesState(c), seconds);
      if (exhausted && c.instance) {
        this.log.info(`${c.name} ran out of cycles paying for its memory; its code was uninstalled (top it up and reinstall)`);
        this.uninstallCode(c, `Canister ${c.idText} ran out of cycles and was uninstalled`);
      }
    }
  }

  /** Removes a canister's code and state (uninstall_code, and running out of cycles). */
  uninstallCode(canister: Canister, reason: string): void {
    this.rejectOpenCallContexts(canister, reason);
    canister.instance = undefined;
    canister.stable = new StableMemory();
    canister.certifiedData = new Uint8Array();
    canister.globalTimer = 0n;
    canister.version += 1n;
  }

  /** Whether any canister has periodic work (a heartbeat or an armed timer), for automatic rounds. */
  hasPeriodicWork(): boolean {
    for (const c of this.canisters.values()) {
      if (c.status !== 'running' || !c.instance) continue;
      if (c.globalTimer !== 0n || c.instance.hasExport('canister_heartbeat') || c.lowWasmMemoryHook === 'ready') return true;
    }
    return false;
  }

  private runSystemTask(canister: Canister, task: SystemTask): void {
    const cc = this.openCallContext(canister, { kind: 'system', task }, new Uint8Array(), task, 0n, 0n);
    const ctx = this.newContext(canister, 'T', { methodName: task });
    const result = this.run(canister, ctx, { export: task }, true, { method: task, callerName: 'system' });
    this.afterExecution(canister, cc, ctx, result);
  }
}


/** Entry points whose successful replicated execution bumps the canister version. */
const VERSION_BUMPING_KINDS: ReadonlySet<ApiKind> = new Set<ApiKind>(['U', 'RQ', 'Ry', 'Rt', 'C', 'T']);

/** The IC's reject for call contexts a code change or deletion leaves open. */
export const CANISTER_UNINSTALLED = 'Canister has been uninstalled.';

export function toText(id: string | Principal | Uint8Array): string {
  if (typeof id === 'string') return id;
  if (id instanceof Uint8Array) return Principal.fromUint8Array(id).toText();
  return id.toText();
}
