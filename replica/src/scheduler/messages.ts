// Executing one message of each kind, replicated: a request (from ingress or a canister) runs
// its update method in a new call context; a response runs the reply or reject callback of the
// call it answers (and the cleanup closure when that traps); a heartbeat, global timer or
// low-Wasm-memory hook runs in a system call context. Each may be time-sliced through its
// SliceChannel (paused.ts); its effects are applied by calls.ts when its last slice has run.
import type { Canister } from '../execution/canister.ts';
import type { Entry, ExecutionResult } from '../execution/execute.ts';
import { OutOfCyclesError, withdrawCycles, type CyclesState } from '../cycles/account.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';
import { rejectMessageForCanister } from '../ic/user-errors.ts';
import type { ApiKind, MessageContext } from '../system-api/context.ts';
import type { CallContext, RequestMessage, ResponseMessage, TaskMessage } from './call-context.ts';
import * as calls from './calls.ts';
import { heldReservation } from './message-memory.ts';
import type { SliceChannel } from './slicing.ts';

/** What executing messages needs of the scheduler (the Scheduler passes itself). */
export interface MessagesHost extends calls.CallsHost {
  /** The time of the round under way (ic0.time of its replicated executions). */
  readonly roundTime?: bigint;
  callerName(caller: Uint8Array): string;
  checkCallable(canister: Canister | undefined, id: string, method: string, mode: 'update' | 'query'): CallResponse | undefined;
  cyclesState(canister: Canister): CyclesState;
  newContext(canister: Canister, kind: ApiKind, init?: Partial<MessageContext>): MessageContext;
  run(canister: Canister, ctx: MessageContext, entry: Entry, persist: boolean | 'sandbox', label: { method: string; callerName?: string }): ExecutionResult;
  runSliced(
    canister: Canister,
    ctx: MessageContext,
    entry: Entry,
    label: { method: string; callerName?: string },
    channel: SliceChannel,
  ): Promise<ExecutionResult>;
}

const reject = (code: RejectCode, errorCode: ErrorCode | undefined, message: string): CallResponse => ({ kind: 'reject', code, errorCode, message });

export async function deliverRequest(s: MessagesHost, request: RequestMessage, channel: SliceChannel): Promise<bigint> {
  if (request.deadline > 0n && request.deadline <= (s.roundTime ?? s.clock.nowNanos())) {
    // Expired best-effort requests are dropped from the queues; the caller already has its SYS_UNKNOWN.
    s.metrics.bestEffortRequestsExpired++;
    s.log.emit({
      kind: 'message',
      level: 'verbose',
      text: `${s.canisters.get(request.callee)?.name ?? request.callee}.${request.method} (${s.callerName(request.caller)}) -> dropped: its best-effort deadline passed in the queue`,
    });
    return 0n;
  }
  const canister = s.canisters.get(request.callee);
  if (!canister && request.origin.kind === 'canister') {
    calls.answer(s, request, calls.routingReject(s, request.callee), request.cycles);
    return 0n;
  }
  const problem = s.checkCallable(canister, request.callee, request.method, 'update');
  if (problem) {
    calls.answer(s, request, problem, request.cycles);
    return 0n;
  }
  const c = canister!;
  if (request.origin.kind === 'ingress') {
    // Ingress induction is paid by the receiving canister (cycles/fees.ts ingressInduction).
    try {
      withdrawCycles(s.cyclesState(c), c.costs.ingressInduction(request.arg.length + request.method.length), c.idText);
    } catch (e) {
      if (!(e instanceof OutOfCyclesError)) throw e;
      calls.answer(s, request, reject(RejectCode.SYS_TRANSIENT, ErrorCode.CanisterOutOfCycles, e.message), 0n);
      return 0n;
    }
  }
  const isQuery = c.module!.methods.queries.has(request.method);
  const cc = calls.openCallContext(s, c, request.origin, request.caller, request.method, request.cycles, request.deadline);
  const ctx = s.newContext(c, isQuery ? 'RQ' : 'U', {
    caller: request.caller,
    arg: request.arg,
    methodName: request.method,
    cyclesAvailable: request.cycles,
    deadline: request.deadline,
  });
  const exportName = isQuery ? `canister_query ${request.method}` : `canister_update ${request.method}`;
  channel.opened = cc.id;
  // A query executed in replicated mode discards its state changes (interface spec); it is not sliced.
  const result = isQuery
    ? s.run(c, ctx, { export: exportName }, false, { method: request.method })
    : await s.runSliced(c, ctx, { export: exportName }, { method: request.method }, channel);
  return finish(s, c, cc, ctx, result);
}

