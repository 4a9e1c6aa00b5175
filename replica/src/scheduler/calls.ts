// Call contexts and callbacks (interface spec, "Call contexts" in the abstract behaviour): what
// happens to the calls a message makes and the call it answers once it has executed. Opening a
// call context; sending a call (its callback registered, its response slot reserved, its
// best-effort deadline set, the request routed); refusing one that does not fit (queue
// capacity, callback quota, guaranteed-response message memory); answering a request or a call
// context; closing a call context when nothing is outstanding; stopping a stopping canister;
// and forgetting everything of a canister whose code is removed. Functions of the shared
// SubnetState; executing the messages themselves is messages.ts.
import { Principal } from '@dfinity/principal';
import { mayReadLogs, type Canister } from '../execution/canister.ts';
import type { ExecutionResult } from '../execution/execute.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import { equalBytes } from '../ic/bytes.ts';
import { MANAGEMENT_CANISTER_TEXT } from '../ic/principal.ts';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';
import { canisterReject, executionFailure, routing } from '../ic/user-errors.ts';
import type { Limits } from '../limits.ts';
import type { ReplicaLog } from '../log.ts';
import { canisterIndexOf } from '../management/canister-ids.ts';
import { effect, type MessageContext, type PendingCall } from '../system-api/context.ts';
import type { CallContext, CallOrigin, InputMessage, RequestMessage } from './call-context.ts';
import type { Clock } from './clock.ts';
import { guaranteedReservation, heldReservation } from './message-memory.ts';
import type { SchedulerMetrics } from './metrics.ts';
import type { MessageEffects } from './state.ts';
import type { SubnetState } from './subnet-state.ts';

/** What call contexts and callbacks need of the scheduler (the Scheduler passes itself). */
export interface CallsHost {
  readonly state: SubnetState;
  readonly canisters: ReadonlyMap<string, Canister>;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly log: ReplicaLog;
  readonly metrics: SchedulerMetrics;
  readonly management?: { hostsCanisterId?(id: Principal): boolean };
  /** Resolved when a canister in `stopping` reaches `stopped` (stop_canister waits on it). */
  readonly stopWaiters: Map<string, ((stopped: boolean) => void)[]>;
  /** Puts a message in a canister's queue (the one way a message enters a queue). */
  enqueue(canister: string, source: string, message: InputMessage): void;
  /** Hands an ingress message's response to whoever waits for it. */
  resolveIngress(messageId: number, key: string | undefined, response: CallResponse): void;
}

/** The IC's reject for call contexts a code change or deletion leaves open. */
export const CANISTER_UNINSTALLED = 'Canister has been uninstalled.';

const reject = (code: RejectCode, errorCode: ErrorCode | undefined, message: string): CallResponse => ({ kind: 'reject', code, errorCode, message });

/** Counts and logs a refused call_perform, as an effect of the execution (discarded with it). */
function refused(s: CallsHost, ctx: MessageContext, line: Parameters<CallsHost['log']['emit']>[0]): void {
  effect(ctx, () => {
    s.metrics.callsRefused++;
    s.log.emit(line);
  });
}

/** Why ic0.call_perform cannot enqueue `call` now (0: it can), as the IC decides it. */
export function refuseCall(s: CallsHost, canister: Canister, ctx: MessageContext, call: PendingCall): number {
  let callee: string;
  try {
    callee = Principal.fromUint8Array(call.callee).toText();
  } catch {
    return 0; // an invalid callee is answered with DESTINATION_INVALID when the call is routed
  }
  let toCallee = s.state.queues.get(canister.idText)?.reserved[callee] ?? 0;
  for (const o of ctx.outgoing) if (equalBytes(o.callee, call.callee)) toCallee++;
  // Every call reserves a slot for its response in the caller's queue from the callee.
  if (toCallee >= s.limits.queueCapacity) {
    refused(s, ctx, {
      kind: 'message',
      level: 'normal',
      text: `${canister.name}: call to ${s.canisters.get(callee)?.name ?? callee}.${call.method} not enqueued: the queue to it is full (${toCallee} calls waiting, capacity ${s.limits.queueCapacity})`,
    });
    return RejectCode.SYS_TRANSIENT;
  }
  const own = canister.outstandingCalls + ctx.outgoing.length;
  if (own >= s.limits.canisterCallbackQuota && s.state.callbacks.size + ctx.outgoing.length >= s.limits.subnetCallbackSoftLimit) {
    refused(s, ctx, {
      kind: 'message',
      level: 'normal',
      text: `${canister.name}: call to ${callee}.${call.method} not enqueued: out of callbacks (${own} held, the subnet's ${s.state.callbacks.size} past its soft limit)`,
    });
    return RejectCode.SYS_TRANSIENT;
  }
  const needed = guaranteedReservation(call);
  if (needed > 0) {
    let used = s.state.guaranteedMessageBytes;
    for (const o of ctx.outgoing) used += guaranteedReservation(o);
    if (used + needed > s.limits.guaranteedResponseMessageMemoryBytes) {
      refused(s, ctx, {
        kind: 'message',
        level: 'normal',
        text: `${canister.name}: call to ${s.canisters.get(callee)?.name ?? callee}.${call.method} not enqueued: out of guaranteed-response message memory (${used} bytes held, ${needed} needed, capacity ${s.limits.guaranteedResponseMessageMemoryBytes})`,
      });
      return RejectCode.SYS_TRANSIENT;
    }
  }
  return 0;
}

