// PocketIC's JSON on the wire (dfinity/ic packages/pocket-ic/src/common/rest.rs and src/lib.rs,
// read 2026-12-04): byte strings are base64, principals are their raw bytes in base64, u64/u128
// numbers are plain JSON numbers of any size (PicJS reads them with json-with-bigint), and every
// error is `{"message": "..."}` with a 4xx status (`ApiResponse::Error`).
import { Principal } from '@dfinity/principal';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';

/** An answer to a request that failed: PocketIC's `ApiResponse::Error` body with a 4xx status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const badRequest = (message: string) => new ApiError(400, message);

/** A feature PocketIC has that this server does not: 400, and the message names the feature. */
export const unsupported = (feature: string, hint = '') =>
  new ApiError(400, `${feature} is not supported by this PocketIC-compatible server (the project's TypeScript replica)${hint ? `: ${hint}` : ''}`);

/**
 * Parses a JSON body. Integers too large for a double (u64 time, u128 cycles) become bigints,
 * read from their source text (Node's JSON.parse source access), so no precision is lost.
 */
export function parseJson(body: Uint8Array): unknown {
  const text = new TextDecoder().decode(body);
  try {
    return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value,
    );
  } catch (error) {
    // axum answers malformed JSON with 400 and this prefix; we send it as PocketIC's error body.
    throw badRequest(`Failed to parse the request body as JSON: ${(error as Error).message}`);
  }
}

/** JSON text with bigints written as plain numbers (as serde writes u64 and u128). */
export function toJson(value: unknown): string {
  const marked = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000big${v}` : v));
  return marked.replace(/"\\u0000big(-?\d+)"/g, '$1');
}

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

// --------------------------------------------------------------------------- field readers

type Obj = Record<string, unknown>;

/** The body as an object, or a 400 naming what was expected. */
export function object(value: unknown, what: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw badRequest(`Failed to deserialize the JSON body into the target type: ${what} must be a JSON object`);
  return value as Obj;
}

const missing = (field: string) => badRequest(`Failed to deserialize the JSON body into the target type: missing field \`${field}\``);
const invalid = (field: string, expected: string) =>
  badRequest(`Failed to deserialize the JSON body into the target type: ${field}: invalid type, expected ${expected}`);

export function bytesField(o: Obj, field: string): Uint8Array {
  const v = o[field];
  if (v === undefined || v === null) throw missing(field);
  return base64Bytes(v, field);
}

export function base64Bytes(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) throw invalid(field, 'a base64 string');
  return new Uint8Array(Buffer.from(v, 'base64'));
}

export function principalField(o: Obj, field: string): Principal {
  const bytes = bytesField(o, field);
  if (bytes.length > 29) throw badRequest(`${field}: a principal has at most 29 bytes, got ${bytes.length}`);
  return Principal.fromUint8Array(bytes);
}

export function stringField(o: Obj, field: string): string {
  const v = o[field];
  if (v === undefined || v === null) throw missing(field);
  if (typeof v !== 'string') throw invalid(field, 'a string');
  return v;
}

export function natField(o: Obj, field: string): bigint {
  const v = o[field];
  if (v === undefined || v === null) throw missing(field);
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  throw invalid(field, 'a non-negative integer');
}

// --------------------------------------------------------------------------- effective principals

export type EffectivePrincipal = { kind: 'none' } | { kind: 'subnet'; id: Principal } | { kind: 'canister'; id: Principal };

/** `RawEffectivePrincipal`: "None" | {"SubnetId": b64} | {"CanisterId": b64}. */
export function effectivePrincipal(v: unknown): EffectivePrincipal {
  if (v === undefined || v === null || v === 'None') return { kind: 'none' };
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Obj;
    if ('SubnetId' in o) return { kind: 'subnet', id: Principal.fromUint8Array(base64Bytes(o.SubnetId, 'effective_principal.SubnetId')) };
    if ('CanisterId' in o) return { kind: 'canister', id: Principal.fromUint8Array(base64Bytes(o.CanisterId, 'effective_principal.CanisterId')) };
  }
  throw invalid('effective_principal', '"None", {"SubnetId": …} or {"CanisterId": …}');
}

export function effectivePrincipalJson(p: EffectivePrincipal): unknown {
  if (p.kind === 'none') return 'None';
  return p.kind === 'subnet' ? { SubnetId: b64(p.id.toUint8Array()) } : { CanisterId: b64(p.id.toUint8Array()) };
}

// --------------------------------------------------------------------------- rejects

/** Reject code names of PocketIC's `RejectCode` (interface spec, "Reject codes"). */
const REJECT_CODE_NAMES: Record<number, string> = {
  [RejectCode.SYS_FATAL]: 'SysFatal',
  [RejectCode.SYS_TRANSIENT]: 'SysTransient',
  [RejectCode.DESTINATION_INVALID]: 'DestinationInvalid',
  [RejectCode.CANISTER_REJECT]: 'CanisterReject',
  [RejectCode.CANISTER_ERROR]: 'CanisterError',
  [RejectCode.SYS_UNKNOWN]: 'SysUnknown',
};

/**
 * PocketIC's `ErrorCode` variant names (packages/pocket-ic/src/lib.rs) by their IC0xxx code: the
 * names of ic-error-types' `ErrorCode`, which ../ic/reject-codes.ts holds.
 */
const ERROR_CODE_NAMES = new Map<string, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/**
 * When the engine gives no error code (an explicit reject from canister code has none), the one
 * the IC attaches for that reject code: IC0406 for a canister's own reject, as PocketIC reports it.
 */
const DEFAULT_ERROR_CODE: Record<number, ErrorCode> = {
  [RejectCode.SYS_FATAL]: ErrorCode.SubnetOversubscribed,
  [RejectCode.SYS_TRANSIENT]: ErrorCode.CanisterQueueFull,
  [RejectCode.DESTINATION_INVALID]: ErrorCode.CanisterNotFound,
  [RejectCode.CANISTER_REJECT]: ErrorCode.CanisterRejectedMessage,
  [RejectCode.CANISTER_ERROR]: ErrorCode.CanisterTrapped,
  [RejectCode.SYS_UNKNOWN]: ErrorCode.CanisterTrapped,
};

export interface RejectJson {
  reject_code: string;
  reject_message: string;
  error_code: string;
  certified: boolean;
}

/** PocketIC's `RejectResponse` for an engine reject (`errorCode` like "IC0503"). */
export function rejectJson(code: number, message: string, errorCode: string | undefined, certified: boolean): RejectJson {
  const ic = errorCode && /^IC\d{4}$/.test(errorCode) ? errorCode : (DEFAULT_ERROR_CODE[code] ?? ErrorCode.CanisterTrapped);
  return {
    reject_code: REJECT_CODE_NAMES[code] ?? 'SysUnknown',
    reject_message: message,
    error_code: ERROR_CODE_NAMES.get(ic) ?? ic,
    certified,
  };
}
