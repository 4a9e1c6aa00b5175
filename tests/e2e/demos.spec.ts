// The live demos in Chromium against the stack `npm start` brings up (playwright.demos.config.ts):
// each demo reaches `ready`, does its thing against real canisters on the local replica, and
// the page shows the live result. Screenshots land in test-results/demos/screenshots/.
import { expect, test, type Locator } from '@playwright/test';
import { expectAccessible, openDemo, screenshot } from './demo-helpers.ts';

test.skip(!process.env.WG_DEMOS_E2E, 'needs the running stack: playwright test -c playwright.demos.config.ts');

function numberIn(locator: Locator, attribute: string): Promise<number> {
  return locator.getAttribute(attribute).then(Number);
}

test('stable memory: records survive a real upgrade in every store and the chart plots it', async ({ page }) => {
  const root = await openDemo(page, '/patterns/stable-structures/', 'stable-memory');
  await expect(root.getByText(/^(lab|stable-memory-classic)$/).first()).toBeVisible();
  const cards = root.locator('[data-store]');
  await expect(cards).toHaveCount(3);
  const before = await Promise.all(['classic', 'region', 'eop'].map((s) => numberIn(root.locator(`[data-store="${s}"]`), 'data-records')));

  await root.getByLabel('Records per store').selectOption('1000');
  await root.getByRole('button', { name: 'Add records to each store' }).click();
  for (const [i, store] of ['classic', 'region', 'eop'].entries()) {
    await expect(root.locator(`[data-store="${store}"]`)).toHaveAttribute('data-records', String(before[i] + 1000));
  }

  await root.getByRole('button', { name: 'Upgrade all three' }).click();
  for (const [i, store] of ['classic', 'region', 'eop'].entries()) {
    const verdict = root.locator(`[data-store="${store}"] [data-kept]`);
    await expect(verdict).toHaveAttribute('data-kept', 'true');
    await expect(verdict).toContainText(`Kept all ${(before[i] + 1000).toLocaleString('en-US')} records`);
  }
  // One measured point per store at least, with its text alternative.
  await expect(root.locator('svg[role="img"] circle')).not.toHaveCount(0);
  const description = await root.locator('svg[role="img"] desc').textContent();
  expect(description).toMatch(/Heap, copied in pre\/post_upgrade: \d+ upgrades?, from [\d.]+ ?[KMB]? instructions/);
  await expectAccessible(page, 'stable-memory');
  await screenshot(page, root, 'stable-memory');
});

test('composite queries: the composite query and the update return the same hits', async ({ page }) => {
  const root = await openDemo(page, '/patterns/composite-query-fan-out/', 'composite-queries');
  await root.getByLabel('Search the documents').fill('memory');
  await root.getByRole('button', { name: 'Search both ways' }).click();
  await expect(root.locator('[data-agree]')).toHaveAttribute('data-agree', 'true');
  const viaQuery = root.locator('[data-path="composite query"]');
  const viaUpdate = root.locator('[data-path="update"]');
  expect(await numberIn(viaQuery, 'data-total-matches')).toBeGreaterThan(0);
  expect(await numberIn(viaQuery, 'data-hits')).toBe(await numberIn(viaUpdate, 'data-hits'));
  // Every partition reports the instructions it spent, in both columns.
  await expect(viaQuery.locator('tbody tr')).toHaveCount(await viaUpdate.locator('tbody tr').count());
  await expect(viaQuery.locator('tbody tr').first()).toContainText(/\d/);
  await expectAccessible(page, 'composite-queries');
  await screenshot(page, root, 'composite-queries');
});

