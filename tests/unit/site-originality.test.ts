// The site's text is our own: no run of nine words in a row may come from the working group's
// forum thread (a short phrase in quotation marks is fine; nine words are a sentence). Links
// count as words too: a long link copied from a post is a copied run, so materials name their
// documents by id (src/lib/schemas.ts builds the links). Also the
// size floors the content guide sets: session notes of at least 400 words, decks of 6+ slides.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDeck } from '../../src/lib/deck.ts';
import { contentDir, loadContent } from './site-content-fixtures.ts';

const RUN = 9;

/**
 * What the copy check compares: lower-case runs of letters and digits, links included, so that
 * neither formatting, punctuation nor a link's slashes can hide a copy.
 */
function tokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** Lower-case words of prose without links, markup or punctuation: what the size floors count. */
function words(text: string): string[] {
  return text
    .replace(/\]\([^)]*\)/g, '] ')
    .replace(/https?:\/\/\S+/g, ' ')
    .toLowerCase()
    .replace(/[’']/g, '')
    .split(/[^a-z0-9.@_-]+/)
    .map((w) => w.replace(/^[.\-_]+|[.\-_]+$/g, ''))
    .filter(Boolean);
}

function runs(list: string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + RUN <= list.length; i++) out.add(list.slice(i, i + RUN).join(' '));
  return out;
}

const thread = readFileSync(join(import.meta.dirname, '../fixtures/wg-forum-thread-14265.txt'), 'utf8')
  // Post headers (author | date | #n) are metadata, not prose.
  .replace(/^\S+ \| \d{4}-\d{2}-\d{2} [\d:]+ UTC \| #\d+$/gm, ' ');
const threadRuns = runs(tokens(thread));

const files = ['sessions', 'slides', 'patterns', 'reference'].flatMap((dir) =>
  readdirSync(join(contentDir, dir))
    .filter((f) => /\.mdx?$/.test(f))
    .map((f) => `${dir}/${f}`),
);

describe('our own words', () => {
  test.each(files)('content/%s copies no nine-word run from the forum thread', (file) => {
    const text = readFileSync(join(contentDir, file), 'utf8');
    const copied = [...runs(tokens(text))].filter((r) => threadRuns.has(r));
    expect(copied).toEqual([]);
  });

  test('the check finds a copied sentence even with different punctuation and case', () => {
    // A line of the thread with different case and punctuation (built here, so that this file
    // does not itself hold a copied sentence).
    const line = thread.split('\n').find((l) => (l.match(/[a-z]+/gi) ?? []).length >= 12) ?? '';
    const altered = line.toUpperCase().replace(/ /g, ' , ');
    expect([...runs(tokens(altered))].some((r) => threadRuns.has(r))).toBe(true);
  });

  test('the check finds a link copied from a post', () => {
    const link = thread.match(/https:\/\/docs\.google\.com\/document\/\S+/)?.[0] ?? '';
    expect([...runs(tokens(`see [the notes](${link})`))].some((r) => threadRuns.has(r))).toBe(true);
  });
});

describe('size floors', () => {
  const { sessions, slides } = loadContent();
  test.each(sessions.map((s) => [s.id, s] as const))('%s has at least 400 words of notes', (_, s) => {
    expect(words(s.body).length).toBeGreaterThanOrEqual(400);
  });
  test.each(slides.map((d) => [d.id, d] as const))('deck %s has at least 6 slides', (_, d) => {
    expect(parseDeck(d.body, d.filePath).length).toBeGreaterThanOrEqual(6);
  });
});
