// Sign-in on the page backend under the whole stack (playwright.demos.config.ts): `npm start`
// serves the local development identity provider, so a demo switched to "this page" signs in
// through auth-client and that provider's window, not with the in-page development identity. The
// delegation the provider signs must then verify on the replica inside the tab (whose root key is
// not the local replica's), the page's canister must see the provider's delegated principal, and
// the canister's per-principal cap must apply to that principal.
import { expect, test } from '@playwright/test';
import { openDemo } from './demo-helpers.ts';

test.skip(!process.env.WG_DEMOS_E2E, 'needs the running stack: playwright test -c playwright.demos.config.ts');

test('sharding on the page backend signs in through the local identity provider; the page canister sees its principal and caps it', async ({ page }) => {
  // Installing the demo's canisters in the tab, then a bucket per five keys, on a shared machine.
  test.setTimeout(300_000);
  let root = await openDemo(page, '/patterns/index-bucket-sharding/', 'sharding');
  await expect(root).toHaveAttribute('data-demo-backend', 'local');

  // From the switch on, nothing may reach the local replica: the demo runs in the tab.
  const replica = process.env.WG_DEMOS_REPLICA_URL!;
  const toLocalReplica: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(replica)) toLocalReplica.push(request.url());
  });
  // A reader switches the demo they are looking at (the page replica starts once the demo is in view).
  await root.scrollIntoViewIfNeeded();
  await root.getByLabel('Run on').selectOption('page');
  await expect(root).toHaveAttribute('data-demo-backend', 'page');
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 150_000 });
  await expect(root.getByText('Live on the replica in this page')).toBeVisible();
  await expect(root.getByText(/sign in with the local development identity provider/)).toBeVisible();

  // The provider's window: the principal it shows for Alice is the one it delegates from.
  const popupPromise = page.waitForEvent('popup');
  await root.getByRole('button', { name: 'Sign in' }).click();
  const popup = await popupPromise;
  const alice = popup.getByRole('listitem').filter({ has: popup.getByRole('button', { name: 'Continue as Alice' }) });
  const delegated = (await alice.locator('code').textContent())!.trim();
  expect(delegated).toMatch(/^[a-z0-9]{5}(-[a-z0-9]{1,5})+$/);
  await alice.getByRole('button', { name: 'Continue as Alice' }).click();

  await expect(root.locator('[data-principal]')).toHaveAttribute('data-principal', delegated);
  await expect(root.getByText(/in-page development identity/)).toHaveCount(0);
  // The in-page development identity was never made nor chosen in this browser.
  expect(await page.evaluate(() => [localStorage.getItem('wg-page-dev-identity'), localStorage.getItem('wg-page-dev-signed-in')])).toEqual([null, null]);

  // A signed update on the page replica: the index records the caller as the key's owner.
  await root.getByLabel('Key', { exact: true }).fill('page-signin-probe');
  await root.getByLabel('Value').fill('signed through the provider');
  await root.getByRole('button', { name: 'Add key' }).click();
  await expect(root.getByRole('status')).toContainText('Stored "page-signin-probe"', { timeout: 60_000 });
  await root.getByRole('button', { name: 'Look it up both ways' }).click();
  const viaIndex = root.locator('[data-lookup="index"]');
  await expect(viaIndex).toHaveAttribute('data-found', 'true', { timeout: 60_000 });
  await expect(viaIndex.locator('dd code').last()).toHaveText(delegated);

  // The per-principal cap: bursts until the index refuses this principal more keys.
  const status = root.getByRole('status');
  for (let burst = 0; burst < 6; burst++) {
    await root.getByRole('button', { name: /Add a burst of/ }).click();
    await expect(status).toContainText(/Stored \d+ of \d+ keys/, { timeout: 90_000 });
    if (/Refused: .*you hold/.test((await status.textContent()) ?? '')) break;
  }
  await expect(status).toContainText(/Refused: put refused: you hold (\d+) keys, the most one caller may/);
  const held = Number(/you hold (\d+) keys/.exec((await status.textContent())!)![1]);
  expect(held).toBeGreaterThan(1);
  await expect(root.getByText(new RegExp(`^Your keys \\(${held} of the`))).toBeVisible();

  // After a reload the provider's delegation (auth-client's storage) still signs on the page backend.
  await page.reload();
  root = page.locator('[data-demo="sharding"]');
  await expect(root).toHaveAttribute('data-demo-backend', 'page');
  await root.scrollIntoViewIfNeeded();
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 150_000 });
  await expect(root.locator('[data-principal]')).toHaveAttribute('data-principal', delegated);
  await root.getByLabel('Key', { exact: true }).fill('page-signin-over-cap');
  await root.getByRole('button', { name: 'Add key' }).click();
  await expect(root.getByRole('status')).toContainText(`you hold ${held} keys, the most one caller may`, { timeout: 60_000 });

  expect(toLocalReplica, 'no request reached the local replica after the switch').toEqual([]);
});

test('sharding on the page backend when the provider does not answer: the labelled in-page development identity, capped like any principal', async ({
  page,
}) => {
  test.setTimeout(300_000);
  // The provider npm start named is gone, from this page's point of view.
  const provider = process.env.WG_DEMOS_IDP_URL!;
  await page.route(`${provider}**`, (route) => route.abort('connectionrefused'));
  const root = await openDemo(page, '/patterns/index-bucket-sharding/', 'sharding');
  await root.scrollIntoViewIfNeeded();
  await root.getByLabel('Run on').selectOption('page');
  await expect(root).toHaveAttribute('data-demo-status', 'ready', { timeout: 150_000 });
  await expect(root).toHaveAttribute('data-demo-backend', 'page');
  // What the button will do is said before it is pressed: no provider is promised.
  await expect(root.getByText(/sign in with an in-page development identity \(a key made and kept by this browser; not Internet Identity\)/)).toBeVisible();

  let popups = 0;
  page.on('popup', () => popups++);
  await root.getByRole('button', { name: 'Sign in' }).click();
  await expect(root.getByText(/in-page development identity, kept in this browser/)).toBeVisible();
  expect(popups).toBe(0);
  const saved = await page.evaluate(() => localStorage.getItem('wg-page-dev-identity'));
  const { Ed25519KeyIdentity } = await import('@dfinity/identity');
  const principal = Ed25519KeyIdentity.fromJSON(saved!).getPrincipal().toText();
  await expect(root.locator('[data-principal]')).toHaveAttribute('data-principal', principal);

  const status = root.getByRole('status');
  for (let burst = 0; burst < 6; burst++) {
    await root.getByRole('button', { name: /Add a burst of/ }).click();
    await expect(status).toContainText(/Stored \d+ of \d+ keys/, { timeout: 90_000 });
    if (/Refused: .*you hold/.test((await status.textContent()) ?? '')) break;
  }
  await expect(status).toContainText(/Refused: put refused: you hold (\d+) keys, the most one caller may/);
  // One of the keys it holds, read back: its owner is the in-page identity's principal.
  const mine = (await root.getByText(/^Your keys \(/).textContent())!;
  await root.getByLabel('Key to read').fill(/: (\S+) \(bucket/.exec(mine)![1]);
  await root.getByRole('button', { name: 'Look it up both ways' }).click();
  await expect(root.locator('[data-lookup="index"] dd code').last()).toHaveText(principal, { timeout: 60_000 });
});
