// The only surface of the execution engine the HTTP interface uses (see README.md).
// Principals are raw bytes, times are nanoseconds.

import type { CanisterCertifiedInfo } from '../certification/state-tree.ts';

export type CallOutcome = { status: 'replied'; reply: Uint8Array } | { status: 'rejected'; rejectCode: number; rejectMessage: string; errorCode: string };

export interface IngressCall {
  requestId: Uint8Array;
  sender: Uint8Array;
  canisterId: Uint8Array;
  methodName: string;
  arg: Uint8Array;
  effectiveCanisterId: Uint8Array;
}

export interface QueryCall {
  sender: Uint8Array;
  canisterId: Uint8Array;
  methodName: string;
  arg: Uint8Array;
  effectiveCanisterId: Uint8Array;
}

export interface EnginePort {
  /** The replica's time (ic0.time), ns since 1970. */
  time(): bigint;
  /** Closed ranges of canister ids this subnet hosts. */
  canisterRanges(): Array<[Uint8Array, Uint8Array]>;
  listCanisters(): Uint8Array[];
  canisterInfo(canisterId: Uint8Array): CanisterCertifiedInfo | undefined;
  /**
   * Checks the spec makes before a call enters the state (canister exists and runs,
   * canister_inspect_message, management permissions). A reject here is answered without a
   * certificate (non_replicated_rejection); undefined means accepted.
   */
  acceptCall?(call: IngressCall): Promise<CallOutcome | undefined> | CallOutcome | undefined;
  /** Runs an accepted update call to completion. */
  submitCall(call: IngressCall): Promise<CallOutcome>;
  /**
   * Outcomes of calls restored from a persisted state, which no caller awaits: the engine reports
   * each by request id when it completes (the HTTP interface records it as that request's status).
   */
  onRestoredCallCompleted?(handler: (requestId: Uint8Array, outcome: CallOutcome) => void): void;
  queryCall(call: QueryCall): Promise<CallOutcome>;
  /** Lets queries read `ic0.data_certificate_*` for the latest certified state. */
  setDataCertificateProvider?(provider: (canisterId: Uint8Array) => Uint8Array | undefined): void;
}
