// ESLint runs for one class of bug that tsc does not catch: a promise nobody awaits or handles.
// A rejected promise that nothing handles ends a Node process (an automatic round of the replica
// did exactly that before these rules), and a test that forgets to await `expect(...).rejects`
// passes whatever happens. Type-aware (it asks tsc which expressions are promises), so it reads
// the same tsconfig.json as `tsc --noEmit`. Style is prettier's business, not ESLint's.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.cache/**',
      '.astro/**',
      'test-results*/**',
      // Compiled by Azle, not by us (excluded from tsconfig.json too).
      'replica/test/fixtures/azle/src/**',
      'replica/test/metering-fixtures/azle/src/**',
    ],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    // Generated bindings carry their generator's disable comments.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
