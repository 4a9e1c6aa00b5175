// What `npm run build` leaves in dist/: every kind of page, the feeds, the sitemap and
// search index, internal links that resolve, and the JavaScript budget of pages without a demo.
// Reads files only (no browser), so it lives with the e2e specs that run after the build.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';

const dist = join(import.meta.dirname, '../../dist');
const contentDir = join(import.meta.dirname, '../../content');

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : name.endsWith(ext) ? [path] : [];
  });
}
const html = (page: string) => readFileSync(page, 'utf8');
const urlOf = (page: string) => '/' + relative(dist, page).replace(/index\.html$/, '');

test('a page per session and per deck, the patterns, feeds, sitemap, 404 and search index', () => {
  const sessions = readdirSync(join(contentDir, 'sessions')).map((f) => f.replace(/\.mdx$/, ''));
  const patterns = readdirSync(join(contentDir, 'patterns')).map((f) => f.replace(/\.mdx$/, ''));
  expect(sessions).toHaveLength(20);
  for (const id of sessions) {
    expect(existsSync(join(dist, 'sessions', id, 'index.html')), `session ${id}`).toBe(true);
    expect(existsSync(join(dist, 'slides', id, 'index.html')), `deck ${id}`).toBe(true);
    expect(existsSync(join(dist, 'slides', id, 'notes', 'index.html')), `speaker script ${id}`).toBe(true);
  }
  for (const id of patterns) expect(existsSync(join(dist, 'patterns', id, 'index.html')), `pattern ${id}`).toBe(true);
  for (const page of ['index.html', 'sessions/index.html', 'patterns/index.html', 'glossary/index.html', 'about/index.html', '404.html']) {
    expect(existsSync(join(dist, page)), page).toBe(true);
  }
  const rss = readFileSync(join(dist, 'rss.xml'), 'utf8');
  expect(rss.match(/<item>/g)).toHaveLength(20);
  const ics = readFileSync(join(dist, 'sessions.ics'), 'utf8');
  expect(ics.match(/\r\nBEGIN:VEVENT\r\n/g)).toHaveLength(20);
  const sitemap = readFileSync(join(dist, 'sitemap-0.xml'), 'utf8');
  for (const id of sessions) expect(sitemap).toContain(`/sessions/${id}/</loc>`);
  expect(existsSync(join(dist, 'pagefind', 'pagefind.js'))).toBe(true);
  expect(files(join(dist, 'pagefind'), '.pf_meta').length + files(join(dist, 'pagefind'), '.pf_index').length).toBeGreaterThan(0);
  // Session notes are indexed; decks (which repeat them slide by slide) are not.
  expect(html(join(dist, 'sessions', sessions[0], 'index.html'))).toContain('data-pagefind-body');
  expect(html(join(dist, 'slides', sessions[0], 'index.html'))).not.toContain('data-pagefind-body');
});

test('every internal link, asset and #fragment in dist/ resolves', () => {
  const ids = new Map<string, Set<string>>();
  const idsOf = (file: string) => {
    if (!ids.has(file)) ids.set(file, new Set([...html(file).matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])));
    return ids.get(file)!;
  };
  const broken: string[] = [];
  for (const page of files(dist, '.html')) {
    for (const [, attr, fragment] of html(page).matchAll(/\s(?:href|src)="([^"#?]*)[^"#]*(?:#([^"]*))?"/g)) {
      if (/^(https?:|mailto:|data:|javascript:)/.test(attr) || attr.startsWith('//')) continue;
      let file: string | undefined = page;
      if (attr) {
        const target = attr.startsWith('/') ? join(dist, attr) : resolve(dirname(page), attr);
        file = [target, join(target, 'index.html')].find((c) => existsSync(c) && statSync(c).isFile());
        if (!file) {
          broken.push(`${urlOf(page)} → ${attr}`);
          continue;
        }
      }
      // Glossary terms, headings and slides are linked by id: the id must exist on the target.
      if (fragment && file.endsWith('.html') && !idsOf(file).has(decodeURIComponent(fragment))) {
        broken.push(`${urlOf(page)} → ${attr}#${fragment}`);
      }
    }
  }
  expect(broken).toEqual([]);
});

