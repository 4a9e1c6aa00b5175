// Routing of calls to the management canister (https-interface.md#http-effective-canister-id):
// the effective canister id must be the canister the call is about, which only the Candid
// argument tells.

// The management canister decodes it too (the scheduler holds its messages for a canister whose
// execution is paused), so it lives with the management canister's interface.
export { canisterNamedInManagementArg } from '../management/ic-idl.ts';