/** Sends a response to whoever made the request (ingress or a canister's callback). */
export function answer(s: CallsHost, request: RequestMessage, response: CallResponse, refund: bigint): void {
  if (request.origin.kind === 'ingress') s.resolveIngress(request.origin.messageId, request.origin.key, response);
  else
    s.enqueue(request.origin.canister, request.callee, {
      kind: 'response',
      canister: request.origin.canister,
      from: request.callee,
      callbackId: request.origin.callbackId,
      response,
      refund,
      deadline: request.deadline,
    });
}

/**
 * Between canisters the routing layer answers a call to a missing canister, without an IC
 * error code: an id in this subnet's range names a canister that does not exist, any other id
 * has no route.
 */
export function routingReject(s: CallsHost, callee: string): CallResponse {
  let inRange = false;
  try {
    const id = Principal.fromText(callee);
    inRange = s.management?.hostsCanisterId ? s.management.hostsCanisterId(id) : canisterIndexOf(id) !== undefined;
  } catch {
    // not a principal at all: no route
  }
  return { kind: 'reject', code: RejectCode.DESTINATION_INVALID, message: inRange ? routing.canisterNotFound(callee) : routing.noRoute(callee) };
}

export function openCallContext(
  s: CallsHost,
  canister: Canister,
  origin: CallOrigin,
  caller: Uint8Array,
  method: string,
  cycles: bigint,
  deadline: bigint,
): CallContext {
  const cc: CallContext = {
    id: s.state.nextId++,
    canister: canister.idText,
    origin,
    caller,
    method,
    responded: false,
    cyclesAvailable: cycles,
    outstanding: 0,
    instructions: 0n,
    closed: false,
    deadline,
  };
  s.state.callContexts.set(cc.id, cc);
  canister.openCallContexts++;
  return cc;
}

/** Applies a message's effects to its call context: outgoing calls, the response, completion. */
export function afterExecution(s: CallsHost, canister: Canister, cc: CallContext, ctx: MessageContext, result: ExecutionResult): void {
  applyEffects(s, canister, cc, {
    outgoing: ctx.outgoing,
    outcome: ctx.outcome,
    cyclesAvailable: ctx.cyclesAvailable,
    trap: result.trap,
    instructions: result.instructions,
  });
}

export function applyEffects(s: CallsHost, canister: Canister, cc: CallContext, effects: MessageEffects): void {
  cc.instructions += effects.instructions;
  if (!effects.trap) {
    cc.cyclesAvailable = effects.cyclesAvailable;
    for (const call of effects.outgoing) sendCall(s, canister, cc, call);
    if (effects.outcome) {
      respond(s, cc, effects.outcome.kind === 'reply' ? effects.outcome : canisterReject(effects.outcome.message));
    }
  } else if (!cc.responded && cc.outstanding === 0) {
    respond(s, cc, executionFailure(canister.idText, effects.trap, mayReadLogs(canister, cc.caller)));
  }
  closeIfDone(s, canister, cc);
}

