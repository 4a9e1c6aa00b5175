// Every meeting material the working group's forum thread gives (Google Docs, Slides and Drive
// folders, Zoom recordings, dashboards, Typeform surveys and forms) must appear in the `materials`
// of the session it belongs to, and every material that names a post must be found in that post.
// The thread is kept as a fixture (tests/fixtures/wg-forum-thread-14265.txt, the public topic
// https://forum.dfinity.org/t/14265 as exported) so the test reads the source, not our own list.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { contentDir, loadContent } from './site-content-fixtures.ts';

interface Post {
  number: number;
  author: string;
  date: string;
  text: string;
}

/** Splits the exported thread into posts: a header line `author | date time UTC | #n`, then the text. */
function parseThread(text: string): Post[] {
  const header = /^(\S+) \| (\d{4}-\d{2}-\d{2}) [\d:]+ UTC \| #(\d+)$/gm;
  const heads = [...text.matchAll(header)];
  return heads.map((m, i) => ({
    author: m[1],
    date: m[2],
    number: Number(m[3]),
    text: text.slice(m.index + m[0].length, i + 1 < heads.length ? heads[i + 1].index : undefined),
  }));
}

/** Links a post gives itself: quoted earlier posts (`[quote]…[/quote]`) are left out. */
function linksIn(post: Post): string[] {
  const own = post.text.replace(/\[quote[^\]]*\][\s\S]*?\[\/quote\]/g, '');
  return [...own.matchAll(/https?:\/\/[^\s)\]<>"]+/g)].map((m) => m[0]);
}

/** A meeting material: shared notes, slides and folders, recordings, dashboards, surveys and forms. */
export function isMaterialLink(url: string): boolean {
  const u = new URL(url);
  return (
    /^(docs|drive)\.google\.com$/.test(u.hostname) ||
    (u.hostname.endsWith('zoom.us') && u.pathname.startsWith('/rec/')) ||
    u.hostname.endsWith('typeform.com') ||
    /(^|\.)dashboard\.|grafana/.test(u.hostname)
  );
}

/** Same document or recording whatever the sharing suffix: no query, fragment, `/edit` or trailing slash. */
function normalize(url: string): string {
  const u = new URL(url);
  return `${u.hostname.toLowerCase()}${u.pathname.replace(/\/edit$/, '').replace(/\/$/, '')}`;
}

/**
 * Which session each post with a material belongs to. Post dates alone cannot decide it: posts
 * were edited after the meeting (post 21 carries the recording of 2022-09-22 under a date after
 * it), and some links (the shared notes document) serve every meeting.
 */
const POST_SESSION: Record<number, string> = {
  1: '2022-07-21-kick-off', // charter: notes folder and the kick-off survey
  4: '2022-07-21-kick-off', // reminder to fill in the survey
  7: '2022-07-21-kick-off', // notes and recording
  10: '2022-08-18-stable-memory', // living feedback document, opened the day of session 2
  11: '2022-08-18-stable-memory',
  21: '2022-09-22-stable-memory-plan',
  24: '2022-10-20-composite-queries',
  28: '2022-11-17-stable-memory-utility',
  37: '2023-01-19-canister-queues',
  45: '2023-02-23-storage-survey', // the storage survey
  47: '2023-02-23-storage-survey',
  51: '2023-03-16-stable-memory-benchmarks',
  55: '2023-04-20-sharding',
  57: '2023-04-20-sharding', // "are these recorded?" answered the day before session 9
  61: '2023-05-25-union-db',
  63: '2023-05-25-union-db',
  68: '2023-06-15-query-caching',
  72: '2023-07-20-large-wasm-modules',
  74: '2023-08-17-horizontal-scaling',
  77: '2023-09-21-kybra-azle',
  82: '2023-12-14-high-performance-ledger',
  83: '2023-12-14-high-performance-ledger',
  88: '2024-02-15-scalable-messaging',
  95: '2024-04-18-event-utility',
};

