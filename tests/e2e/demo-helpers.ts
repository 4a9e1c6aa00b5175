// Helpers shared by the live-demo specs (demos*.spec.ts, run by playwright.demos.config.ts).
import AxeBuilder from '@axe-core/playwright';
import { expect, type Locator, type Page } from '@playwright/test';

const shots = 'test-results/demos/screenshots';

/** Opens a pattern page and waits for its demo to reach `ready`, with no uncaught errors on the way. */
export async function openDemo(page: Page, path: string, demo: string): Promise<Locator> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(path);
  const root = page.locator(`[data-demo="${demo}"]`);
  await expect(root).toHaveAttribute('data-demo-status', 'ready');
  expect(errors, 'no uncaught errors on the page').toEqual([]);
  return root;
}

/** After the demo drew its results: axe finds nothing serious or critical inside it. */
export async function expectAccessible(page: Page, demo: string): Promise<void> {
  const results = await new AxeBuilder({ page }).include(`[data-demo="${demo}"]`).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

/** The demo as an element screenshot, saved as test-results/demos/screenshots/<name>.png. */
export async function screenshot(page: Page, root: Locator, name: string): Promise<void> {
  // Starlight's sticky header would sit on top of the demo in an element screenshot.
  await page.addStyleTag({ content: 'header.header { position: static !important; }' });
  await root.screenshot({ path: `${shots}/${name}.png` });
}
