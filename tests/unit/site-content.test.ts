// The content model: schema messages people see when a build fails, the cross-file
// checks, the derived timeline, and the deck format.
import { describe, expect, test } from 'vitest';
import { sessionSchema, patternSchema } from '../../src/lib/schemas.ts';
import { checkContent, checkSectionOrder, ContentError, assertContent, type Entry } from '../../src/lib/content-checks.ts';
import { emptyMonths, prevNext, sessionsForPattern, timelineByYear, topicCounts } from '../../src/lib/sessions.ts';
import { parseDeck, splitRenderedDeck, slideUrl } from '../../src/lib/deck.ts';
import { DEMO_IDS, PATTERN_IDS, PATTERN_SECTIONS, SESSION_SECTIONS } from '../../src/lib/contract.ts';
import type { SessionData } from '../../src/lib/schemas.ts';
import { loadContent } from './site-content-fixtures.ts';

const validSession = {
  title: 'Stable memory in Rust',
  date: new Date('2022-08-18'),
  number: 2,
  summary: 'Two libraries.',
  presenters: [{ handle: 'ielashi', role: 'DFINITY engineer' }],
  topics: ['stable-memory', 'rust'],
  forum: 'https://forum.dfinity.org/t/14265/12',
  patterns: ['stable-structures'],
  demos: ['stable-memory'],
  slides: '2022-08-18-stable-memory',
  notes: 'complete',
};

function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  return result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('session schema', () => {
  test('accepts a complete session frontmatter', () => {
    expect(sessionSchema.safeParse(validSession).success).toBe(true);
  });

  test('a quoted or impossible date is rejected with a message naming the field', () => {
    // YAML gives a string for "2022-08-18" in quotes and for 2022-13-45 (not a date).
    expect(issues(sessionSchema.safeParse({ ...validSession, date: '2022-13-45' }))).toMatchInlineSnapshot(`
      [
        "date: expected a YAML date such as 2022-08-18 (unquoted, a real calendar day), got "2022-13-45"",
      ]
    `);
  });

  test('an unknown pattern id is rejected and the known ids are listed', () => {
    expect(issues(sessionSchema.safeParse({ ...validSession, patterns: ['stable-structures', 'sharding'] }))).toMatchInlineSnapshot(`
      [
        "patterns.1: unknown pattern id "sharding"; use one of: stable-structures, upgrade-safe-state, composite-query-fan-out, index-bucket-sharding, query-caching, queues-and-backpressure, chunked-wasm-upload, canister-snapshots, bounded-wait-calls, horizontal-scaling, stable-serialization-formats, optimistic-ui",
      ]
    `);
  });

  test('a session without presenters, or a presenter without a handle, is rejected', () => {
    expect(issues(sessionSchema.safeParse({ ...validSession, presenters: [] }))).toMatchInlineSnapshot(`
      [
        "presenters: \`presenters\` must list at least one presenter (handle, optional role)",
      ]
    `);
    const { presenters: _, ...withoutPresenters } = validSession;
    expect(issues(sessionSchema.safeParse(withoutPresenters))).toMatchInlineSnapshot(`
      [
        "presenters: \`presenters\` must list at least one presenter (handle, optional role)",
      ]
    `);
    expect(issues(sessionSchema.safeParse({ ...validSession, presenters: [{ role: 'x' }] }))).toMatchInlineSnapshot(`
      [
        "presenters.0: each presenter needs either a \`handle\` (their forum handle) or a \`team\` (a project that presented), not both",
      ]
    `);
  });

  test('a team presents by name; a presenter cannot be both a handle and a team', () => {
    expect(sessionSchema.safeParse({ ...validSession, presenters: [{ team: 'OpenChat' }] }).success).toBe(true);
    expect(issues(sessionSchema.safeParse({ ...validSession, presenters: [{ handle: 'a', team: 'B' }] }))).toEqual([
      'presenters.0: each presenter needs either a `handle` (their forum handle) or a `team` (a project that presented), not both',
    ]);
  });

  test('materials need a known kind, a URL and where they come from', () => {
    const bad = {
      ...validSession,
      materials: [
        { kind: 'video', url: 'https://x.test/' },
        { kind: 'notes', url: 'https://x.test/' },
      ],
    };
    expect(issues(sessionSchema.safeParse(bad))).toEqual([
      'materials.0.kind: unknown material kind "video"; use one of: notes, recording, slides, transcript, dashboard, survey, form',
      "materials.1: each material names where it comes from: `post` (the thread's post number) or `source` (a URL)",
    ]);
    const ok = { ...validSession, materials: [{ kind: 'recording', url: 'https://dfinity.zoom.us/rec/share/x', post: 11 }] };
    expect(sessionSchema.safeParse(ok).success).toBe(true);
  });

  test('follow-ups need a known status and at least one source', () => {
    const f = { item: 'x', status: 'done', outcome: 'y', sources: [] };
    expect(issues(sessionSchema.safeParse({ ...validSession, followUps: [f] }))).toEqual([
      'followUps.0.status: unknown follow-up status "done"; use one of: shipped, changed, never, unknown',
      'followUps.0.sources: each follow-up needs at least one source',
    ]);
  });

  test('unknown demo ids, notes states and malformed slides ids are rejected', () => {
    // The demo list grows as demos land, so the expected message is built from the contract.
    expect(issues(sessionSchema.safeParse({ ...validSession, demos: ['ledger'], notes: 'draft', slides: 'deck-2' }))).toEqual([
      `demos.0: unknown demo id "ledger"; use one of: ${DEMO_IDS.join(', ')}`,
      'slides: `slides` must be a deck id like 2022-08-18-stable-memory',
      'notes: `notes` must be `complete` or `coming`',
    ]);
  });

  test('pattern frontmatter: related ids and demo are checked', () => {
    expect(issues(patternSchema.safeParse({ title: 'x', summary: 'y', demo: 'nope', related: ['queues'] }))).toEqual([
      `demo: unknown demo id "nope"; use one of: ${DEMO_IDS.join(', ')}`,
      `related.0: unknown pattern id "queues"; use one of: ${PATTERN_IDS.join(', ')}`,
    ]);
  });
});

