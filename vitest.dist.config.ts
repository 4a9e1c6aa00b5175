import { configDefaults, defineConfig } from 'vitest/config';
import { shared } from './vitest.config.ts';

// The tests of the built site (dist/): `npm test` runs them right after `npm run build`.
export default defineConfig({
  test: {
    include: ['**/*.dist.test.ts'],
    exclude: [...configDefaults.exclude, '.cache/**', 'dist/**'],
    ...shared,
  },
});
