import { configDefaults, defineConfig } from 'vitest/config';
import { NODE_STACK_FLAGS } from '@scaling-wg/replica/stack';

// One vitest run covers every *.test.ts: library code, the replica's conformance suite and the
// canister integration tests. Browser tests are Playwright's (tests/e2e, *.spec.ts). Tests of
// what the site build leaves in dist/ are *.dist.test.ts and run after the build
// (vitest.dist.config.ts).
export const shared = {
  testTimeout: 120_000,
  hookTimeout: 300_000,
  // Two cores: Motoko builds and Wasm instances are memory-hungry.
  maxWorkers: 2,
  // Canister code gets the IC's Wasm stack (replica/src/stack.ts): the workers are child
  // processes, whose main thread has room for it.
  pool: 'forks' as const,
  execArgv: [...NODE_STACK_FLAGS],
};

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: [...configDefaults.exclude, '.cache/**', 'dist/**', '**/*.dist.test.ts'],
    ...shared,
  },
});
