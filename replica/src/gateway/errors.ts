// Why the gateway could not serve a canister's response. Each carries the HTTP status the browser
// gets and a stable code; the message says what happened and what to do about it.

export type GatewayErrorCode =
  | 'ERR_NO_CANISTER' // the request names no canister
  | 'ERR_BAD_REQUEST' // a malformed URL or Host header
  | 'ERR_CANISTER_NOT_FOUND' // no such canister, or it has no http_request
  | 'ERR_CANISTER_REJECTED' // http_request trapped or rejected
  | 'ERR_STREAMING' // a streaming callback failed or broke the rules
  | 'ERR_VERIFICATION' // the response does not verify against the certified state
  | 'ERR_RESPONSE_TOO_LARGE'; // the assembled body exceeds the gateway's limit

const STATUS: Record<GatewayErrorCode, number> = {
  ERR_NO_CANISTER: 400,
  ERR_BAD_REQUEST: 400,
  ERR_CANISTER_NOT_FOUND: 404,
  ERR_CANISTER_REJECTED: 502,
  ERR_STREAMING: 502,
  ERR_VERIFICATION: 502,
  ERR_RESPONSE_TOO_LARGE: 502,
};

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  /** For ERR_VERIFICATION: the ResponseVerificationErrorCode name from @dfinity/response-verification. */
  readonly verificationError?: string;
  constructor(code: GatewayErrorCode, message: string, verificationError?: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = STATUS[code];
    if (verificationError) this.verificationError = verificationError;
  }
}
