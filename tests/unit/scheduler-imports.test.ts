// The scheduler's files import each other in one direction only (replica/src/scheduler/README.md,
// "The files"): scheduler.ts wires the parts and no part imports it; a part reaches the others
// through the host interface it declares, or imports one that lies below it. Type-only imports
// count: a cycle of them is as hard to read as any other.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { specifiers } from './imports.ts';

const folder = resolve(dirname(fileURLToPath(import.meta.url)), '../../replica/src/scheduler');
const files = readdirSync(folder).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

/** Each file's imports of other files in the folder. */
const edges = new Map(
  files.map((f) => [
    f,
    specifiers(readFileSync(join(folder, f), 'utf8'))
      .filter((spec) => spec.startsWith('./'))
      .map((spec) => spec.slice(2))
      .filter((target) => files.includes(target)),
  ]),
);

/** A chain of imports that comes back to where it started, or undefined. */
function findCycle(): string[] | undefined {
  const done = new Set<string>();
  const visit = (file: string, path: string[]): string[] | undefined => {
    const at = path.indexOf(file);
    if (at >= 0) return [...path.slice(at), file];
    if (done.has(file)) return undefined;
    for (const next of edges.get(file) ?? []) {
      const cycle = visit(next, [...path, file]);
      if (cycle) return cycle;
    }
    done.add(file);
    return undefined;
  };
  for (const f of files) {
    const cycle = visit(f, []);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('replica/src/scheduler imports', () => {
  it('no file of the folder imports scheduler.ts', () => {
    expect([...edges].filter(([, targets]) => targets.includes('scheduler.ts')).map(([f]) => f)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(findCycle()).toBeUndefined();
  });
});
