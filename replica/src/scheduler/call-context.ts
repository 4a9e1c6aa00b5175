// Call contexts and callbacks (interface spec, "Call contexts" in the abstract behaviour):
// every call a canister receives opens a call context that is answered at most once; every
// call a canister makes registers a callback in the calling context.
import type { RejectCode, ErrorCode } from '../ic/reject-codes.ts';
import type { PendingCall } from '../system-api/context.ts';

export type CallResponse =
  | { kind: 'reply'; data: Uint8Array }
  | {
      kind: 'reject';
      code: RejectCode;
      message: string;
      errorCode?: ErrorCode;
      /**
       * The canister itself rejected the call (ic0.msg_reject). Every other reject that carries
       * an IC error code reaches a calling canister as the IC's UserError text,
       * `<errorCode>: <message>` (ic/user-errors.ts rejectMessageForCanister).
       */
      ownReject?: boolean;
    };

export interface IngressOrigin {
  kind: 'ingress';
  resolve: (response: CallResponse) => void;
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
  deadline: bigint;
}

export interface Callback {
  id: number;
  canister: string;
  callContext: CallContext;
  call: PendingCall;
  callee: string;
}

/** A message in the subnet's queues: a call on its way to a canister, or a response back. */
export type QueuedMessage =
  | {
      kind: 'request';
      callee: string;
      method: string;
      arg: Uint8Array;
      cycles: bigint;
      caller: Uint8Array;
      origin: IngressOrigin | CanisterOrigin;
      deadline: bigint;
    }
  | { kind: 'response'; canister: string; callbackId: number; response: CallResponse; refund: bigint };

export type RequestMessage = Extract<QueuedMessage, { kind: 'request' }>;
