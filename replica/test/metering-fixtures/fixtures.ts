// Real canister modules for the metering tests and the bench: the Motoko fixture in both
// persistence modes (scripts/lib/motoko.ts, contract C) and an Azle canister built with the
// `azle` package, cached in .cache/azle/ by a hash of its source and Azle's version.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Builds (or reads from cache) the Azle fixture canister. Takes ~6 s when not cached. */
export function azleWork(): Uint8Array {
  const source = readFileSync(join(here, 'azle/src/index.ts'));
  const azleVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules/azle/package.json'), 'utf8')) as { version: string }).version;
  const key = createHash('sha256').update(source).update(azleVersion).digest('hex').slice(0, 16);
  const cached = join(repoRoot, '.cache/azle', `${key}.wasm`);
  if (existsSync(cached)) return new Uint8Array(readFileSync(cached));
  // Azle builds from a dfx.json entry in the working directory; the build directory sits inside
  // the repository so that `import 'azle'` resolves to the workspace's node_modules.
  const buildDir = join(repoRoot, '.cache/azle-build', key);
  mkdirSync(join(buildDir, 'src'), { recursive: true });
  copyFileSync(join(here, 'azle/src/index.ts'), join(buildDir, 'src/index.ts'));
  writeFileSync(join(buildDir, 'dfx.json'), JSON.stringify({ canisters: { work: { type: 'azle', main: 'src/index.ts' } } }));
  const azleBin = join(repoRoot, 'node_modules/.bin/azle');
  const result = spawnSync(azleBin, ['build', 'work'], {
    cwd: buildDir,
    env: { ...process.env, CANISTER_CANDID_PATH: join(buildDir, 'work.did') },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const built = join(buildDir, '.azle/work/work.wasm');
  if (result.status !== 0 || !existsSync(built)) {
    throw new Error(
      `azle build of the metering fixture failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}\n` +
        'Check that `npm install` has installed the replica workspace dev dependency `azle`.',
    );
  }
  mkdirSync(dirname(cached), { recursive: true });
  copyFileSync(built, cached);
  return new Uint8Array(readFileSync(cached));
}
