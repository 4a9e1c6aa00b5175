import { defineConfig } from 'vitest/config';
import { NODE_STACK_SIZE_FLAG } from './replica/src/stack.ts';

// One vitest run covers library code, the replica's conformance suite and the
// canister integration tests. Browser tests are Playwright's (tests/e2e).
export default defineConfig({
  test: {
    include: [
      'tests/unit/**/*.test.ts',
      'replica/test/**/*.test.ts',
      'canisters/**/*.test.ts',
      'scripts/**/*.test.ts',
      'src/lib/ic/**/*.test.ts',
      'src/demos/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: Motoko builds and Wasm instances are memory-hungry.
    maxWorkers: 2,
    // Canister code gets the IC's Wasm stack (replica/src/stack.ts): the workers are child
    // processes, whose main thread has room for it.
    pool: 'forks',
    execArgv: [NODE_STACK_SIZE_FLAG],
  },
});
