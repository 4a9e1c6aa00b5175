// One error base class for the replica, with stable string codes, plus the IC's own reject
// codes (interface spec, "Reject codes") and error codes (IC0xxx, as the IC's ic-error-types
// crate numbers them: the first digit is the reject code).

/** Reject codes, interface spec section "Reject codes". */
export const RejectCode = {
  SYS_FATAL: 1,
  SYS_TRANSIENT: 2,
  DESTINATION_INVALID: 3,
  CANISTER_REJECT: 4,
  CANISTER_ERROR: 5,
  SYS_UNKNOWN: 6,
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

export const rejectCodeName = (code: number): string =>
  (Object.keys(RejectCode) as (keyof typeof RejectCode)[]).find((k) => RejectCode[k] === code) ?? `UNKNOWN_${code}`;

/** The IC's user-facing error codes that this replica produces. */
export const ErrorCode = {
  CanisterQueueFull: 'IC0201',
  CanisterIdAlreadyExists: 'IC0205',
  CanisterOutOfCycles: 'IC0207',
  CanisterNotFound: 'IC0301',
  CanisterSnapshotNotFound: 'IC0305',
  InsufficientCyclesForCreateCanister: 'IC0403',
  CanisterNotHostedBySubnet: 'IC0405',
  CanisterRejectedMessage: 'IC0406',
  UnknownManagementMessage: 'IC0407',
  InvalidManagementPayload: 'IC0408',
  CanisterTrapped: 'IC0502',
  CanisterCalledTrap: 'IC0503',
  CanisterContractViolation: 'IC0504',
  CanisterInvalidWasm: 'IC0505',
  CanisterDidNotReply: 'IC0506',
  CanisterOutOfMemory: 'IC0507',
  CanisterStopped: 'IC0508',
  CanisterStopping: 'IC0509',
  CanisterNotStopped: 'IC0510',
  CanisterStoppingCancelled: 'IC0511',
  CanisterInvalidController: 'IC0512',
  CanisterNonEmpty: 'IC0514',
  QueryCallGraphLoopDetected: 'IC0517',
  InsufficientCyclesInCall: 'IC0520',
  CanisterInstructionLimitExceeded: 'IC0522',
  CanisterMemoryAccessLimitExceeded: 'IC0524',
  QueryCallGraphTooDeep: 'IC0525',
  CompositeQueryCalledInReplicatedMode: 'IC0527',
  CanisterMethodNotFound: 'IC0536',
  CanisterWasmModuleNotFound: 'IC0537',
  CanisterAlreadyInstalled: 'IC0538',
  CanisterWasmMemoryLimitExceeded: 'IC0539',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The reject code an error code belongs to: its first digit. */
export const rejectCodeOf = (errorCode: ErrorCode): RejectCode => Number(errorCode[3]) as RejectCode;

/** Base class of every error the replica throws; `code` is stable and safe to match on. */
export class ReplicaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplicaError';
    this.code = code;
  }
}

/**
 * A call was rejected (by the system or the canister). Carries the spec's reject code and,
 * for system rejects, the IC error code; the message names the canister, method and cause.
 */
export class CanisterRejectError extends ReplicaError {
  readonly rejectCode: RejectCode;
  readonly errorCode?: ErrorCode;
  readonly canisterId: string;
  readonly method: string;
  readonly rejectMessage: string;
  constructor(init: { rejectCode: RejectCode; errorCode?: ErrorCode; canisterId: string; method: string; message: string }) {
    const codeText = init.errorCode ? `${init.errorCode}, ` : '';
    super(
      'ERR_CANISTER_REJECT',
      `Call to ${init.canisterId}.${init.method} was rejected (${codeText}reject code ${init.rejectCode} ${rejectCodeName(init.rejectCode)}): ${init.message}`,
    );
    this.name = 'CanisterRejectError';
    this.rejectCode = init.rejectCode;
    this.errorCode = init.errorCode;
    this.canisterId = init.canisterId;
    this.method = init.method;
    this.rejectMessage = init.message;
  }
}

/** Candid decoding or encoding of a call's arguments or reply failed on the replica's side. */
export class CandidError extends ReplicaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CANDID', message, options);
    this.name = 'CandidError';
  }
}

/** The programmatic API was used wrongly (unknown canister, bad option). */
export class UsageError extends ReplicaError {
  constructor(message: string) {
    super('ERR_USAGE', message);
    this.name = 'UsageError';
  }
}
