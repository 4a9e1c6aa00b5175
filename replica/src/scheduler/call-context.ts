// Call contexts, callbacks and queued messages (interface spec, "Call contexts" in the abstract
// behaviour): every call a canister receives opens a call context that is answered at most
// once; every call a canister makes registers a callback in the calling context. All of it is
// plain data (numbers, strings, bigints, byte arrays), so the scheduler's state can be
// snapshotted and restored (state.ts).
import type { CallResponse } from '../ic/call-outcome.ts';
import type { PendingCall } from '../system-api/context.ts';

export interface IngressOrigin {
  kind: 'ingress';
  /** The ingress message's id in this scheduler; whoever submitted it waits on it (not part of the state). */
  messageId: number;
  /** What the submitter names the message by (e.g. its request id), handed back with the response. */
  key?: string;
}

export interface CanisterOrigin {
  kind: 'canister';
  /** The calling canister (its text id) and the callback waiting for the response. */
  canister: string;
  callbackId: number;
}

/** The system tasks (interface spec: heartbeat, global timer, low-Wasm-memory hook). */
export type SystemTask = 'canister_heartbeat' | 'canister_global_timer' | 'canister_on_low_wasm_memory';

export interface SystemOrigin {
  kind: 'system';
  task: SystemTask;
}

export type CallOrigin = IngressOrigin | CanisterOrigin | SystemOrigin;

export interface CallContext {
  id: number;
  canister: string;
  origin: CallOrigin;
  caller: Uint8Array;
  method: string;
  responded: boolean;
  /** Cycles sent with the call that have not been accepted (refunded with the response). */
  cyclesAvailable: bigint;
  /** Callbacks still waiting for a response. */
  outstanding: number;
  instructions: bigint;
  closed: boolean;
  /** The call's deadline (ns) if it is a best-effort call, 0n otherwise (ic0.msg_deadline). */
  deadline: bigint;
}

export interface Callback {
  id: number;
  /** The calling canister. */
  canister: string;
  callContextId: number;
  /** The call as built by call_new … call_perform (closures, cycles, prepaid fees); the argument is not kept. */
  call: Omit<PendingCall, 'arg'>;
  callee: string;
  /** Best-effort calls: when the caller stops waiting (ns); 0n for guaranteed-response calls. */
  deadline: bigint;
  /** The deadline passed: the caller's SYS_UNKNOWN reject is on its way and a late response is dropped. */
  expired?: boolean;
}

/** A call on its way to a canister or to the management canister. */
export interface RequestMessage {
  kind: 'request';
  callee: string;
  method: string;
  arg: Uint8Array;
  cycles: bigint;
  caller: Uint8Array;
  origin: IngressOrigin | CanisterOrigin;
  deadline: bigint;
  /**
   * A request the management canister answers from a later round (raw_rand: the next round's
   * random tape): it waits in the subnet queue until this round.
   */
  notBeforeRound?: number;
}

/** A response on its way back to the caller's callback. */
export interface ResponseMessage {
  kind: 'response';
  canister: string;
  /** Who answered (the callee's text id), which names the queue it travels in. */
  from: string;
  callbackId: number;
  response: CallResponse;
  refund: bigint;
  /** The deadline of the call this answers (0n: guaranteed response). */
  deadline: bigint;
  /** The system's SYS_UNKNOWN reject for an expired best-effort call. */
  expiredReject?: boolean;
  /** The system's SYS_UNKNOWN reject in place of a best-effort response that was shed (holds no message memory). */
  shed?: boolean;
}

/** A heartbeat or global timer the round scheduled for a canister. */
export interface TaskMessage {
  kind: 'task';
  canister: string;
  task: SystemTask;
}

/** A message in the subnet's queues. */
export type QueuedMessage = RequestMessage | ResponseMessage;
export type InputMessage = RequestMessage | ResponseMessage | TaskMessage;
