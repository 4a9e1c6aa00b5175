// Screenshots of the main page types in light and dark, saved under test-results/screenshots
// for people (and reviewers) to look at. It also fails if a page renders without its main parts.
import { expect, test } from '@playwright/test';

const pages = [
  { name: 'home', path: '/', expectText: 'Latest sessions' },
  { name: 'session', path: '/sessions/2022-08-18-stable-memory/', expectText: 'Stable memory in Rust' },
  { name: 'timeline', path: '/sessions/', expectText: 'No session' },
  { name: 'pattern', path: '/patterns/stable-structures/', expectText: 'Stable structures' },
  { name: 'deck', path: '/slides/2022-08-18-stable-memory/', expectText: 'Stable memory' },
  { name: 'deck-code', path: '/slides/2022-08-18-stable-memory/3/', expectText: 'StableBTreeMap' },
  { name: 'speaker-script', path: '/slides/2022-08-18-stable-memory/notes/', expectText: 'Speaker notes' },
  { name: 'glossary', path: '/glossary/', expectText: 'Stable memory' },
  { name: 'about', path: '/about/', expectText: 'How to propose a topic' },
  { name: 'follow-ups', path: '/follow-ups/', expectText: 'never happened' },
  { name: 'limits', path: '/limits/', expectText: 'Subnet capacity' },
  { name: 'calendar', path: '/calendar/', expectText: 'withdrawn' },
  { name: 'not-found', path: '/404.html', expectText: 'There is no page at this address' },
];

for (const theme of ['light', 'dark'] as const) {
  for (const { name, path, expectText } of pages) {
    test(`screenshot ${name} (${theme})`, async ({ page }) => {
      await page.addInitScript((t) => localStorage.setItem('starlight-theme', t), theme);
      await page.setViewportSize({ width: 1280, height: 860 });
      await page.goto(path);
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      await expect(page.locator('main').getByText(expectText).filter({ visible: true }).first()).toBeVisible();
      await page.screenshot({ path: `test-results/screenshots/${name}-${theme}.png` });
      if (!name.startsWith('deck')) await page.screenshot({ path: `test-results/screenshots/${name}-${theme}-full.png`, fullPage: true });
    });
  }
}

test('screenshot session on a phone (light)', async ({ page }) => {
  await page.addInitScript(() => localStorage.setItem('starlight-theme', 'light'));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/sessions/2022-08-18-stable-memory/');
  await expect(page.locator('h1')).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/session-phone.png' });
  await page.goto('/slides/2022-08-18-stable-memory/2/');
  await page.screenshot({ path: 'test-results/screenshots/deck-phone.png' });
});
