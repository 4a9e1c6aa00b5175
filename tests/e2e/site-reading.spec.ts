// How a person reads the site: by keyboard from home to a session to its deck and back, the
// deck's keys and URLs, the topic filter, search over the notes, and dark mode everywhere.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

const root = join(import.meta.dirname, '../..');

/** Press Tab until the focused element matches `selector` (at most `limit` presses). */
async function tabTo(page: Page, selector: string, limit = 80): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`no focusable element matching ${selector} within ${limit} tabs`);
}

test('home → session → deck and back, by keyboard', async ({ page }) => {
  await page.goto('/');
  await tabTo(page, 'main a[href^="/sessions/20"]');
  const sessionHref = await page.evaluate(() => document.activeElement!.getAttribute('href')!);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(sessionHref);
  await expect(page.locator('h1')).toBeVisible();
  const id = sessionHref.split('/')[2];

  await tabTo(page, 'a.session-meta__deck');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(`/slides/${id}/`);
  const slides = page.locator('.slide');
  const count = await slides.count();
  expect(count).toBeGreaterThanOrEqual(2);
  await expect(slides.nth(0)).toBeVisible();

  // Arrow keys move between slides; each slide has its own URL.
  await page.keyboard.press('ArrowRight');
  await expect(page).toHaveURL(`/slides/${id}/2/`);
  await expect(slides.nth(1)).toBeVisible();
  await expect(slides.nth(0)).toBeHidden();
  await expect(page.locator('[data-count]')).toHaveText('2');
  await page.keyboard.press('End');
  await expect(page).toHaveURL(`/slides/${id}/${count}/`);
  await page.keyboard.press('Home');
  await expect(page).toHaveURL(`/slides/${id}/`);

  // N shows the speaker notes under the slide.
  await expect(slides.nth(0).locator('.slide__notes')).toBeHidden();
  await page.keyboard.press('n');
  await expect(slides.nth(0).locator('.slide__notes')).toBeVisible();
  await page.keyboard.press('n');

  // Back in history returns to the previous slide; Escape leaves the deck for the session.
  await page.keyboard.press('ArrowRight');
  await page.goBack();
  await expect(page).toHaveURL(`/slides/${id}/`);
  await expect(slides.nth(0)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page).toHaveURL(sessionHref);

  await tabTo(page, 'a[href="/"]');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL('/');
});

test('a slide URL opens that slide directly; the speaker script shows every note and follows the deck', async ({ page, context }) => {
  await page.goto('/slides/2022-08-18-stable-memory/3/');
  await expect(page.locator('.slide').nth(2)).toBeVisible();
  await expect(page.locator('.slide').nth(0)).toBeHidden();

  const script = await context.newPage();
  await script.goto('/slides/2022-08-18-stable-memory/notes/');
  const notes = script.locator('.slide__notes');
  expect(await notes.count()).toBe(await script.locator('.slide').count());
  await expect(notes.first()).toBeVisible();
  // The presenter moves on in the deck window; the script window marks the same slide.
  await page.bringToFront();
  await page.keyboard.press('ArrowRight');
  await expect(script.locator('.slide[aria-current="step"]')).toHaveAttribute('data-slide', '4');
});

test('an unknown address answers 404 with a page that leads back', async ({ page }) => {
  const response = await page.goto('/sessions/2099-01-01-no-such-session/');
  expect(response?.status()).toBe(404);
  await expect(page.locator('h1')).toHaveText('Page not found');
  await page.getByRole('link', { name: 'All sessions' }).last().click();
  await expect(page).toHaveURL('/sessions/');
});

test('print gives one slide per page', async ({ page }) => {
  await page.goto('/slides/2022-08-18-stable-memory/');
  await page.emulateMedia({ media: 'print' });
  const slides = page.locator('.slide');
  const n = await slides.count();
  for (let i = 0; i < n; i++) {
    await expect(slides.nth(i)).toBeVisible();
    expect(await slides.nth(i).evaluate((el) => getComputedStyle(el).breakAfter)).toBe(i === n - 1 ? 'auto' : 'page');
  }
  await expect(page.locator('.deck-controls')).toBeHidden();
  const pdf = await page.pdf({ landscape: true });
  // One PDF page object per slide.
  expect(pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length).toBe(n);
});

test('the timeline shows the months without a session and filters by topic', async ({ page }) => {
  await page.goto('/sessions/');
  await expect(page.locator('[data-month="2022-12"] .timeline__empty')).toContainText('No session');
  await expect(page.locator('[data-month="2023-11"] .timeline__empty')).toContainText('No session');
  await expect(page.locator('.timeline__empty')).toHaveCount(2);
  const all = await page.locator('.session-card').count();
  expect(all).toBe(20);
  await page.locator('.topic-filter a[data-topic="sharding"]').click();
  await expect(page).toHaveURL(/\?topic=sharding$/);
  const shown = page.locator('.session-card:visible');
  await expect(shown.first()).toBeVisible();
  const n = await shown.count();
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThan(all);
  for (const topics of await shown.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.topics!))) {
    expect(topics.split(' ')).toContain('sharding');
  }
  await expect(page.locator('.topic-filter__status')).toHaveText(`${n} session${n === 1 ? '' : 's'} about sharding.`);
  // Years without a matching session fold away with their months.
  for (const year of await page.locator('.timeline-year').all()) {
    expect(await year.isVisible()).toBe((await year.locator('.session-card:visible').count()) > 0);
  }
  await page.goBack();
  await expect(page.locator('.session-card:visible')).toHaveCount(all);
});

