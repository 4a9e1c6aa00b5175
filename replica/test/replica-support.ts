// Helpers for tests that drive a Replica in-process (src/index.ts).

import { CanisterRejectError } from '../src/index.ts';

/** The CanisterRejectError `p` rejects with; fails the test when `p` succeeds or throws something else. */
export async function rejection(p: Promise<unknown>): Promise<CanisterRejectError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CanisterRejectError) return e;
    throw e;
  }
  throw new Error('expected the call to be rejected, but it succeeded');
}

/** An `update_settings` / `create_canister` settings record (ic.did `canister_settings`): every field unset, then `over`. */
export function canisterSettings(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    controllers: [],
    compute_allocation: [],
    memory_allocation: [],
    freezing_threshold: [],
    reserved_cycles_limit: [],
    minimum_incoming_canister_call_cycles: [],
    log_visibility: [],
    log_memory_limit: [],
    snapshot_visibility: [],
    status_visibility: [],
    wasm_memory_limit: [],
    wasm_memory_threshold: [],
    environment_variables: [],
    ...over,
  };
}
