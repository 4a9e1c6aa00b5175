// `npm test`: everything CI runs, in order, stopping at the first failure.
// 1. `npm run check` (scripts/check.ts): types (astro check: the site and every .ts file), ESLint, formatting.
// 2. Chromium (Debian's package), before anything needs it (vitest runs the engine in a page too):
//    installed with apt when we are root, otherwise we say exactly what to run. Never
//    `npx playwright install` (no downloads here).
// 3. vitest: unit tests, the replica's conformance suite, canister integration tests.
// 4. the site build (astro + pagefind), then the vitest tests of what it built (*.dist.test.ts).
// 5. Playwright end-to-end tests in headless Chromium: the built site, then the live demos
//    against the whole stack (`npm start --fresh --preview` on its own ports).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function run(title: string, command: string, args: string[]): void {
  const started = Date.now();
  console.log(`\n▶ ${title}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: process.env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`✖ ${title} failed after ${seconds} s (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  console.log(`✔ ${title} (${seconds} s)`);
}

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() === 0) {
    run('install Chromium (apt)', 'sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium']);
    return;
  }
  console.error(
    `Chromium is missing (${CHROMIUM}). Install Debian's package, then run npm test again:\n` +
      '  sudo apt-get update && sudo apt-get install -y chromium\n' +
      'or point CHROMIUM_PATH at an existing Chromium binary.',
  );
  process.exit(1);
}

const only = process.argv[2];
if (!only || only === 'check') run('types and formatting', 'npm', ['run', 'check']);
if (!only || only === 'unit') {
  ensureChromium();
  run('unit, replica and canister tests', 'vitest', ['run']);
}
if (!only || only === 'e2e') {
  ensureChromium();
  run('site build', 'npm', ['run', 'build']);
  run('the built site through the gateway', 'vitest', ['run', '-c', 'vitest.dist.config.ts']);
  run('browser tests', 'playwright', ['test']);
}
if (!only || only === 'e2e' || only === 'demos') {
  ensureChromium();
  // After the site's run: Playwright empties test-results/ when a run starts.
  run('live demos on the local stack', 'npm', ['run', 'test:demos']);
}
