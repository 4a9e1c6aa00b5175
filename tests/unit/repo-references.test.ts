// The convention in ARCHITECTURE.md ("Conventions"): code and documents point at nothing a
// newcomer cannot follow. The forms the matcher must find are assembled below from their parts,
// so that this file itself holds none of them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findOutsideReferences } from './repo-references.ts';

const root = new URL('../../', import.meta.url);
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);

describe('references a newcomer cannot follow', () => {
  it('are found in every form this test looks for', () => {
    const [issue, contract, hash] = ['issue', 'contract', '#'];
    const lines = [
      `// see ${issue} 7 for the plan`,
      `// ${issue.replace('i', 'I')}s 4 and 9 wanted this`,
      `// fixed in ${hash}12`,
      `// the programmatic API (${contract} D)`,
      `// ${contract.replace('c', 'C')} E is the interface`,
      `// see ../${'shared'}/${'DESIGN'}.md`,
      `// as ${'STYLE'}.md says`,
      `// written down in /${'tmp'}/${'team'}/notes.txt`,
      '// see replica/src/http/NO-SUCH-NOTE.md',
    ];
    const exists = (path: string) => path === 'replica/src/index.ts';
    expect(lines.filter((line) => findOutsideReferences(line, { exists }).length === 0)).toEqual([]);
  });

  it('let through what only looks like one', () => {
    const exists = (path: string) => path === 'replica/src/metering/INTEGRATION.md';
    const lines = [
      'color: #333;',
      'background: #1e1e1e;',
      `([RustPython ${'issue'} 4203](https://github.com/RustPython/RustPython/issues/4203))`,
      'see replica/src/metering/INTEGRATION.md and the README.md beside it',
      'a contract between caller and callee',
      'post 21 of the forum thread',
      "import { Replica } from '../../replica/src/index.ts';",
    ];
    expect(lines.flatMap((line) => findOutsideReferences(line, { exists }))).toEqual([]);
    expect(findOutsideReferences(`label: "interface-spec PR ${'#'}219"`, { prose: true })).toEqual([]);
  });

  it('appear nowhere in the repository', () => {
    // A document's paths may be relative to its folder or any folder above it ("src/index.ts" in
    // replica/README.md); a path may also be the start of a pattern ("tests/unit/site-*.test.ts").
    const existsFrom = (document: string) => (path: string) => {
      const folders = document
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/') + '/');
      return ['', ...folders].some((folder) => tracked.some((file) => file.startsWith(folder + path)));
    };
    const scanned = tracked.filter(
      (path) =>
        /\.(ts|mjs|js|astro|css|md|mdx|yaml|yml|json|mo|did|sh)$|(^|\/)run$/.test(path) &&
        // Verbatim outside text (the forum thread's own numbering) and generated bindings.
        !path.startsWith('tests/fixtures/') &&
        !path.startsWith('src/declarations/') &&
        path !== 'package-lock.json' &&
        // The matcher spells the forms out in its patterns (this test assembles them, so it is scanned).
        path !== 'tests/unit/repo-references.ts',
    );
    expect(scanned.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const path of scanned) {
      const lines = readFileSync(new URL(path, root), 'utf8').split('\n');
      lines.forEach((line, i) => {
        // Paths are checked in documents (code names its paths in imports, which tsc checks).
        const exists = path.endsWith('.md') && !path.startsWith('content/') ? existsFrom(path) : undefined;
        for (const hit of findOutsideReferences(line, { exists, prose: path.startsWith('content/') })) found.push(`${path}:${i + 1}: ${hit}`);
      });
    }
    expect(found).toEqual([]);
  });
});
