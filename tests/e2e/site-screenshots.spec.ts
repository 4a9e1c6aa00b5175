// Screenshots of the main page types in light and dark, saved under test-results/screenshots
// for people (and reviewers) to look at. It also fails if a page renders without its main parts.
import { expect, test } from '@playwright/test';

const pages = [
  { name: 'home', path: '/', expectText: 'Latest sessions' },
  { name: 'session', path: '/sessions/2022-08-18-stable-memory/', expectText: 'Stable memory in Rust' },
  { name: 'timeline', path: '/sessions/', expectText: 'No session this month.' },
  { name: 'pattern', path: '/patterns/stable-structures/', expectText: 'Stable structures' },
  { name: 'deck', path: '/slides/2022-08-18-stable-memory/', expectText: 'Stable memory' },
];

for (const theme of ['light', 'dark'] as const) {
  for (const { name, path, expectText } of pages) {
    test(`screenshot ${name} (${theme})`, async ({ page }) => {
      await page.addInitScript((t) => localStorage.setItem('starlight-theme', t), theme);
      await page.setViewportSize({ width: 1280, height: 860 });
      await page.goto(path);
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      await expect(page.getByText(expectText).first()).toBeVisible();
      await page.screenshot({ path: `test-results/screenshots/${name}-${theme}.png` });
      if (name !== 'deck') await page.screenshot({ path: `test-results/screenshots/${name}-${theme}-full.png`, fullPage: true });
    });
  }
}
