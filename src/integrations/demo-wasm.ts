// The demo canisters' Wasm as static files of the site, for the page backend (the replica that
// runs in the reader's tab, src/lib/ic/page-replica/). A Vite plugin:
//   - `astro build` first makes sure the canisters are built (`npm run build:canisters`, cached by
//     source hash, so a clean clone's `npm run build` works and later builds cost a second), then
//     emits each deployed canister's module gzipped under a content-hashed name,
//     /_demos/<name>.<first 12 hex of its sha256>.wasm.gz, cacheable forever;
//   - `astro dev` serves the build's files where they are (/@fs/…), since npm start built them.
// Both expose the list as the module `virtual:wg-demo-wasm` (see src/lib/ic/page-replica/wasm.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { canisters } from '../../canisters/canisters.ts';

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
        if (command === 'build') {
          const gz = entry.gzipped ? file : gzipSync(file, { level: 9 });
          const hash = createHash('sha256').update(gz).digest('hex').slice(0, 12);
          const fileName = `_demos/${spec.name}.${hash}.wasm.gz`;
          this.emitFile({ type: 'asset', fileName, source: gz });
          url = `/${fileName}`;
        } else {
          url = `/@fs${path}`;
        }
        entries.push(JSON.stringify({ name: spec.name, demo: spec.demo, url, sha256, bytes: raw.length }));
      }
      return `export default [${entries.join(',\n')}];\n`;
    },
  };
}
