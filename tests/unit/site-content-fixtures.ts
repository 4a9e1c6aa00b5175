// Loads content/ the way the site's collections do (frontmatter parsed as YAML, validated by the
// same zod schemas), so unit tests can run the site's pure helpers on the real content without an
// Astro build. Not a test file itself (vitest only runs *.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFrontmatter } from 'astro/markdown';
import type { z } from 'astro/zod';
import type { Entry } from '../../src/lib/content-checks.ts';
import { glossarySchema, patternSchema, sessionSchema, slidesSchema } from '../../src/lib/schemas.ts';

export const contentDir = join(import.meta.dirname, '../../content');

function loadDir<S extends z.ZodType>(dir: string, ext: string, schema: S): (Entry<z.infer<S>> & { body: string })[] {
  let files: string[];
  try {
    files = readdirSync(join(contentDir, dir)).filter((f) => f.endsWith(ext));
  } catch {
    return [];
  }
  return files.map((name) => {
    const filePath = `content/${dir}/${name}`;
    const { frontmatter, content } = parseFrontmatter(readFileSync(join(contentDir, dir, name), 'utf8'));
    const parsed = schema.safeParse(frontmatter);
    if (!parsed.success) throw new Error(`${filePath}: ${parsed.error.message}`);
    return { id: name.slice(0, -ext.length), filePath, data: parsed.data, body: content };
  });
}

/** content/glossary.yaml, a YAML list (Astro's file() loader reads it the same way). */
function loadGlossary() {
  let text: string;
  try {
    text = readFileSync(join(contentDir, 'glossary.yaml'), 'utf8');
  } catch {
    return [];
  }
  // Astro's YAML reader is exposed through its frontmatter parser.
  const items: unknown = parseFrontmatter(`---\n${text}\n---\n`).frontmatter;
  if (!Array.isArray(items)) throw new Error('content/glossary.yaml: expected a YAML list of terms');
  return items.map((item, i) => {
    const parsed = glossarySchema.safeParse(item);
    if (!parsed.success) throw new Error(`content/glossary.yaml entry ${i + 1}: ${parsed.error.message}`);
    return { id: parsed.data.id, filePath: 'content/glossary.yaml', data: parsed.data };
  });
}

export function loadContent() {
  return {
    sessions: loadDir('sessions', '.mdx', sessionSchema),
    slides: loadDir('slides', '.md', slidesSchema),
    patterns: loadDir('patterns', '.mdx', patternSchema),
    glossary: loadGlossary(),
  };
}
