// Non-replicated queries and composite queries (interface spec, "Query call" and "Composite
// query methods"). A composite query may call queries of canisters on the same subnet; the
// whole call graph runs against the current state and nothing of it persists. As on the IC
// (rs/execution_environment query_context.rs), a call back into a canister that is already
// waiting in the graph is a loop (IC0517), and a chain deeper than MAX_QUERY_CALL_DEPTH = 6
// fails the whole query (IC0525).
import { Principal } from '@dfinity/principal';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';
import { mayReadLogs, type Canister } from '../execution/canister.ts';
import { canisterReject, executionFailure, rejectMessageForCanister } from '../ic/user-errors.ts';
import { onCommittedState, type Entry, type ExecutionResult } from '../execution/execute.ts';
import type { ApiKind, MessageContext, PendingCall } from '../system-api/context.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import { MANAGEMENT_CANISTER_TEXT } from '../ic/principal.ts';
import type { Limits } from '../limits.ts';
import type { ReplicaLog } from '../log.ts';

/** What evaluating a query needs of the scheduler (the Scheduler passes itself). */
export interface QueryHost {
  readonly canisters: ReadonlyMap<string, Canister>;
  readonly log: ReplicaLog;
  readonly limits: Limits;
  /** The management canister's query methods (fetch_canister_logs). */
  readonly management?: { query(method: string, arg: Uint8Array, sender: Uint8Array): CallResponse | undefined };
  readonly dataCertificateProvider?: (canisterId: Uint8Array) => Uint8Array | undefined;
  checkCallable(canister: Canister | undefined, id: string, method: string, mode: 'update' | 'query'): CallResponse | undefined;
  newContext(canister: Canister, kind: ApiKind, init?: Partial<MessageContext>): MessageContext;
  run(canister: Canister, ctx: MessageContext, entry: Entry, persist: boolean | 'sandbox', label: { method: string; callerName?: string }): ExecutionResult;
}

/** The IC's texts for a loop and for a too deep call graph (query_context.rs). */
export const QUERY_LOOP_DETECTED = 'Loop detected.  MVP inter-canister queries do not support loops.';
export const QUERY_CALL_GRAPH_TOO_DEEP = 'Call exceeded the limit for maximum number of nested query calls.';

/** Ends the whole query, not just one call in it (loop or depth limit). */
class QueryGraphError extends Error {
  readonly response: CallResponse;
  constructor(response: CallResponse) {
    super(response.kind === 'reject' ? response.message : 'query graph error');
    this.response = response;
  }
}

export function evaluateQuery(s: QueryHost, canisterId: string, method: string, arg: Uint8Array, caller: Uint8Array): CallResponse {
  try {
    return queryOn(s, canisterId, method, arg, caller, []);
  } catch (e) {
    if (e instanceof QueryGraphError) return e.response;
    throw e;
  }
}

function outcomeOf(canister: Canister, ctx: MessageContext, result: ExecutionResult): CallResponse | undefined {
  if (result.trap) return executionFailure(canister.idText, result.trap, mayReadLogs(canister, ctx.caller));
  if (ctx.outcome?.kind === 'reply') return ctx.outcome;
  if (ctx.outcome?.kind === 'reject') return canisterReject(ctx.outcome.message);
  return undefined;
}

const didNotReply = (id: string): CallResponse => ({
  kind: 'reject',
  code: RejectCode.CANISTER_ERROR,
  errorCode: ErrorCode.CanisterDidNotReply,
  message: `Canister ${id} did not reply to the call`,
});

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One query of the graph, counted in the canister's query_stats (canister_status). */
function queryOn(s: QueryHost, id: string, method: string, arg: Uint8Array, caller: Uint8Array, ancestors: string[]): CallResponse {
  const response = answerQuery(s, id, method, arg, caller, ancestors);
  const stats = s.canisters.get(id)?.queryStats;
  if (stats) {
    stats.calls += 1n;
    stats.requestBytes += BigInt(arg.length);
    stats.responseBytes += BigInt(response.kind === 'reply' ? response.data.length : response.message.length);
  }
  return response;
}

function answerQuery(s: QueryHost, id: string, method: string, arg: Uint8Array, caller: Uint8Array, ancestors: string[]): CallResponse {
  if (id === MANAGEMENT_CANISTER_TEXT) {
    const answer = ancestors.length === 0 ? s.management?.query(method, arg, caller) : undefined;
    if (answer) return answer;
    return {
      kind: 'reject',
      code: RejectCode.DESTINATION_INVALID,
      errorCode: ErrorCode.CanisterMethodNotFound,
      message: `The management canister (aaaaa-aa) does not answer query calls; call ${method} as an update`,
    };
  }
  const canister = s.canisters.get(id);
  const problem = s.checkCallable(canister, id, method, 'query');
  if (problem) return problem;
  const c = canister!;
  const dataCertificate = s.dataCertificateProvider?.(c.id);
  const composite = c.module!.methods.compositeQueries.has(method);
  if (!composite) {
    const ctx = s.newContext(c, 'NRQ', { caller, arg, methodName: method, dataCertificate });
    const result = s.run(c, ctx, { export: `canister_query ${method}` }, false, { method });
    return outcomeOf(c, ctx, result) ?? didNotReply(id);
  }

  // On the committed state while a replicated message of the canister waits (execute.ts).
  return onCommittedState(c, () => compositeQuery(s, c, method, arg, caller, ancestors, dataCertificate));
}

