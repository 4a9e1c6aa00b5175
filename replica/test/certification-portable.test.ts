// certification/ and the transport-free parts of http/ must run in a browser (an in-page
// replica later): no Node built-ins, no Buffer, anywhere in their import graph.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const PORTABLE_ENTRIES = ['certification/certifier.ts', 'certification/certificate.ts', 'http/interface.ts', 'http/authentication.ts'];

function importGraph(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8');
  for (const [, spec] of text.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
    if (spec.startsWith('.')) importGraph(resolve(dirname(entry), spec), seen);
    else seen.add(spec);
  }
  return seen;
}

describe('portable modules', () => {
  it.each(PORTABLE_ENTRIES)('%s imports no Node built-ins and uses no Buffer', (entry) => {
    const graph = [...importGraph(resolve(src, entry))];
    expect(graph.filter((m) => m.startsWith('node:') || ['fs', 'path', 'crypto', 'http', 'zlib'].includes(m))).toEqual([]);
    for (const file of graph.filter((m) => m.endsWith('.ts'))) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/\bBuffer\./);
    }
  });
});
