// The working group's site: Astro + Starlight (sidebar, pagefind search, table of contents, dark
// mode) over the content collections in ./content (see src/content.config.ts and src/README.md).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
import mdx from '@astrojs/mdx';
import motokoGrammar from './src/grammars/motoko.tmLanguage.json' with { type: 'json' };
import candidGrammar from './src/grammars/candid.tmLanguage.json' with { type: 'json' };
import { writePerFileCsp } from './scripts/lib/per-file-csp.ts';
import { demoWasm } from './src/integrations/demo-wasm.ts';

// The absolute origin used in the sitemap, the RSS feed and the calendar. The site is served from
// an asset canister; override with SITE_URL when it is deployed elsewhere.
const site = process.env.SITE_URL ?? 'https://scalability-wg.icp0.io';

// WG_CONTENT_DIR builds another content folder (tests build broken fixtures); give such builds
// their own cache so they never share content-layer state with the real site.
const fixtureBuild = process.env.WG_CONTENT_DIR !== undefined;

export default defineConfig({
  site,
  ...(fixtureBuild ? { cacheDir: `${process.env.WG_CONTENT_DIR}/.astro-cache` } : {}),
  trailingSlash: 'always',
  // Starlight turns on prefetch-all; pages without a demo should ship only search, theme and
  // table-of-contents script (tests/unit/site-js-budget.test.ts holds them to 10 KB gzipped).
  prefetch: false,
  build: { format: 'directory' },
  // Keep the dev toolbar's script out of screenshots and console checks.
  devToolbar: { enabled: false },
  vite: {
    // The demo canisters' Wasm, emitted for the page backend (src/lib/ic/page-replica/).
    plugins: [demoWasm({ root: fileURLToPath(new URL('.', import.meta.url)) })],
    // The page replica's worker is an ES module (it shares chunks with nothing, but imports lazily).
    worker: { format: 'es' },
  },
  integrations: [
    starlight({
      title: 'Scalability & Performance WG',
      description: 'Sessions, slides and design patterns from the Internet Computer Scalability & Performance working group.',
      logo: { src: './src/assets/logo.svg', replacesTitle: false },
      favicon: '/favicon.svg',
      customCss: ['./src/styles/theme.css'],
      head: [
        {
          tag: 'link',
          attrs: { rel: 'alternate', type: 'application/rss+xml', title: 'Sessions (RSS)', href: '/rss.xml' },
        },
        {
          tag: 'link',
          attrs: { rel: 'alternate', type: 'text/calendar', title: 'Sessions (calendar)', href: '/sessions.ics' },
        },
      ],
      // Our own pages (src/pages) pass a sidebar built from the content collections; this one
      // only serves Starlight's own docs route, which we do not use for content.
      sidebar: [{ label: 'Home', link: '/' }],
      tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 3 },
      pagination: false,
      disable404Route: true,
      lastUpdated: false,
      markdown: { processedDirs: ['./content/sessions/', './content/patterns/', './content/reference/'] },
      expressiveCode: {
        themes: ['github-light', 'github-dark-dimmed'],
        shiki: { langs: [motokoGrammar, candidGrammar] },
        styleOverrides: { borderRadius: '0.5rem', codeFontSize: '0.875rem' },
      },
      components: {
        Footer: './src/components/SiteFooter.astro',
        Search: './src/components/Search.astro',
      },
    }),
    mdx(),
    // Last: every page and SVG gets a Content-Security-Policy allowing exactly its own inline code.
    {
      name: 'per-file-csp',
      hooks: {
        'astro:build:done': ({ dir, logger }) => {
          const count = writePerFileCsp(fileURLToPath(dir));
          logger.info(`per-document Content-Security-Policy for ${count} files in .ic-assets.json5`);
        },
      },
    },
  ],
});
