// Content collections (schemas in lib/schemas.ts, shared ids in lib/contract.ts). Sessions, slides, patterns and the glossary live in the
// top-level content/ folder, owned by the content writers; Starlight's own `docs` collection is
// required by Starlight but our pages are built from the collections below (src/pages).
// WG_CONTENT_DIR points the build at another content folder (tests build broken fixtures).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineCollection } from 'astro:content';
import { file, glob } from 'astro/loaders';
import { docsLoader } from '@astrojs/starlight/loaders';
import { docsSchema } from '@astrojs/starlight/schema';
import { glossarySchema, patternSchema, sessionSchema, slidesSchema } from './lib/schemas.ts';

const contentDir = resolve(process.env.WG_CONTENT_DIR ?? 'content');

/** The id is the file name without its extension: it is also the URL (/sessions/<id>/). */
const fileStem = ({ entry }: { entry: string }) => entry.replace(/\.(mdx|md)$/, '');

const glossaryFile = resolve(contentDir, 'glossary.yaml');

export const collections = {
  docs: defineCollection({ loader: docsLoader(), schema: docsSchema() }),
  sessions: defineCollection({
    loader: glob({ pattern: '*.mdx', base: resolve(contentDir, 'sessions'), generateId: fileStem }),
    schema: sessionSchema,
  }),
  slides: defineCollection({
    loader: glob({ pattern: '*.md', base: resolve(contentDir, 'slides'), generateId: fileStem }),
    schema: slidesSchema,
  }),
  patterns: defineCollection({
    loader: glob({ pattern: '*.mdx', base: resolve(contentDir, 'patterns'), generateId: fileStem }),
    schema: patternSchema,
  }),
  glossary: defineCollection({
    // The glossary is optional while it is being written: without the file the page says so.
    loader: existsSync(glossaryFile) ? file(glossaryFile) : { name: 'no-glossary', load: async () => {} },
    schema: glossarySchema,
  }),
};
