// Every built page loads without console errors or broken requests, and the main page types
// have no serious or critical accessibility violations (axe-core), in light and dark.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

const dist = join(import.meta.dirname, '../../dist');

function htmlPages(dir = dist): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'pagefind' || name === '_astro' ? [] : htmlPages(path);
    return name.endsWith('.html') ? ['/' + relative(dist, path).replace(/index\.html$/, '')] : [];
  });
}

test('no console errors, page errors or failed requests on any page of dist/', async ({ page }) => {
  test.setTimeout(300_000);
  const pages = htmlPages();
  expect(pages.length).toBeGreaterThan(60);
  const problems: string[] = [];
  let current = '';
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${current}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${current}: uncaught ${error.message}`));
  page.on('response', (response) => {
    // The 404 page answers with 404 on purpose.
    if (response.status() >= 400 && !(current === '/404.html' && response.url().endsWith('/404.html'))) {
      problems.push(`${current}: HTTP ${response.status()} for ${response.url()}`);
    }
  });
  page.on('requestfailed', (request) => {
    // Requests still in flight when the next page.goto starts are aborted, not broken.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`${current}: request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  for (const path of pages) {
    current = path;
    await page.goto(path, { waitUntil: 'load' });
  }
  expect(problems).toEqual([]);
});

const axePages = [
  { name: 'home', path: '/' },
  { name: 'session', path: '/sessions/2022-08-18-stable-memory/' },
  { name: 'session timeline', path: '/sessions/' },
  { name: 'pattern', path: '/patterns/stable-structures/' },
  { name: 'deck', path: '/slides/2022-08-18-stable-memory/' },
  { name: 'deck speaker script', path: '/slides/2022-08-18-stable-memory/notes/' },
];

for (const theme of ['light', 'dark'] as const) {
  test(`axe: no serious or critical violations (${theme})`, async ({ page }) => {
    await page.addInitScript((t) => localStorage.setItem('starlight-theme', t), theme);
    const report: string[] = [];
    for (const { name, path } of axePages) {
      await page.goto(path);
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      // Expressive Code makes a code block focusable (tabindex=0) from a ResizeObserver once it
      // overflows; let that first callback run so axe judges the page a reader gets, not a race.
      await page.waitForFunction(() =>
        [...document.querySelectorAll('pre')].every((pre) => pre.scrollWidth <= pre.clientWidth || pre.hasAttribute('tabindex')),
      );
      const results = await new AxeBuilder({ page }).analyze();
      for (const v of results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
        report.push(
          `${name} (${path}): [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes
            .slice(0, 3)
            .map((n) => n.target.join(' ') + ' ' + (n.failureSummary ?? '').replace(/\s+/g, ' '))
            .join('\n    ')}`,
        );
      }
    }
    expect(report, report.join('\n')).toEqual([]);
  });
}