function compositeQuery(
  s: QueryHost,
  c: Canister,
  method: string,
  arg: Uint8Array,
  caller: Uint8Array,
  ancestors: string[],
  dataCertificate: Uint8Array | undefined,
): CallResponse {
  const id = c.idText;
  // The canister's state evolves across the method and its callbacks, then is discarded: the
  // executions run sandboxed (live memory only), and the end restores the committed state.
  const instance = c.instance!;
  instance.beginMessage();
  const balance = c.balance;
  c.stable.begin();
  try {
    const ctx = s.newContext(c, 'CQ', { caller, arg, methodName: method, dataCertificate });
    const first = s.run(c, ctx, { export: `canister_composite_query ${method}` }, 'sandbox', { method });
    const direct = outcomeOf(c, ctx, first);
    if (direct) return direct;
    // performance_counter(1) spans the method and its callbacks (not the downstream calls).
    let spent = first.instructions;
    const pending: PendingCall[] = [...ctx.outgoing];
    while (pending.length > 0) {
      const call = pending.shift()!;
      let callee: string;
      try {
        callee = Principal.fromUint8Array(call.callee).toText();
      } catch {
        callee = '<invalid principal>';
      }
      // A composite query may call queries of its own canister; a call back into another
      // canister that is waiting in the graph is a loop. Both errors end the whole query with
      // the IC's texts (query_context.rs LOOP_DETECTED_ERROR_MSG, CALL_GRAPH_TOO_DEEP_ERROR_MSG).
      if (callee !== id && ancestors.includes(callee)) {
        s.log.info(`composite query ${method} of ${id}: call to ${callee} closes a loop (${[...ancestors, id, callee].join(' -> ')})`);
        throw new QueryGraphError({
          kind: 'reject',
          code: RejectCode.CANISTER_ERROR,
          errorCode: ErrorCode.QueryCallGraphLoopDetected,
          message: QUERY_LOOP_DETECTED,
        });
      }
      if (ancestors.length + 1 > s.limits.maxQueryCallDepth) {
        s.log.info(
          `composite query ${method} of ${id}: call to ${callee} exceeds the depth limit of ${s.limits.maxQueryCallDepth} (${[...ancestors, id, callee].join(' -> ')})`,
        );
        throw new QueryGraphError({
          kind: 'reject',
          code: RejectCode.CANISTER_ERROR,
          errorCode: ErrorCode.QueryCallGraphTooDeep,
          message: QUERY_CALL_GRAPH_TOO_DEEP,
        });
      }
      // A call to its own canister runs on the same instance: the composite query's state in
      // progress (its continuation) is put back afterwards.
      const saved = callee === id ? instance.snapshot() : undefined;
      let response: CallResponse;
      try {
        response = queryOn(s, callee, call.method, concat(call.arg, call.argSize), c.id, [...ancestors, id]);
      } finally {
        if (saved) instance.restoreLive(saved);
      }
      const isReply = response.kind === 'reply';
      const cbCtx = s.newContext(c, isReply ? 'CRy' : 'CRt', {
        caller,
        methodName: method,
        dataCertificate,
        arg: response.kind === 'reply' ? response.data : new Uint8Array(),
        rejectCode: response.kind === 'reject' ? response.code : 0,
        rejectMessage: response.kind === 'reject' ? rejectMessageForCanister(response) : '',
        callContextInstructions: spent,
      });
      const label = `${method} ${isReply ? 'reply' : 'reject'} callback from ${s.canisters.get(callee)?.name ?? callee}.${call.method}`;
      const result = s.run(c, cbCtx, { closure: isReply ? call.reply : call.reject }, 'sandbox', { method: label });
      spent += result.instructions;
      if (result.trap) {
        if (call.cleanup) s.run(c, s.newContext(c, 'C', { caller, methodName: method }), { closure: call.cleanup }, 'sandbox', { method: `${method} cleanup` });
        if (pending.length === 0) return outcomeOf(c, cbCtx, result)!;
        continue;
      }
      pending.push(...cbCtx.outgoing);
      const answered = outcomeOf(c, cbCtx, result);
      if (answered) return answered;
    }
    return didNotReply(id);
  } finally {
    instance.rollbackMessage();
    c.stable.rollback();
    c.balance = balance;
  }
}