function session(id: string, over: Partial<SessionData> = {}): Entry<SessionData> {
  const parsed = sessionSchema.parse({ ...validSession, date: new Date(id.slice(0, 10)), slides: id, ...over });
  return { id, filePath: `content/sessions/${id}.mdx`, data: parsed };
}

describe('cross-file checks', () => {
  const deck = (id: string, sessionId = id) => ({ id, filePath: `content/slides/${id}.md`, data: { title: 't', session: sessionId } });

  test('consistent content has no problems', () => {
    const sessions = [session('2022-08-18-stable-memory'), session('2022-09-22-plan', { number: 3 })];
    expect(checkContent({ sessions, slides: sessions.map((s) => deck(s.id)), patterns: [], glossary: [] })).toEqual([]);
  });

  test('a date that disagrees with the file name, a missing deck and a duplicate number are reported with file and field', () => {
    const sessions = [session('2022-08-18-stable-memory', { date: new Date('2022-08-19') }), session('2022-09-22-plan', { slides: '2022-09-22-plan-deck' })];
    const problems = checkContent({ sessions, slides: [deck('2022-08-18-stable-memory'), deck('2023-01-01-orphan')], patterns: [], glossary: [] });
    expect(new ContentError(problems).message).toMatchInlineSnapshot(`
      "The content has 4 problems:
        content/sessions/2022-08-18-stable-memory.mdx: field \`date\`: is 2022-08-19 but the file name says 2022-08-18; the meeting date must match (YAML rolls an impossible date such as 2022-13-45 over into a later one)
        content/sessions/2022-09-22-plan.mdx: field \`slides\`: no deck content/slides/2022-09-22-plan-deck.md exists (a deck's id is its file name)
        content/sessions/2022-09-22-plan.mdx: field \`number\`: 2 is also used by content/sessions/2022-08-18-stable-memory.mdx
        content/slides/2023-01-01-orphan.md: field \`session\`: no session content/sessions/2023-01-01-orphan.mdx exists"
    `);
    expect(() => assertContent({ sessions, slides: [], patterns: [], glossary: [] })).toThrow(ContentError);
  });

  test('pattern files with unknown ids and broken glossary references are reported', () => {
    const problems = checkContent({
      sessions: [],
      slides: [],
      patterns: [{ id: 'sharding', filePath: 'content/patterns/sharding.mdx', data: { title: 's', summary: 's', related: [] } }],
      glossary: [{ id: 'canister', data: { id: 'canister', term: 'Canister', definition: 'd', see: ['subnet'] } }],
    });
    expect(problems.map((p) => `${p.file} ${p.field}`)).toEqual(['content/patterns/sharding.mdx (file name)', 'content/glossary.yaml canister.see']);
  });

  test('section order: the first wrong section is named, with the expected order', () => {
    const h = (texts: string[]) => texts.map((text) => ({ depth: 2, text }));
    expect(checkSectionOrder('p.mdx', h([...PATTERN_SECTIONS]), PATTERN_SECTIONS)).toBeUndefined();
    const swapped = [...PATTERN_SECTIONS];
    [swapped[1], swapped[2]] = [swapped[2], swapped[1]];
    expect(checkSectionOrder('p.mdx', h(swapped), PATTERN_SECTIONS)?.message).toMatch(/^section 2 is "Forces" but should be "Problem"/);
    expect(checkSectionOrder('s.mdx', h(SESSION_SECTIONS.slice(0, 3)), SESSION_SECTIONS)?.message).toMatch(
      /^missing "Numbers that matter" after "What we learned"/,
    );
  });
});

