// The replica is a package (replica/package.json `exports`): code outside replica/ imports its
// entry points, never its files, and the entries a browser bundles (the site's page worker) reach
// no Node module.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runtimeSpecifiers, specifiers } from './imports.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
/**
 * Files that measure the engine's internals themselves and so import them: the metering benchmark
 * times the instrumentation pass on its own, which no public entry offers.
 */
const INTERNALS_ALLOWED = new Set(['scripts/bench-metering.ts']);
const manifest = JSON.parse(readFileSync(join(root, 'replica/package.json'), 'utf8')) as { exports: Record<string, string> };

describe('the replica package', () => {
  it('is imported by its entry points from outside replica/, never by its files', () => {
    const deep: string[] = [];
    for (const file of tracked) {
      if (file.startsWith('replica/') || INTERNALS_ALLOWED.has(file) || !/\.(ts|mts|mjs|js|astro)$/.test(file)) continue;
      for (const spec of specifiers(readFileSync(join(root, file), 'utf8'))) {
        const target = spec.startsWith('.') ? relative(root, resolve(root, dirname(file), spec)) : spec;
        if (target.startsWith('replica/src/') || target.startsWith('@scaling-wg/replica/src')) deep.push(`${file}: ${spec}`);
      }
    }
    expect(deep).toEqual([]);
  });

  it('declares what it imports: src/ from its dependencies, tests and fixtures from either kind', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'replica/package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const runtime = new Set(Object.keys(pkg.dependencies ?? {}));
    const any = new Set([...runtime, ...Object.keys(pkg.devDependencies ?? {})]);
    const packageOf = (spec: string) =>
      spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/');
    const undeclared: string[] = [];
    for (const file of tracked) {
      // Fixture sources under test/ are canister programs compiled by their own toolchains, not run by Node.
      if (!file.startsWith('replica/') || !/\.(ts|mts|mjs|js)$/.test(file) || /fixtures\/[^/]+\/src\//.test(file)) continue;
      const declared = file.startsWith('replica/src/') ? runtime : any;
      // Comment lines may quote an import (`names as imported from "ic0"`); only code counts.
      const code = readFileSync(join(root, file), 'utf8').replace(/^\s*(?:\/\/|\/?\*).*$/gm, '');
      for (const spec of specifiers(code)) {
        if (spec.startsWith('.') || spec.startsWith('node:') || spec.includes('$') || spec.startsWith('@scaling-wg/replica')) continue;
        if (!declared.has(packageOf(spec))) undeclared.push(`${file}: ${spec}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('exports files that exist', () => {
    for (const [entry, target] of Object.entries(manifest.exports)) expect(existsSync(join(root, 'replica', target)), entry).toBe(true);
  });

  it('keeps the entries a browser bundles free of Node modules, however deep the import', () => {
    const portable = ['.', './http', './ic', './certification', './store'];
    for (const entry of portable) {
      const seen = new Set<string>();
      const queue = [join(root, 'replica', manifest.exports[entry])];
      const nodeImports: string[] = [];
      while (queue.length > 0) {
        const file = queue.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        for (const spec of runtimeSpecifiers(readFileSync(file, 'utf8'))) {
          if (spec.startsWith('node:') || ['fs', 'path', 'http', 'crypto', 'worker_threads', 'child_process'].includes(spec))
            nodeImports.push(`${relative(root, file)}: ${spec}`);
          else if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
        }
      }
      expect(nodeImports, entry).toEqual([]);
      expect(seen.size, entry).toBeGreaterThan(0);
    }
  });

  it('changes nothing process-wide when its entries are imported: no signal handlers, no globals', async () => {
    const events = ['SIGINT', 'SIGTERM', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'] as const;
    const listeners = () => events.map((event) => process.listenerCount(event));
    const before = { listeners: listeners(), globals: Object.getOwnPropertyNames(globalThis).sort(), crypto: globalThis.crypto };
    // ./network reaches the Node edge: http/server.ts, node-crypto.ts, the BLS worker, the disk store.
    for (const entry of Object.keys(manifest.exports)) if (entry !== './package.json') await import(`@scaling-wg/replica${entry.slice(1)}`);
    expect(listeners()).toEqual(before.listeners);
    expect(Object.getOwnPropertyNames(globalThis).sort()).toEqual(before.globals);
    expect(globalThis.crypto).toBe(before.crypto);
  });
});