const thread = parseThread(readFileSync(join(import.meta.dirname, '../fixtures/wg-forum-thread-14265.txt'), 'utf8'));
const { sessions } = loadContent();

describe('the thread fixture', () => {
  test('parses into the posts of the topic, numbered as on the forum', () => {
    expect(thread.length).toBeGreaterThan(90);
    expect(thread[0]).toMatchObject({ number: 1, author: 'domwoe' });
    expect(thread.find((p) => p.number === 82)?.text).toContain('dashboard.hpl.live');
  });

  test('every post that gives a material is assigned to a session that exists', () => {
    const ids = new Set(sessions.map((s) => s.id));
    const unassigned = thread.filter((p) => linksIn(p).some(isMaterialLink) && !(p.number in POST_SESSION)).map((p) => p.number);
    expect(unassigned, 'posts with meeting materials that no session claims').toEqual([]);
    for (const id of Object.values(POST_SESSION)) expect(ids.has(id), id).toBe(true);
  });
});

describe('session materials', () => {
  test.each(sessions.map((s) => [s.id, s] as const))('%s lists every material its posts give', (id, session) => {
    const listed = new Set(session.data.materials.map((m) => normalize(m.url)));
    const missing = thread
      .filter((p) => POST_SESSION[p.number] === id)
      .flatMap((p) =>
        linksIn(p)
          .filter(isMaterialLink)
          .map((url) => `post ${p.number}: ${url}`),
      )
      .filter((entry) => !listed.has(normalize(entry.slice(entry.indexOf(': ') + 2))));
    expect(missing, `add these to the materials of content/sessions/${id}.mdx`).toEqual([]);
  });

  test('a material that names a post is found in that post', () => {
    const wrong: string[] = [];
    for (const s of sessions) {
      for (const m of s.data.materials) {
        if (m.post === undefined) continue;
        const post = thread.find((p) => p.number === m.post);
        const found = post && linksIn(post).some((url) => normalize(url) === normalize(m.url));
        if (!found) wrong.push(`${s.id}: ${m.url} is not in post ${m.post}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('the link check knows a material from a meeting link or a forum topic', () => {
    expect(isMaterialLink('https://dfinity.zoom.us/rec/share/abc')).toBe(true);
    expect(isMaterialLink('https://dfinity.zoom.us/j/98492107298?pwd=x')).toBe(false);
    expect(isMaterialLink('https://docs.google.com/presentation/d/1s1E/edit?usp=sharing')).toBe(true);
    expect(isMaterialLink('http://dashboard.hpl.live/')).toBe(true);
    expect(isMaterialLink('https://forum.dfinity.org/t/14210')).toBe(false);
    expect(normalize('https://docs.google.com/document/d/11L9/edit?usp=sharing')).toBe(normalize('https://docs.google.com/document/d/11L9'));
  });
});

describe('links into the thread', () => {
  test('every link to a post of the thread names a post that exists', () => {
    const posts = new Set(thread.map((p) => p.number));
    const files = ['sessions', 'slides', 'patterns', 'reference'].flatMap((dir) => readdirSync(join(contentDir, dir)).map((f) => join(dir, f)));
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      const text = readFileSync(join(contentDir, file), 'utf8');
      for (const m of text.matchAll(/forum\.dfinity\.org\/t\/(?:[a-z0-9-]+\/)?14265\/(\d+)/g)) {
        checked++;
        if (!posts.has(Number(m[1]))) broken.push(`${file}: post ${m[1]}`);
      }
      // Materials name their post by number.
      for (const m of text.matchAll(/^\s+post: (\d+)$/gm)) if (!posts.has(Number(m[1]))) broken.push(`${file}: post ${m[1]}`);
    }
    expect(broken).toEqual([]);
    // The thread has no posts 18, 42 and 60 (deleted on the forum); the pages link hundreds of others.
    expect(posts.has(18) || posts.has(42) || posts.has(60)).toBe(false);
    expect(checked).toBeGreaterThan(200);
  });
});
