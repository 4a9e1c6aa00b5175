// Real canister modules for the metering tests and the bench: the Motoko fixture in both
// persistence modes (scripts/lib/motoko.ts) and an Azle canister built with the
// `azle` package, cached in .cache/azle/ by a hash of its source and Azle's version.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileMotoko, type PersistenceMode } from '../../../scripts/lib/motoko.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

export const WORK_MO = join(here, 'work.mo');

export async function motokoWork(mode: PersistenceMode): Promise<{ wasm: Uint8Array; candid: string }> {
  const { wasm, candid } = await compileMotoko({ entry: WORK_MO, mode });
  return { wasm, candid };
}

const AZLE_VERSION = '0.33.0';
/** Where Azle is installed, shared with the engine's Azle fixture (replica/test/fixtures/azle.ts). */
const azleHome = join(repoRoot, '.cache/azle');

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  // Node 24 first on PATH: Azle's build runs its TypeScript with whatever `node` it finds.
  const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  const result = spawnSync(command, args, { cwd, env: { ...process.env, PATH, ...env }, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd} (exit ${result.status}):\n` + `${(result.stderr || result.stdout || String(result.error)).slice(-3000)}`,
    );
  }
}

/**
 * Builds (or reads from cache) the Azle fixture canister. Azle stays out of package.json (its
 * install script wires a dfx extension); like the engine's fixture we install it with
 * --ignore-scripts into .cache/azle on first use. A build takes ~6 s.
 */
export function azleWork(): Uint8Array {
  const source = readFileSync(join(here, 'azle/src/index.ts'));
  const key = createHash('sha256').update(source).update(AZLE_VERSION).digest('hex').slice(0, 16);
  const cached = join(azleHome, `metering-${key}.wasm`);
  if (existsSync(cached)) return new Uint8Array(readFileSync(cached));
  if (!existsSync(join(azleHome, 'node_modules/.bin/azle'))) {
    mkdirSync(azleHome, { recursive: true });
    // Checked again under the lock (another worker may be installing it right now), and
    // installed beside it then moved in, so that nobody sees a half-installed package.
    const marker = join(azleHome, 'node_modules/.bin/azle');
    const staging = `${azleHome}.staging-${process.pid}`;
    run(
      'flock',
      [
        '/tmp/npm.lock',
        'sh',
        '-c',
        `if [ -e "${marker}" ]; then exit 0; fi; ` +
          [
            `rm -rf "${staging}" && mkdir -p "${staging}"`,
            `npm install --prefix "${staging}" --ignore-scripts --no-audit --no-fund azle@${AZLE_VERSION}`,
            `mv "${staging}/package.json" "${staging}/package-lock.json" "${azleHome}/"`,
            `mv "${staging}/node_modules" "${azleHome}/node_modules"`,
            `rm -rf "${staging}"`,
          ].join(' && '),
      ],
      repoRoot,
    );
  }
  // Azle builds from a dfx.json entry in the working directory and resolves `azle` from there.
  // One directory per process: two test workers may build at the same time.
  const buildDir = join(azleHome, `metering-build-${key}-${process.pid}`);
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(join(buildDir, 'src'), { recursive: true });
  copyFileSync(join(here, 'azle/src/index.ts'), join(buildDir, 'src/index.ts'));
  writeFileSync(join(buildDir, 'dfx.json'), JSON.stringify({ canisters: { work: { type: 'azle', main: 'src/index.ts' } } }));
  symlinkSync(join(azleHome, 'node_modules'), join(buildDir, 'node_modules'));
  run(join(buildDir, 'node_modules/.bin/azle'), ['build', 'work'], buildDir, { CANISTER_CANDID_PATH: join(buildDir, 'work.did') });
  // Publish atomically so a concurrent reader never sees half a module.
  copyFileSync(join(buildDir, '.azle/work/work.wasm'), `${cached}.${process.pid}`);
  renameSync(`${cached}.${process.pid}`, cached);
  rmSync(buildDir, { recursive: true, force: true });
  return new Uint8Array(readFileSync(cached));
}
