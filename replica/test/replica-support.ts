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

export { canisterSettings } from '../src/index.ts';
