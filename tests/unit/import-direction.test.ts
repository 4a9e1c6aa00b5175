// Which way imports go between the repository's top folders. The site (src/) is what ships: it may
// use what canisters/ and the replica's package entries offer, but never reach into scripts/, the
// orchestration that runs on a developer's machine (npm start, deploys, benchmarks). Code both
// need lives where both can import it (src/lib/ic/demo-deploy.ts, src/lib/). Followed through every
// relative import, type-only ones included, so a shared file that itself reaches into scripts/
// counts too.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { specifiers } from './imports.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
const CODE = /\.(ts|mts|mjs|js|astro)$/;

/** The file a relative specifier names (Vite's `?worker`-style suffixes dropped), or undefined outside the tree. */
function resolveRelative(from: string, spec: string): string | undefined {
  const path = resolve(dirname(from), spec.replace(/\?.*$/, ''));
  for (const candidate of [path, `${path}.ts`, join(path, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every file reachable from `start` through relative imports, with the chain that reached it. */
function reachable(start: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[start, [relative(root, start)]]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (!CODE.test(file) || !existsSync(file)) continue;
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      // A path that names scripts/ counts even when the file is gone: the import itself is the fault.
      const target = resolveRelative(file, spec) ?? resolve(dirname(file), spec.replace(/\?.*$/, ''));
      if (chains.has(target)) continue;
      chains.set(target, [...chains.get(file)!, relative(root, target)]);
      // The step into scripts/ is the fault; what scripts/ imports further is its own business.
      if (!relative(root, target).startsWith('scripts/')) queue.push(target);
    }
  }
  return chains;
}

describe('import direction', () => {
  it('site code under src/ never imports from scripts/, directly or through a shared file', () => {
    const sources = tracked.filter((file) => file.startsWith('src/') && CODE.test(file) && !/\.test\.ts$/.test(file));
    expect(sources.length).toBeGreaterThan(20);
    const upward = new Set<string>();
    for (const file of sources) {
      for (const [target, chain] of reachable(join(root, file))) {
        if (relative(root, target).startsWith('scripts/')) upward.add(chain.join(' → '));
      }
    }
    expect([...upward]).toEqual([]);
  });
});
