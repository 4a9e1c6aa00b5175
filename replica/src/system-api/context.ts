// The state one message execution sees through the System API (interface spec, "Canister
// interface (System API)"). The scheduler fills a MessageContext before it runs an entry point;
// the ic0 imports read and write it; afterwards the scheduler commits or discards what it holds.
import { ErrorCode, type RejectCode } from '../ic/reject-codes.ts';
import type { HypervisorError } from '../ic/user-errors.ts';
import type { CyclesCosts } from '../cycles/fees.ts';

/**
 * Entry-point kinds, named after the spec's availability table: I (init), G (pre_upgrade),
 * s (start), U (update), RQ/NRQ (replicated / non-replicated query), CQ (composite query),
 * Ry/Rt (reply / reject callback), CRy/CRt (their composite-query forms), C (cleanup, in
 * updates and composite queries alike), F (inspect_message), T (system task: heartbeat,
 * global timer). post_upgrade is I, as in the spec.
 */
export type ApiKind = 'I' | 'G' | 's' | 'U' | 'RQ' | 'NRQ' | 'CQ' | 'Ry' | 'Rt' | 'CRy' | 'CRt' | 'C' | 'F' | 'T';

export interface Closure {
  fun: number;
  env: bigint;
}

/** An outgoing call as built by call_new … call_perform. */
export interface PendingCall {
  callee: Uint8Array;
  method: string;
  reply: Closure;
  reject: Closure;
  cleanup?: Closure;
  arg: Uint8Array[];
  argSize: number;
  cycles: bigint;
  /** Seconds; set by call_with_best_effort_response. */
  timeoutSeconds?: number;
  /** Cycles withdrawn by call_perform beyond the attached ones (fees; mostly refunded with the response). */
  prepaidFees?: { transmission: bigint; execution: bigint };
}

export type MessageOutcome = { kind: 'reply'; data: Uint8Array } | { kind: 'reject'; code: RejectCode; message: string };

export interface CanisterView {
  id: Uint8Array;
  idText: string;
  /** Running = 1, stopping = 2, stopped = 3 (ic0.canister_status). */
  statusCode(): number;
  balance: bigint;
  version: bigint;
  /** Calls this canister made that still wait for a response (bounded by the output queue). */
  outstandingCalls: number;
  isController(principal: Uint8Array): boolean;
  /** Its subnet's cycles costs (absent: a 13-node application subnet). */
  costs?: CyclesCosts;
}

export interface MessageContext {
  kind: ApiKind;
  canister: CanisterView;
  caller: Uint8Array;
  arg: Uint8Array;
  methodName: string;
  time: bigint;
  /** 0 in a reply callback (the Rust CDK's single callback relies on it), the code in a reject callback. */
  rejectCode: number;
  rejectMessage: string;
  /** Whether the call context this message belongs to has already been answered. */
  callContextResponded: boolean;
  replyBuffer: Uint8Array[];
  replySize: number;
  /** Set by msg_reply / msg_reject in this message. */
  outcome?: MessageOutcome;
  cyclesAvailable: bigint;
  cyclesAccepted: bigint;
  cyclesRefunded: bigint;
  outgoing: PendingCall[];
  building?: PendingCall;
  certifiedData?: Uint8Array<ArrayBufferLike>;
  /** New global timer deadline (ns), 0n to deactivate; undefined if unchanged. */
  globalTimer?: bigint;
  previousGlobalTimer: bigint;
  /** Certificate for certified data in non-replicated queries (from the certification layer). */
  dataCertificate?: Uint8Array;
  messageAccepted: boolean;
  debugPrint(line: string): void;
  /**
   * When set, what the execution does that others can observe outside the canister's state
   * (debug print output, notes of refused calls) is queued here instead of happening, in order,
   * for an execution that may be discarded (execution/execute.ts attemptUnsliced). `effect`
   * runs it now or queues it.
   */
  effects?: Array<() => void>;
  /** Instructions used so far in this message (performance_counter type 0). */
  instructionCounter(): bigint;
  /**
   * Set while a time-sliced execution runs: the instructions of its budget not yet granted to
   * the counter, so a System API charge may end the slice (take the counter below zero) without
   * failing the message (metering/system-api-costs.ts chargeSystemApiCall).
   */
  sliceReserve?: () => bigint;
  /** Instructions used by the whole call context before this message (type 1 adds this). */
  callContextInstructions: bigint;
  replicated: boolean;
  /** Deadline of a best-effort call (ns), 0n for guaranteed-response calls. */
  deadline: bigint;
  subnetId: Uint8Array;
  /** Adds or removes cycles from the canister's balance; throws a trap if insufficient. */
  takeCycles(amount: bigint): void;
  burnCycles(amount: bigint): bigint;
  /**
   * Withdraws what call_perform prepays for a call of `requestBytes` (cycles/fees.ts
   * callPrepayment), respecting the freezing threshold; undefined when the canister cannot pay.
   */
  prepayCall(requestBytes: number): { transmission: bigint; execution: bigint } | undefined;
  /** Largest reply or reject this execution may produce (limits.ts maxReplyBytes). */
  replyLimit: number;
  /** Largest request (method name and argument) an outgoing call may carry (limits.ts maxRequestBytes). */
  requestLimit: number;
  /** Per-message stable memory access accounting (IC0524); returns pages newly dirtied by a write. */
  stableAccess?: { read(offset: number, length: number): void; write(offset: number, length: number): number };
  rootKey?: Uint8Array;
  /**
   * Set by the scheduler: 0 if `call` can be enqueued (queue capacity, callback limits), else
   * the code ic0.call_perform returns. Without it a fixed per-canister bound applies.
   */
  refuseCall?(call: PendingCall): number;
  /** Set by the scheduler for queries: records System API reads that make a result depend on time, balance or certificate (query cache). */
  observed?: { time: boolean; balance: boolean; certificate: boolean };
}

/** A trap: the message's effects are discarded. `called` marks ic0.trap (IC0503) vs a Wasm or API trap (IC0502). */
/** Runs `fn` now, or queues it when the context collects its execution's effects (`MessageContext.effects`). */
export function effect(ctx: MessageContext, fn: () => void): void {
  if (ctx.effects) ctx.effects.push(fn);
  else fn();
}

export class CanisterTrap extends Error {
  readonly called: boolean;
  /** Set when the IC reports the trap under its own code (IC0504 contract violation, IC0524 …). */
  readonly errorCode?: ErrorCode;
  /** The failure exactly as the IC describes it, when the thrower knows it. */
  readonly error?: HypervisorError;
  constructor(message: string, called = false, errorCode?: ErrorCode) {
    super(message);
    this.name = 'CanisterTrap';
    this.called = called;
    this.errorCode = errorCode;
  }

  /** A trap carrying the IC's own description of the failure. */
  static of(error: HypervisorError): CanisterTrap {
    const trap = new CanisterTrap(error.text, error.errorCode === ErrorCode.CanisterCalledTrap, error.errorCode);
    (trap as { error?: HypervisorError }).error = error;
    return trap;
  }
}