/** A word of the session's notes that no other content file and none of its frontmatter uses. */
function wordOnlyInNotes(sessionId: string): string {
  const contentDir = join(root, 'content');
  const files = ['sessions', 'slides', 'patterns']
    .flatMap((dir) => readdirSync(join(contentDir, dir)).map((f) => join(contentDir, dir, f)))
    .concat(join(contentDir, 'glossary.yaml'));
  const own = join(contentDir, 'sessions', `${sessionId}.mdx`);
  const [, frontmatter, body] = readFileSync(own, 'utf8').split(/^---$/m);
  const elsewhere = (
    files
      .filter((f) => f !== own)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n') + frontmatter
  ).toLowerCase();
  const prose = body.replace(/```[\s\S]*?```/g, '').replace(/\]\([^)]*\)/g, ']');
  const words = [...new Set(prose.toLowerCase().match(/\b[a-z]{8,}\b/g) ?? [])];
  const word = words.find((w) => !elsewhere.includes(w.slice(0, 6)));
  if (!word) throw new Error(`no word unique to the notes of ${sessionId}`);
  return word;
}

test('search finds a session by a word that appears only in its notes', async ({ page }) => {
  const id = '2022-08-18-stable-memory';
  const word = wordOnlyInNotes(id);
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('requestfailed', (r) => errors.push(`${r.url()} ${r.failure()?.errorText}`));
  await page.goto('/');
  // Nothing of the search UI loads until search opens.
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.pagefind-ui')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Search/ })).toBeEnabled();
  await page.keyboard.press('Control+k');
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  const input = dialog.getByRole('textbox', { name: 'Search' });
  await expect(input, errors.join('\n')).toBeFocused({ timeout: 30_000 });
  await input.fill(word);
  const result = dialog.locator(`a[href*="/sessions/${id}/"]`).first();
  await expect(result, `searching for "${word}"`).toBeVisible({ timeout: 15_000 });
  await result.click();
  await expect(page).toHaveURL(new RegExp(`/sessions/${id}/`));
});

test('dark mode: the choice applies, persists across pages and reaches the decks', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.locator('starlight-theme-select select').first().selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(darkBg).not.toBe(lightBg);
  // Dark means a dark background with light text, not just a different colour.
  const luminance = (rgb: string) => {
    const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  expect(luminance(darkBg)).toBeLessThan(60);
  expect(luminance(await page.evaluate(() => getComputedStyle(document.querySelector('main p')!).color))).toBeGreaterThan(150);

  await page.goto('/patterns/');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.goto('/slides/2022-08-18-stable-memory/');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(luminance(await page.evaluate(() => getComputedStyle(document.body).backgroundColor))).toBeLessThan(60);
});

test('a session shows its materials with the posts that give them, and so does its deck', async ({ page }) => {
  await page.goto('/sessions/2023-02-23-storage-survey/');
  const materials = page.locator('section[aria-labelledby="materials"] li');
  await expect(materials).toHaveCount(3);
  await expect(materials.filter({ hasText: 'Storage survey' }).locator('a').first()).toHaveAttribute('href', 'https://dfn.typeform.com/to/VkfeqLPu');
  await expect(materials.filter({ hasText: 'Recording' }).getByRole('link', { name: 'post 47' })).toHaveAttribute(
    'href',
    'https://forum.dfinity.org/t/14265/47',
  );
  // Follow-ups come after the notes, with a status a reader can scan.
  await expect(page.locator('section[aria-labelledby="follow-ups"] .follow-ups__status').first()).toBeVisible();

  await page.goto('/slides/2023-02-23-storage-survey/');
  await expect(page.locator('.slide').first().locator('.slide__materials li')).toHaveCount(3);
});

test('the reference pages are in the sidebar and the tracker lists every session with follow-ups', async ({ page }) => {
  await page.goto('/follow-ups/');
  for (const name of ['Calendar history', 'Follow-ups tracker', 'Limits over time', 'OpenChat architecture']) {
    await expect(page.locator('nav[aria-label="Main"]').getByRole('link', { name })).toBeVisible();
  }
  const sessionIds = readdirSync(join(root, 'content/sessions')).map((f) => f.replace(/\.mdx$/, ''));
  const withFollowUps = sessionIds.filter((id) => /\nfollowUps:/.test(readFileSync(join(root, 'content/sessions', `${id}.mdx`), 'utf8')));
  expect(withFollowUps.length).toBeGreaterThan(0);
  for (const id of withFollowUps) await expect(page.locator(`h2[id="${id}"] a`)).toHaveAttribute('href', `/sessions/${id}/`);
});