export function sendCall(s: CallsHost, canister: Canister, cc: CallContext, call: PendingCall): void {
  const id = s.state.nextId++;
  let callee: string;
  try {
    callee = Principal.fromUint8Array(call.callee).toText();
  } catch {
    callee = `<invalid principal ${call.callee.length} bytes>`;
  }
  const timeout = call.timeoutSeconds;
  // Best-effort: the deadline is the time of the call plus the timeout, capped (spec: ic0.call_with_best_effort_response).
  const deadline = timeout !== undefined ? s.clock.nowNanos() + BigInt(Math.min(timeout, s.limits.maxCallTimeoutSeconds)) * 1_000_000_000n : 0n;
  const arg = new Uint8Array(call.argSize);
  let o = 0;
  for (const part of call.arg) {
    arg.set(part, o);
    o += part.length;
  }
  const { arg: _parts, ...kept } = call;
  s.state.callbacks.set(id, { id, canister: canister.idText, callContextId: cc.id, call: kept, callee, deadline });
  s.state.guaranteedMessageBytes += guaranteedReservation(call);
  cc.outstanding++;
  canister.outstandingCalls++;
  const q = s.state.queuesOf(canister.idText);
  q.reserved[callee] = (q.reserved[callee] ?? 0) + 1;
  const request: RequestMessage = {
    kind: 'request',
    callee,
    method: call.method,
    arg,
    cycles: call.cycles,
    caller: canister.id,
    origin: { kind: 'canister', canister: canister.idText, callbackId: id },
    deadline,
  };
  if (callee === MANAGEMENT_CANISTER_TEXT) {
    // raw_rand draws on the random tape of the round after the call, as on the IC
    // (execution_environment.rs queues it until the next round's randomness): the caller
    // waits at least one round, so a canister awaiting it in a loop lets rounds, time,
    // heartbeats and timers go on.
    if (request.method === 'raw_rand') request.notBeforeRound = s.state.round + 1;
    s.state.subnetQueue.push(request);
    s.state.queued++;
  } else if (!s.canisters.has(callee)) {
    answer(s, request, routingReject(s, callee), request.cycles);
  } else s.enqueue(callee, canister.idText, request);
}

export function respond(s: CallsHost, cc: CallContext, response: CallResponse): void {
  if (cc.responded) return;
  cc.responded = true;
  const refund = cc.cyclesAvailable;
  cc.cyclesAvailable = 0n;
  if (cc.origin.kind === 'ingress') s.resolveIngress(cc.origin.messageId, cc.origin.key, response);
  else if (cc.origin.kind === 'canister') {
    s.enqueue(cc.origin.canister, cc.canister, {
      kind: 'response',
      canister: cc.origin.canister,
      from: cc.canister,
      callbackId: cc.origin.callbackId,
      response,
      refund,
      deadline: cc.deadline,
    });
  }
}

export function closeIfDone(s: CallsHost, canister: Canister, cc: CallContext): void {
  if (cc.closed || cc.outstanding > 0) return;
  if (!cc.responded && cc.origin.kind !== 'system') {
    // A user learns that the canister did not reply (IC0506); a calling canister gets a bare
    // "No response" (execution/common.rs).
    respond(
      s,
      cc,
      cc.origin.kind === 'ingress'
        ? reject(RejectCode.CANISTER_ERROR, ErrorCode.CanisterDidNotReply, `Canister ${canister.idText} did not reply to the call`)
        : reject(RejectCode.CANISTER_ERROR, undefined, routing.noResponse),
    );
  }
  cc.closed = true;
  s.state.callContexts.delete(cc.id);
  canister.openCallContexts--;
  checkStopped(s, canister);
}

/** A stopping canister becomes stopped once it has no open call contexts (spec: stop_canister). */
export function checkStopped(s: CallsHost, canister: Canister): void {
  if (canister.status !== 'stopping' || canister.openCallContexts > 0) return;
  canister.status = 'stopped';
  const waiters = s.stopWaiters.get(canister.idText) ?? [];
  s.stopWaiters.delete(canister.idText);
  for (const w of waiters) w(true);
}

/**
 * uninstall_code, reinstall and deletion: every open call context of the canister is
 * rejected and its callbacks forgotten, so late responses are ignored (interface spec).
 */
export function rejectOpenCallContexts(s: CallsHost, canister: Canister, message: string): void {
  for (const cb of [...s.state.callbacks.values()]) {
    if (cb.canister !== canister.idText) continue;
    s.state.callbacks.delete(cb.id);
    s.state.guaranteedMessageBytes -= heldReservation(cb);
  }
  const q = s.state.queues.get(canister.idText);
  if (q) q.reserved = {};
  s.state.paused.delete(canister.idText);
  canister.outstandingCalls = 0;
  for (const cc of [...s.state.callContexts.values()]) {
    if (cc.canister !== canister.idText) continue;
    // The IC answers with the same words whatever removed the code (execution_environment.rs):
    // a user sees IC0406, a calling canister the bare text.
    s.log.info(`${canister.name}: call context for ${cc.method} rejected: ${message}`);
    respond(s, cc, { ...canisterReject(CANISTER_UNINSTALLED) });
    cc.outstanding = 0;
    cc.closed = true;
    s.state.callContexts.delete(cc.id);
  }
  canister.openCallContexts = 0;
  checkStopped(s, canister);
}
