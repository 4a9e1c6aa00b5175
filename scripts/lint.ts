// `npm run lint` (part of `npm run check`): ESLint with eslint.config.mjs, no warnings allowed.
// A checkout whose node_modules predates ESLint's arrival in package.json is told what to do
// instead of "eslint: not found".
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

let eslint: string;
try {
  eslint = fileURLToPath(import.meta.resolve('eslint/package.json')).replace(/package\.json$/, 'bin/eslint.js');
} catch {
  console.error('ESLint is not installed in this checkout (it is a devDependency in package.json): run `npm install`, then `npm run check` again.');
  process.exit(1);
}
const result = spawnSync(process.execPath, [eslint, '--max-warnings', '0', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
