// One place that loads every collection, checks the cross-file rules once per build, and hands
// pages the derived views. Pages stay thin: they ask this module, never getCollection directly.
import { getCollection } from 'astro:content';
import { assertContent } from './content-checks.ts';
import { byDate } from './sessions.ts';

async function load() {
  const [sessions, slides, patterns, glossary] = await Promise.all([
    getCollection('sessions'),
    getCollection('slides'),
    getCollection('patterns'),
    getCollection('glossary'),
  ]);
  assertContent({ sessions, slides, patterns, glossary });
  return {
    sessions: byDate(sessions),
    slides,
    patterns: [...patterns].sort((a, b) => a.data.title.localeCompare(b.data.title)),
    glossary: [...glossary].sort((a, b) => a.data.term.localeCompare(b.data.term)),
  };
}

let cached: ReturnType<typeof load> | undefined;
/**
 * All content, checked. Memoised in a build, where every page shares one load; not in `astro
 * dev`, where the writers' edits must show on the next request.
 */
export function siteData() {
  if (import.meta.env.DEV) return load();
  cached ??= load();
  return cached;
}
export type SiteData = Awaited<ReturnType<typeof load>>;
export type SessionEntry = SiteData['sessions'][number];
export type PatternEntry = SiteData['patterns'][number];