test('Motoko and Candid blocks on the built pages are highlighted by our grammars', () => {
  let blocks = 0;
  for (const page of files(dist, '.html')) {
    for (const [, lang, code] of html(page).matchAll(/<pre data-language="(motoko|candid)"><code>([\s\S]*?)<\/code><\/pre>/g)) {
      blocks++;
      // Unknown languages render in one colour; a grammar gives keywords, types and strings theirs.
      const colours = new Set([...code.matchAll(/style="--0:(#[0-9A-Fa-f]+)/g)].map((m) => m[1]));
      expect(colours.size, `${lang} block on ${urlOf(page)}`).toBeGreaterThanOrEqual(3);
    }
  }
  expect(blocks).toBeGreaterThan(0);
});

/**
 * Gzipped bytes of the JavaScript a page runs when it loads: inline scripts, module scripts and
 * everything they import statically. Dynamic import() chunks are listed separately: the search
 * component (src/components/Search.astro) fetches the Pagefind UI that way when search first
 * opens, and Pagefind fetches its engine and index when someone types a query.
 */
function pageScripts(page: string): { eager: number; lazy: Set<string>; files: string[] } {
  const text = html(page);
  let eager = 0;
  const seen = new Set<string>();
  const lazy = new Set<string>();
  for (const [, attrs, body] of text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    if (/type="application\/(ld\+)?json"/.test(attrs)) continue;
    const src = /src="([^"]+)"/.exec(attrs)?.[1];
    if (src) {
      const queue = [join(dist, src)];
      while (queue.length) {
        const file = queue.pop()!;
        if (seen.has(file)) continue;
        seen.add(file);
        const code = readFileSync(file, 'utf8');
        eager += gzipSync(code).length;
        for (const [, dep] of code.matchAll(/(?:^|[;}\s])import\s*(?:[\w*{}\s,$]+from\s*)?["'`](\.\/[^"'`]+)["'`]/g)) queue.push(resolve(dirname(file), dep));
        for (const [, dep] of code.matchAll(/import\(\s*["'`](\.\/[^"'`]+)["'`]\s*\)/g)) lazy.add(resolve(dirname(file), dep));
      }
    } else if (body.trim()) {
      eager += gzipSync(body).length;
    }
  }
  return { eager, lazy, files: [...seen].map((f) => relative(dist, f)) };
}

test('pages without a demo load at most 10 KB of gzipped JavaScript (search, theme, table of contents, deck keys)', () => {
  const budget = 10 * 1024;
  const report: { page: string; bytes: number }[] = [];
  for (const page of files(dist, '.html')) {
    // A page with a live demo (a DemoSlot carrying data-demo-slot) brings the demo's agent code.
    if (/data-demo-slot=/.test(html(page))) continue;
    report.push({ page: urlOf(page), bytes: pageScripts(page).eager });
  }
  report.sort((a, b) => b.bytes - a.bytes);
  const heaviest = report[0];
  console.log(`JS per page (gzipped): max ${heaviest.bytes} B on ${heaviest.page}, min ${report.at(-1)!.bytes} B; ${report.length} pages`);
  expect(report.length).toBeGreaterThan(60);
  expect(report.filter((r) => r.bytes > budget)).toEqual([]);
  // The search UI is a separate chunk behind a dynamic import, not part of the first load.
  const lazy = [...pageScripts(join(dist, 'index.html')).lazy];
  const searchUi = lazy.find((f) => /ui-core|pagefind/.test(f));
  expect(searchUi).toBeDefined();
  console.log(`Pagefind UI (dynamic import, loaded when search opens): ${gzipSync(readFileSync(searchUi!)).length} B gzipped`);
});