describe('timeline', () => {
  const sessions = [session('2022-11-17-a', { number: 1 }), session('2023-01-19-b', { number: 2 }), session('2023-02-23-c', { number: 3, topics: ['queues'] })];

  test('covers every month between the first and last session and keeps the empty ones', () => {
    const years = timelineByYear(sessions);
    expect(years.map((y) => [y.year, y.months.map((m) => `${m.month}:${m.sessions.map((s) => s.id).join(',')}`)])).toEqual([
      [2022, ['2022-11:2022-11-17-a', '2022-12:']],
      [2023, ['2023-01:2023-01-19-b', '2023-02:2023-02-23-c']],
    ]);
    expect(emptyMonths(sessions)).toEqual(['2022-12']);
  });

  test('previous and next follow the meeting dates', () => {
    const { prev, next } = prevNext([...sessions].reverse(), '2023-01-19-b');
    expect([prev?.id, next?.id]).toEqual(['2022-11-17-a', '2023-02-23-c']);
    expect(prevNext(sessions, '2022-11-17-a').prev).toBeUndefined();
  });

  test('topics are counted, most used first', () => {
    expect(topicCounts(sessions)[0]).toEqual({ topic: 'rust', count: 2 });
  });
});

describe('deck format', () => {
  const source = [
    '## Stable memory in Rust',
    '',
    'Session 2.',
    '',
    '???',
    'Say hello.',
    '',
    '## Code',
    '',
    '```rust',
    '## not a slide, a comment in code',
    '???',
    '```',
    '',
    '## Last',
    'No notes here.',
  ].join('\n');

  test('`## ` starts a slide, `???` starts its notes, code fences are not split', () => {
    expect(parseDeck(source)).toEqual([
      { title: 'Stable memory in Rust', body: 'Session 2.', notes: 'Say hello.' },
      { title: 'Code', body: '```rust\n## not a slide, a comment in code\n???\n```', notes: '' },
      { title: 'Last', body: 'No notes here.', notes: '' },
    ]);
  });

  test('format errors name the file and line', () => {
    expect(() => parseDeck('Intro\n## A', 'content/slides/x.md')).toThrow('content/slides/x.md:1: text before the first `## ` heading');
    expect(() => parseDeck('## A\n???\nx\n???', 'd.md')).toThrow('d.md:4: a second `???`');
    expect(() => parseDeck('## A\n```\ncode', 'd.md')).toThrow('code fence ``` is never closed');
  });

  test('rendered HTML is cut at the same places', () => {
    const html = '<h2 id="a">Stable <em>memory</em></h2>\n<p>Session 2.</p>\n<p>???</p>\n<p>Say hello.</p>\n<h2 id="b">Code</h2><pre><code>## x</code></pre>';
    expect(splitRenderedDeck(html)).toEqual([
      { titleHtml: 'Stable <em>memory</em>', bodyHtml: '<p>Session 2.</p>', notesHtml: '<p>Say hello.</p>' },
      { titleHtml: 'Code', bodyHtml: '<pre><code>## x</code></pre>', notesHtml: '' },
    ]);
    expect([slideUrl('d', 1), slideUrl('d', 3)]).toEqual(['/slides/d/', '/slides/d/3/']);
  });
});

describe('the real content/ folder', () => {
  const content = loadContent();

  test('passes the cross-file checks, glossary cross-references included', () => {
    expect(content.glossary.length).toBeGreaterThan(10);
    expect(checkContent(content)).toEqual([]);
  });

  test('every deck parses, and the months without a session are 2022-12 and 2023-11', () => {
    for (const deck of content.slides) expect(parseDeck(deck.body, deck.filePath).length).toBeGreaterThanOrEqual(2);
    expect(emptyMonths(content.sessions)).toEqual(['2022-12', '2023-11']);
    expect(content.sessions).toHaveLength(20);
  });

  test('every pattern page carries a live demo, and every demo has a pattern page', () => {
    expect(content.patterns.filter((p) => !p.data.demo).map((p) => p.id)).toEqual([]);
    const shown = new Set(content.patterns.map((p) => p.data.demo));
    expect(DEMO_IDS.filter((demo) => !shown.has(demo))).toEqual([]);
  });

  test('every pattern a session names is linked back from that pattern page', () => {
    for (const s of content.sessions) {
      for (const p of s.data.patterns) expect(sessionsForPattern(content.sessions, p).map((x) => x.id)).toContain(s.id);
    }
  });
});
