// Every ```motoko compile block in content/ must build with the same compiler and
// build path as the canisters (scripts/lib/motoko.ts). The site must never show Motoko that does not compile.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileMotoko, MotokoCompileError } from '../../scripts/lib/motoko.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const contentDir = join(repoRoot, 'content');
// One folder per distinct snippet source: the build cache is keyed by a hash of the
// sources, so an unchanged snippet is compiled once and then served from the cache.
const snippetDir = join(repoRoot, '.cache', 'motoko-snippets');

interface MotokoSnippet {
  file: string; // path relative to the repository root
  line: number; // 1-based line of the opening fence
  source: string;
}

function contentFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return contentFiles(path);
    return /\.mdx?$/.test(entry.name) ? [path] : [];
  });
}

/**
 * Finds fenced code blocks whose info string is `motoko` with a `compile` flag
 * (CommonMark fences: ``` or ~~~, three or more, closed by a fence of the same
 * character at least as long).
 */
function extractCompileBlocks(file: string, text: string): MotokoSnippet[] {
  const lines = text.split(/\r?\n/);
  const blocks: MotokoSnippet[] = [];
  let open: { fence: string; line: number; compile: boolean; body: string[] } | undefined;
  lines.forEach((raw, index) => {
    const line = raw.trimStart();
    if (!open) {
      const start = /^(`{3,}|~{3,})\s*([^`\s]*)(.*)$/.exec(line);
      if (start) {
        const [, fence, lang, meta] = start;
        const compile = lang === 'motoko' && meta.split(/\s+/).includes('compile');
        open = { fence, line: index + 1, compile, body: [] };
      }
      return;
    }
    const close = new RegExp(`^${open.fence[0] === '`' ? '`' : '~'}{${open.fence.length},}\\s*$`);
    if (close.test(line)) {
      if (open.compile) blocks.push({ file, line: open.line, source: open.body.join('\n') + '\n' });
      open = undefined;
      return;
    }
    open.body.push(raw);
  });
  if (open?.compile) {
    throw new Error(`${file}:${open.line}: the \`\`\`motoko compile block is never closed`);
  }
  return blocks;
}

const snippets = contentFiles(contentDir)
  .sort()
  .flatMap((path) => extractCompileBlocks(relative(repoRoot, path), readFileSync(path, 'utf8')));

/** Puts each compiler diagnostic on the content file's own line (the snippet starts after the fence). */
function describeFailure(error: unknown, snippet: MotokoSnippet): string {
  if (error instanceof MotokoCompileError && error.diagnostics.length > 0) {
    return error.diagnostics.map((d) => `  ${snippet.file}:${snippet.line + d.line}:${d.column} ${d.code}: ${d.message}`).join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}

describe('Motoko snippets in content/', () => {
  it('finds the compilable blocks', () => {
    // The pattern pages carry compilable examples; finding none means the
    // extraction broke, not that everything compiles.
    expect(snippets.length).toBeGreaterThan(0);
  });

  it.each(snippets.map((s) => [`${s.file}:${s.line}`, s] as const))('%s compiles', async (_name, snippet) => {
    const where = `${snippet.file}:${snippet.line}`;
    const baseImport = /import\s+\w+\s+"mo:base\//.exec(snippet.source);
    if (baseImport) {
      throw new Error(
        `${where}: imports ${baseImport[0].split('"')[1]}…; the motoko npm compiler bundles the \`core\` ` +
          `library only, so use "mo:core/…" (names in node_modules/motoko/packages/latest/core.json)`,
      );
    }
    const hash = createHash('sha256').update(snippet.source).digest('hex').slice(0, 16);
    const dir = join(snippetDir, hash);
    mkdirSync(dir, { recursive: true });
    const entry = join(dir, 'main.mo');
    writeFileSync(entry, snippet.source);
    try {
      const { wasm } = await compileMotoko({ entry, mode: 'eop' });
      expect(wasm.byteLength, `${where}: compiled to an empty module`).toBeGreaterThan(0);
    } catch (error) {
      throw new Error(`${where}: this \`\`\`motoko compile block does not compile:\n${describeFailure(error, snippet)}`);
    }
  });
});