test('sharding: sign in locally, add keys until a second bucket appears, read a key both ways', async ({ page }) => {
  const root = await openDemo(page, '/patterns/index-bucket-sharding/', 'sharding');
  await expect(root.getByRole('button', { name: 'Add key' })).toBeDisabled();

  // Cancelling in the identity provider's window reaches the page as auth-client's failure.
  const cancelled = page.waitForEvent('popup');
  await root.getByRole('button', { name: 'Sign in' }).click();
  await (await cancelled).getByRole('button', { name: 'Cancel' }).click();
  await expect(root.getByRole('status')).toContainText('Sign-in failed: The user cancelled sign-in');

  // Sign-in through auth-client and the local development identity provider (a real delegation).
  const popupPromise = page.waitForEvent('popup');
  await root.getByRole('button', { name: 'Sign in' }).click();
  const popup = await popupPromise;
  // The provider's page runs under a CSP without 'unsafe-inline' and still has its script (the
  // buttons) and its style (a stylesheet file: the buttons' colour), and nothing was blocked.
  const violations: string[] = [];
  popup.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const continueAsAlice = popup.getByRole('button', { name: 'Continue as Alice' });
  await expect(continueAsAlice).toBeVisible();
  const providerPage = await popup.request.get(popup.url());
  expect(providerPage.headers()['content-security-policy']).not.toContain('unsafe-inline');
  expect(await continueAsAlice.evaluate((button) => getComputedStyle(button).backgroundColor)).toBe('rgb(91, 60, 196)');
  expect(violations).toEqual([]);
  await continueAsAlice.click();
  const principal = root.locator('[data-principal]');
  await expect(principal).toBeVisible();
  const principalText = (await principal.getAttribute('data-principal'))!;
  expect(principalText).not.toBe('2vxsx-fae');
  // The delegation is kept (auth-client's IndexedDB): a reload is still signed in as the same principal.
  await page.reload();
  await expect(root).toHaveAttribute('data-demo-status', 'ready');
  await expect(root.locator('[data-principal]')).toHaveAttribute('data-principal', principalText);

  const map = root.getByRole('list', { name: 'Buckets' });
  for (let burst = 0; burst < 3 && (await numberIn(map, 'data-buckets')) < 2; burst++) {
    await root.getByRole('button', { name: /Add a burst of/ }).click();
    await expect(root.getByRole('status')).toContainText(/Stored \d+ of \d+ keys/);
  }
  expect(await numberIn(map, 'data-buckets')).toBeGreaterThanOrEqual(2);
  await expect(root.locator('[data-bucket="1"]')).toBeVisible();

  // The key the last burst stored: read it through the index and directly from its bucket.
  await root.getByRole('button', { name: 'Look it up both ways' }).click();
  const viaIndex = root.locator('[data-lookup="index"]');
  const direct = root.locator('[data-lookup="direct"]');
  await expect(viaIndex).toHaveAttribute('data-found', 'true');
  await expect(direct).toHaveAttribute('data-found', 'true');
  expect(await viaIndex.locator('[data-value]').getAttribute('data-value')).toBe(await direct.locator('[data-value]').getAttribute('data-value'));
  await expect(viaIndex).toContainText(principalText);
  await expectAccessible(page, 'sharding');
  await screenshot(page, root, 'sharding');

  // The map is live: keys another visitor adds (another browser, another principal) show up here
  // without a click.
  const keysBefore = await numberIn(map, 'data-index-keys');
  const otherVisitor = await page.context().browser()!.newContext();
  const other = await otherVisitor.newPage();
  const otherRoot = await openDemo(other, '/patterns/index-bucket-sharding/', 'sharding');
  const otherPopup = other.waitForEvent('popup');
  await otherRoot.getByRole('button', { name: 'Sign in' }).click();
  await (await otherPopup).getByRole('button', { name: 'Continue as Bob' }).click();
  await expect(otherRoot.locator('[data-principal]')).not.toHaveAttribute('data-principal', principalText);
  await otherRoot.getByRole('button', { name: /Add a burst of/ }).click();
  await expect(otherRoot.getByRole('status')).toContainText(/Stored [1-9]\d* of \d+ keys/);
  await expect(map).not.toHaveAttribute('data-index-keys', String(keysBefore), { timeout: 15_000 });
  await otherVisitor.close();

  // Giving the keys back: the index forgets them and this principal's quota is free again.
  await root.getByRole('button', { name: 'Delete my keys' }).click();
  await expect(root.getByRole('status')).toContainText(/Deleted (\d+) of \1 keys/);
  await expect(root.getByText(/You have no keys yet/)).toBeVisible();
  await root.getByRole('button', { name: 'Look it up both ways' }).click();
  await expect(root.locator('[data-lookup="index"]')).toHaveAttribute('data-found', 'false');
});

test('a demo whose network is down says so, offers a retry, and recovers', async ({ page }) => {
  const replica = process.env.WG_DEMOS_REPLICA_URL!;
  // From the browser's point of view the replica is gone: every request to it fails to connect.
  await page.route(`${replica}/**`, (route) => route.abort('connectionrefused'));
  await page.goto('/patterns/composite-query-fan-out/');
  const root = page.locator('[data-demo="composite-queries"]');
  await expect(root).toHaveAttribute('data-demo-status', 'error');
  await expect(root.getByRole('alert')).toContainText('is not answering');
  await expectAccessible(page, 'composite-queries');
  await screenshot(page, root, 'network-down');
  await page.unroute(`${replica}/**`);
  await root.getByRole('button', { name: 'Retry' }).click();
  await expect(root).toHaveAttribute('data-demo-status', 'ready');

  // The replica goes away between two clicks: the action fails into the same error state, and
  // focus lands on Retry because the button just pressed is gone.
  await page.route(`${replica}/**`, (route) => route.abort('connectionrefused'));
  await root.getByRole('button', { name: 'Search both ways' }).click();
  await expect(root).toHaveAttribute('data-demo-status', 'error');
  await expect(root.getByRole('button', { name: 'Retry' })).toBeFocused();
  await page.unroute(`${replica}/**`);
  await root.getByRole('button', { name: 'Retry' }).click();
  await expect(root).toHaveAttribute('data-demo-status', 'ready');
});
