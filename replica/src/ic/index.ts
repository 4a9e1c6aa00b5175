// The package's `@scaling-wg/replica/ic` entry: the IC's vocabulary (bytes, principals, reject and
// error codes) for code outside the package. Portable: no Node module.
export { utf8, fromUtf8, concatBytes, compareBytes, equalBytes, toHex, fromHex } from './bytes.ts';
export {
  ANONYMOUS_PRINCIPAL,
  MANAGEMENT_CANISTER_ID,
  MANAGEMENT_CANISTER_TEXT,
  principalToText,
  principalFromText,
  selfAuthenticatingPrincipal,
  canisterIdFromNumber,
} from './principal.ts';
export { RejectCode, ErrorCode, rejectCodeName, rejectCodeOf } from './reject-codes.ts';
export type { CallResponse } from './call-outcome.ts';
