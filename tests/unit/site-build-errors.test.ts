// A broken content folder must stop `astro build` with a message that names the file and the
// field. Builds the real site config over small fixture folders (WG_CONTENT_DIR).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '../..');
// Inside the project: Astro puts its prerender chunks next to outDir only when outDir is inside
// the working directory (otherwise in the shared .astro/ folder).
const work = join(root, '.cache', `site-build-errors-${process.pid}`);

function session(frontmatter: string): string {
  return `---\n${frontmatter.trim()}\n---\n\nA short summary paragraph.\n`;
}
const deck = (id: string) => `---\ntitle: "Deck"\nsession: ${id}\n---\n\n## Title\n\nText.\n`;

function buildFixture(name: string, files: Record<string, string>): { status: number | null; output: string } {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const result = spawnSync(join(root, 'node_modules/.bin/astro'), ['build', '--outDir', join(dir, 'dist')], {
    cwd: root,
    env: { ...process.env, WG_CONTENT_DIR: dir, NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    timeout: 110_000,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('astro build on broken content', () => {
  test('a quoted date, an unknown pattern id and a missing presenter fail with file and fields', () => {
    const { status, output } = buildFixture('schema', {
      'sessions/2022-08-18-broken.mdx': session(`
title: "Broken"
date: "18 August 2022"
number: 1
summary: "s"
presenters: []
forum: https://forum.dfinity.org/t/14265
patterns: [sharding-everything]
slides: 2022-08-18-broken
notes: coming`),
      'slides/2022-08-18-broken.md': deck('2022-08-18-broken'),
    });
    expect(status).not.toBe(0);
    expect(output).toContain('sessions/2022-08-18-broken.mdx');
    expect(output).toMatch(/date\W+expected a YAML date such as 2022-08-18/);
    expect(output).toMatch(/presenters\W+`presenters` must list at least one presenter/);
    expect(output).toMatch(/patterns\.0\W+unknown pattern id "sharding-everything"/);
  });

  test('an impossible date and an unknown slides id fail with file and field', () => {
    const { status, output } = buildFixture('cross-file', {
      'sessions/2022-08-18-broken.mdx': session(`
title: "Broken"
date: 2022-08-32
number: 1
summary: "s"
presenters: [{ handle: someone }]
forum: https://forum.dfinity.org/t/14265
slides: 2022-08-18-no-such-deck
notes: coming`),
      'slides/2022-08-18-broken.md': deck('2022-08-18-broken'),
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/sessions\/2022-08-18-broken\.mdx: field `date`: is 2022-09-01 but the file name says 2022-08-18/);
    expect(output).toMatch(/sessions\/2022-08-18-broken\.mdx: field `slides`: no deck content\/slides\/2022-08-18-no-such-deck\.md exists/);
  });
});

describe('astro build on minimal content', () => {
  test('a session whose notes are coming builds, and its page says so plainly', () => {
    const { status, output } = buildFixture('coming', {
      'sessions/2023-01-19-queues.mdx': session(`
title: "Canister queues"
date: 2023-01-19
number: 6
summary: "How messages wait between canisters."
presenters: [{ handle: dsarlis, role: "DFINITY engineer" }]
forum: https://forum.dfinity.org/t/14265
slides: 2023-01-19-queues
notes: coming`),
      'slides/2023-01-19-queues.md': deck('2023-01-19-queues'),
    });
    expect(status, output).toBe(0);
    const page = readFileSync(join(work, 'coming', 'dist', 'sessions', '2023-01-19-queues', 'index.html'), 'utf8');
    expect(page).toContain('The notes for this session are coming.');
    expect(page).toContain('A short summary paragraph.');
    expect(page).not.toMatch(/lorem ipsum/i);
    // A deck exists for it too (a short one, until the full deck is written).
    expect(existsSync(join(work, 'coming', 'dist', 'slides', '2023-01-19-queues', 'index.html'))).toBe(true);
  });
});
