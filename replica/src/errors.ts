// One error base class for the replica, with stable string codes. The IC's reject codes and
// error codes live in ic/reject-codes.ts and are re-exported here.

export { RejectCode, ErrorCode, rejectCodeName, rejectCodeOf, isRejectCode, isErrorCode } from './ic/reject-codes.ts';
import { rejectCodeName, type ErrorCode, type RejectCode } from './ic/reject-codes.ts';

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
