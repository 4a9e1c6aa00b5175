// The demo canisters' Wasm as static files of the site, for the page backend (the replica that
// runs in the reader's tab, src/lib/ic/page-replica/). A Vite plugin:
//   - `astro build` first makes sure the canisters are built (`npm run build:canisters`, cached by
//     source hash, so a clean clone's `npm run build` works and later builds cost a second), then
//     emits each deployed canister's module gzipped under a content-hashed name,
//     /_demos/<name>.<first 12 hex of its sha256>.wasm.gz, cacheable forever;
//     and beside it the module as the page replica's engine prepares it (metering, dirty-page
//     marking: replica/src/execution/module.ts prepareModule, in a prepared-file.ts file), named
//     by the engine version and module cache key it was prepared under, so a cold visit compiles
//     those bytes instead of running the passes in the tab. The engine version is a hash of the
//     replica's sources (any change to the engine changes it); the worker keys its IndexedDB
//     cache of prepared modules by the same version;
//   - `astro dev` serves the build's files where they are (/@fs/…), since npm start built them,
//     and prepares nothing ahead (the engine may change under it).
// Both expose the list as the module `virtual:wg-demo-wasm` (see src/lib/ic/page-replica/wasm.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { canisters } from '../../canisters/canisters.ts';
import { embeddedModules, encodePreparedModule, moduleCacheKey, prepareModule, resolveModuleOptions } from '@scaling-wg/replica';

/**
 * The page replica's engine version: a hash of every file of the replica's sources (and its
 * package.json, which pins the libraries it uses). Prepared modules are valid for one version.
 */
export function engineVersion(root: string): string {
  const hash = createHash('sha256');
  const base = join(root, 'replica');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]));
  for (const file of [join(base, 'package.json'), ...walk(join(base, 'src'))]) {
    hash.update(relative(base, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return `engine-${hash.digest('hex').slice(0, 16)}`;
}

/**
 * What the build emits for the page replica beside a module (raw Wasm): the prepared-module
 * file, under the key the worker looks it up by (`${engine} ${moduleCacheKey}`, default options
 * as the page replica uses them; a replica with other options looks up another key and prepares).
 */
export function preparedFile(engine: string, raw: Uint8Array): { key: string; moduleKey: string; file: Uint8Array } {
  const options = resolveModuleOptions({});
  const moduleKey = moduleCacheKey(createHash('sha256').update(raw).digest('hex'), options);
  // As module.ts compile() prepares it under that key.
  const prepared = prepareModule(raw, options.metering, options.dirtyPages !== false);
  const key = `${engine} ${moduleKey}`;
  return { key, moduleKey, file: encodePreparedModule(key, prepared) };
}

const VIRTUAL = 'virtual:wg-demo-wasm';
const RESOLVED = `\0${VIRTUAL}`;

interface ManifestEntry {
  name: string;
  wasmPath: string;
  gzipped: boolean;
}

export function demoWasm(options: { root: string }): Plugin {
  const root = resolve(options.root);
  const manifestPath = join(root, '.cache/canisters/manifest.json');
  let command: 'build' | 'serve' = 'serve';
  let ensured = false;

  const ensureBuilt = () => {
    if (ensured) return;
    ensured = true;
    // Builds of test fixtures (WG_CONTENT_DIR) use whatever modules exist; the real build makes sure.
    if (process.env.WG_CONTENT_DIR !== undefined) return;
    const result = spawnSync(process.execPath, [join(root, 'scripts/build-canisters.ts')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) {
      throw new Error(
        `the demo canisters did not build (npm run build:canisters exited ${result.status ?? result.signal}); the site's page backend needs their Wasm`,
      );
    }
  };

  const readManifest = (): ManifestEntry[] => {
    if (!existsSync(manifestPath)) return [];
    return JSON.parse(readFileSync(manifestPath, 'utf8')) as ManifestEntry[];
  };

  return {
    name: 'wg-demo-wasm',
    configResolved(config) {
      command = config.command;
    },
    resolveId(id) {
      return id === VIRTUAL ? RESOLVED : undefined;
    },
    load(id) {
      if (id !== RESOLVED) return undefined;
      if (command === 'build') ensureBuilt();
      const built = readManifest();
      const entries: string[] = [];
      let engine: string | undefined;
      for (const spec of canisters) {
        if (spec.createdBy) continue; // embedded in the canister that creates it
        const entry = built.find((b) => b.name === spec.name);
        if (!entry) continue;
        const path = resolve(root, entry.wasmPath);
        const file = readFileSync(path);
        // What the replica hashes and runs: the module after decompression.
        const raw = entry.gzipped ? gunzipSync(file) : file;
        const sha256 = createHash('sha256').update(raw).digest('hex');
        let url: string;
        let prepared: { url: string; sha256: string; key: string } | undefined;
        const embedded: Array<{ url: string; sha256: string; key: string }> = [];
        if (command === 'build') {
          const gz = entry.gzipped ? file : gzipSync(file, { level: 9 });
          const hash = createHash('sha256').update(gz).digest('hex').slice(0, 12);
          const fileName = `_demos/${spec.name}.${hash}.wasm.gz`;
          this.emitFile({ type: 'asset', fileName, source: gz });
          url = `/${fileName}`;
          engine ??= engineVersion(root);
          const version = engine;
          // The prepared form of a module, emitted as `_demos/<base>.<hash>.prepared.gz`.
          const emitPrepared = (base: string, module: Uint8Array) => {
            const { file: bytes, moduleKey } = preparedFile(version, module);
            const gzipped = gzipSync(bytes, { level: 9 });
            const name = `_demos/${base}.${createHash('sha256').update(gzipped).digest('hex').slice(0, 12)}.prepared.gz`;
            this.emitFile({ type: 'asset', fileName: name, source: gzipped });
            return { url: `/${name}`, sha256: createHash('sha256').update(bytes).digest('hex'), key: moduleKey };
          };
          prepared = emitPrepared(spec.name, raw);
          // The modules it installs in the canisters it creates (Motoko actor classes): prepared
          // too, or the reader's tab would instrument them itself while the demo starts.
          for (const [k, inner] of embeddedModules(raw).entries()) embedded.push(emitPrepared(`${spec.name}.embedded-${k}`, inner));
        } else {
          url = `/@fs${path}`;
        }
        entries.push(JSON.stringify({ name: spec.name, demo: spec.demo, url, sha256, bytes: raw.length, prepared, embedded }));
      }
      return `export const engine = ${JSON.stringify(engine)};\nexport default [${entries.join(',\n')}];\n`;
    },
  };
}