export async function deliverResponse(s: MessagesHost, message: ResponseMessage, channel: SliceChannel): Promise<bigint> {
  const callback = s.state.callbacks.get(message.callbackId);
  if (!callback || (callback.expired && !message.expiredReject)) {
    // No callback: uninstall_code forgot it, or the best-effort deadline passed and the
    // caller already got SYS_UNKNOWN. Either way the response is dropped (spec).
    if (message.deadline > 0n) {
      s.metrics.bestEffortLateResponsesDropped++;
      s.log.emit({
        kind: 'message',
        level: 'verbose',
        text: `response from ${s.canisters.get(message.from)?.name ?? message.from} to ${s.canisters.get(message.canister)?.name ?? message.canister} dropped: it came after the call's deadline`,
      });
    }
    return 0n;
  }
  s.state.callbacks.delete(message.callbackId);
  s.state.guaranteedMessageBytes -= heldReservation(callback);
  channel.callback = callback;
  const q = s.state.queues.get(callback.canister);
  if (q && q.reserved[callback.callee]) {
    if (--q.reserved[callback.callee] === 0) delete q.reserved[callback.callee];
  }
  const canister = s.canisters.get(callback.canister);
  if (!canister) return 0n;
  canister.outstandingCalls--;
  canister.balance += message.refund;
  const fees = callback.call.prepaidFees;
  if (fees) {
    // The callback prepays its own execution below, so the call's execution prepayment comes
    // back in full, and the unused part of the response transmission prepayment with it.
    const bytes = message.response.kind === 'reply' ? message.response.data.length : message.response.message.length;
    canister.balance += fees.execution + canister.costs.responseTransmissionRefund(bytes);
  }
  const cc = s.state.callContexts.get(callback.callContextId);
  if (!cc) return 0n;
  cc.outstanding--;
  if (!canister.instance) {
    calls.closeIfDone(s, canister, cc);
    return 0n;
  }
  const isReply = message.response.kind === 'reply';
  const ctx = s.newContext(canister, isReply ? 'Ry' : 'Rt', {
    caller: cc.caller,
    arg: message.response.kind === 'reply' ? message.response.data : new Uint8Array(),
    methodName: cc.method,
    rejectCode: message.response.kind === 'reject' ? message.response.code : 0,
    rejectMessage: message.response.kind === 'reject' ? rejectMessageForCanister(message.response) : '',
    cyclesRefunded: message.refund,
    cyclesAvailable: cc.cyclesAvailable,
    callContextResponded: cc.responded,
    callContextInstructions: cc.instructions, // performance_counter(1) spans the call context
    // In a callback, ic0.msg_deadline is the deadline of the call it answers (interface spec).
    deadline: callback.deadline,
  });
  const closure = isReply ? callback.call.reply : callback.call.reject;
  const label = `${cc.method} ${isReply ? 'reply' : 'reject'} callback from ${s.canisters.get(callback.callee)?.name ?? callback.callee}.${callback.call.method}`;
  const result = await s.runSliced(canister, ctx, { closure }, { method: label }, channel);
  if (result.trap && callback.call.cleanup) {
    // The cleanup closure runs when a callback traps (spec: call_on_cleanup); its own
    // state changes persist, but it may not send or answer anything.
    // ic0.msg_reject_code in a cleanup is the code its callback saw (0 after a reply).
    const cleanupCtx = s.newContext(canister, 'C', { caller: cc.caller, methodName: cc.method, rejectCode: ctx.rejectCode });
    s.run(canister, cleanupCtx, { closure: callback.call.cleanup }, true, { method: `${cc.method} cleanup` });
  }
  return finish(s, canister, cc, ctx, result);
}

/** After an execution (its last slice, for a sliced one): its effects; returns its instructions. */
export function finish(s: MessagesHost, canister: Canister, cc: CallContext, ctx: MessageContext, result: ExecutionResult): bigint {
  s.metrics.messagesExecuted++;
  if (result.instructions > 0n) s.metrics.addInstructions(canister.idText, result.instructions);
  calls.afterExecution(s, canister, cc, ctx, result);
  return result.instructions;
}

export async function runSystemTask(s: MessagesHost, task: TaskMessage, channel: SliceChannel): Promise<bigint> {
  const canister = s.canisters.get(task.canister);
  if (!canister || canister.status !== 'running' || !canister.instance) return 0n;
  const cc = calls.openCallContext(s, canister, { kind: 'system', task: task.task }, new Uint8Array(), task.task, 0n, 0n);
  channel.opened = cc.id;
  const ctx = s.newContext(canister, 'T', { methodName: task.task });
  const result = await s.runSliced(canister, ctx, { export: task.task }, { method: task.task, callerName: 'system' }, channel);
  return finish(s, canister, cc, ctx, result);
}
