// Routing of calls to the management canister (https-interface.md#http-effective-canister-id):
// the effective canister id must be the canister the call is about, which only the Candid
// argument tells.

import { IDL } from '@dfinity/candid';
import { managementMethods } from '../management/ic-idl.ts';

/**
 * The canister a management call is about (https-interface.md#http-effective-canister-id):
 * `target_canister` for install_chunked_code, else a `canister_id` field. Undefined when the
 * argument does not decode or names none; the management canister then rejects the call itself.
 */
export function canisterNamedInManagementArg(method: string, arg: Uint8Array): { id: Uint8Array; field: string } | undefined {
  const types = (managementMethods as Record<string, readonly [IDL.Type[], IDL.Type[]]>)[method];
  if (!types) return undefined;
  let decoded: unknown[];
  try {
    decoded = IDL.decode([...types[0]], arg);
  } catch {
    return undefined;
  }
  const record = decoded[0] as Record<string, unknown> | undefined;
  const field = method === 'install_chunked_code' ? 'target_canister' : 'canister_id';
  const value = record?.[field] as { toUint8Array?: () => Uint8Array } | undefined;
  return value?.toUint8Array ? { id: value.toUint8Array(), field } : undefined;
}
