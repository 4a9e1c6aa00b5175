// The IC's two kinds of codes on a rejected call, in one place.
//
// Reject codes (interface spec, "Reject codes") are the integers a canister sees from
// ic0.msg_reject_code and a client reads as `reject_code`. Error codes (`IC0xxx`) are the
// finer-grained codes the IC attaches to the errors it produces itself (dfinity/ic,
// packages/ic-error-types/src/lib.rs, `ErrorCode`): the first digit of the number is the reject
// code it belongs to (its "HTTP-like convention"), the rest a two-digit sequence number.
// This list holds every code the IC defines, also those this replica never produces, so that
// decoding a code read elsewhere (a stored state, a PocketIC answer) never meets an unknown one.

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

/** The spec's name of a reject code (`SYS_FATAL` …), or `UNKNOWN_<n>` for a number outside 1–6. */
export const rejectCodeName = (code: number): string =>
  (Object.keys(RejectCode) as (keyof typeof RejectCode)[]).find((k) => RejectCode[k] === code) ?? `UNKNOWN_${code}`;

/** Whether a number is one of the spec's reject codes. */
export const isRejectCode = (code: number): code is RejectCode => code >= 1 && code <= 6 && Number.isInteger(code);

/**
 * The IC's error codes, named as in ic-error-types' `ErrorCode` enum, written as the IC prints
 * them (`IC` and four digits).
 */
export const ErrorCode = {
  // 1xx: SYS_FATAL
  SubnetOversubscribed: 'IC0101',
  MaxNumberOfCanistersReached: 'IC0102',
  // 2xx: SYS_TRANSIENT
  CanisterQueueFull: 'IC0201',
  IngressMessageTimeout: 'IC0202',
  CanisterQueueNotEmpty: 'IC0203',
  IngressHistoryFull: 'IC0204',
  CanisterIdAlreadyExists: 'IC0205',
  StopCanisterRequestTimeout: 'IC0206',
  CanisterOutOfCycles: 'IC0207',
  CertifiedStateUnavailable: 'IC0208',
  CanisterInstallCodeRateLimited: 'IC0209',
  CanisterHeapDeltaRateLimited: 'IC0210',
  // 3xx: DESTINATION_INVALID
  CanisterNotFound: 'IC0301',
  CanisterSnapshotNotFound: 'IC0305',
  // 4xx: CANISTER_REJECT
  InsufficientMemoryAllocation: 'IC0402',
  InsufficientCyclesForCreateCanister: 'IC0403',
  SubnetNotFound: 'IC0404',
  CanisterNotHostedBySubnet: 'IC0405',
  CanisterRejectedMessage: 'IC0406',
  UnknownManagementMessage: 'IC0407',
  InvalidManagementPayload: 'IC0408',
  CanisterSnapshotImmutable: 'IC0409',
  CanisterSnapshotMutable: 'IC0410',
  // 5xx: CANISTER_ERROR
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
  CanisterFunctionNotFound: 'IC0513',
  CanisterNonEmpty: 'IC0514',
  QueryCallGraphLoopDetected: 'IC0517',
  InsufficientCyclesInCall: 'IC0520',
  CanisterWasmEngineError: 'IC0521',
  CanisterInstructionLimitExceeded: 'IC0522',
  CanisterMemoryAccessLimitExceeded: 'IC0524',
  QueryCallGraphTooDeep: 'IC0525',
  QueryCallGraphTotalInstructionLimitExceeded: 'IC0526',
  CompositeQueryCalledInReplicatedMode: 'IC0527',
  QueryTimeLimitExceeded: 'IC0528',
  QueryCallGraphInternal: 'IC0529',
  InsufficientCyclesInComputeAllocation: 'IC0530',
  InsufficientCyclesInMemoryAllocation: 'IC0531',
  InsufficientCyclesInMemoryGrow: 'IC0532',
  ReservedCyclesLimitExceededInMemoryAllocation: 'IC0533',
  ReservedCyclesLimitExceededInMemoryGrow: 'IC0534',
  InsufficientCyclesInMessageMemoryGrow: 'IC0535',
  CanisterMethodNotFound: 'IC0536',
  CanisterWasmModuleNotFound: 'IC0537',
  CanisterAlreadyInstalled: 'IC0538',
  CanisterWasmMemoryLimitExceeded: 'IC0539',
  ReservedCyclesLimitIsTooLow: 'IC0540',
  CanisterSnapshotTransformFailed: 'IC0541',
  // 6xx: SYS_UNKNOWN (best-effort calls only)
  DeadlineExpired: 'IC0601',
  ResponseDropped: 'IC0602',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** Whether a string is one of the IC's error codes. */
export const isErrorCode = (code: string): code is ErrorCode => ERROR_CODES.has(code);

/** The reject code an error code belongs to: the first digit of its number (ic-error-types, `From<ErrorCode> for RejectCode`). */
export const rejectCodeOf = (errorCode: ErrorCode): RejectCode => Number(errorCode[3]) as RejectCode;
