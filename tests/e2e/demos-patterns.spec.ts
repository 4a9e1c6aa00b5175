// The pattern demos beyond the first four, in Chromium against the stack `npm start` brings up
// (playwright.demos.config.ts): each reaches `ready`, the visitor's action runs on real canisters
// and the page shows its live effect. Kept lean: one action per demo, the one the pattern is about.
import { expect, test } from '@playwright/test';
import { expectAccessible, openDemo, screenshot } from './demo-helpers.ts';

test.skip(!process.env.WG_DEMOS_E2E, 'needs the running stack: playwright test -c playwright.demos.config.ts');

test('serialization formats: three encodings round-trip and the charts plot bytes and instructions', async ({ page }) => {
  const root = await openDemo(page, '/patterns/stable-serialization-formats/', 'serialization-formats');
  await root.getByLabel('Records').selectOption('500');
  await root.getByRole('button', { name: 'Write and read back' }).click();
  const table = root.locator('table[data-records="500"]');
  await expect(table).toBeVisible();
  for (const format of ['candid', 'binary', 'json']) {
    await expect(table.locator(`[data-format="${format}"]`)).toHaveAttribute('data-round-trip', 'true');
  }
  const bytes = async (format: string) => Number(await table.locator(`[data-format="${format}"]`).getAttribute('data-bytes'));
  expect(await bytes('json')).toBeGreaterThan(await bytes('binary'));
  // Each chart has one point per format, and says so in words.
  await expect(root.locator('svg[role="img"]')).toHaveCount(3);
  await expect(root.locator('svg[role="img"]').first().locator('circle')).toHaveCount(3);
  await expect(root.locator('svg[role="img"] desc').first()).toContainText('JSON text: 1 measurement, from');
  await expectAccessible(page, 'serialization-formats');
  await screenshot(page, root, 'serialization-formats');
});

test('canister snapshots: a reinstall wipes the records and loading the snapshot brings them all back', async ({ page }) => {
  const root = await openDemo(page, '/patterns/canister-snapshots/', 'canister-snapshots');
  const canister = root.locator('[data-canister="snapshot-target"]');
  const before = Number(await canister.getAttribute('data-records'));
  await root.getByRole('button', { name: 'Add 500 records' }).click();
  await expect(canister).toHaveAttribute('data-records', String(before + 500));
  const checksum = await canister.getAttribute('data-checksum');

  await root.getByRole('button', { name: '1. Take a snapshot' }).click();
  await expect(root.locator('[data-snapshot="taken"]')).toBeVisible();
  expect(Number(await root.locator('[data-snapshot-bytes]').getAttribute('data-snapshot-bytes'))).toBeGreaterThan(0);
  await root.getByRole('button', { name: '2. Reinstall by mistake' }).click();
  await expect(root.locator('[data-broken]')).toBeVisible();
  await expect(canister).toHaveAttribute('data-records', '0');
  await root.getByRole('button', { name: '3. Load the snapshot' }).click();
  await expect(root.locator('[data-restored]')).toHaveAttribute('data-restored', 'true');
  await expect(canister).toHaveAttribute('data-records', String(before + 500));
  await expect(canister).toHaveAttribute('data-checksum', checksum!);
  await expect(root.locator('tr[data-step]')).toHaveCount(3);
  await expectAccessible(page, 'canister-snapshots');
  await screenshot(page, root, 'canister-snapshots');
});

test('chunked upload: one install_code over 2 MiB is refused, the chunked install succeeds', async ({ page }) => {
  const root = await openDemo(page, '/patterns/chunked-wasm-upload/', 'chunked-upload');
  expect(Number(await root.locator('[data-module-bytes]').getAttribute('data-module-bytes'))).toBeGreaterThan(2 * 1024 * 1024);
  await root.getByRole('button', { name: 'Send it as one install_code' }).click();
  await expect(root.locator('[data-single]')).toHaveAttribute('data-single', 'refused');
  await expect(root.locator('[data-single]')).toContainText('413');

  await root.getByRole('button', { name: 'Upload in chunks and install' }).click();
  await expect(root.locator('[data-chunked]')).toHaveAttribute('data-chunked', 'installed');
  await expect(root.locator('[data-chunked]')).toHaveAttribute('data-chunks', '3');
  await expect(root.locator('tr[data-hash-matches="true"]')).toHaveCount(3);
  await expect(root.locator('progress')).toHaveAttribute('value', (await root.locator('progress').getAttribute('max')) ?? '');
  await expectAccessible(page, 'chunked-upload');
  await screenshot(page, root, 'chunked-upload');
});

test('optimistic UI: the note shows before the certified reply, and a refused one is taken back', async ({ page }) => {
  const root = await openDemo(page, '/patterns/optimistic-ui/', 'optimistic-ui');
  await root.getByLabel('Note', { exact: true }).fill(`A note from the browser test ${Date.now()}`);
  await root.getByRole('button', { name: 'Add optimistically' }).click();
  const first = root.locator('tr[data-run="1"]');
  await expect(first).toHaveAttribute('data-outcome', 'kept');
  expect(Number(await first.getAttribute('data-first-ms'))).toBeLessThan(Number(await first.getAttribute('data-certified-ms')));

  await root.getByRole('button', { name: 'Repeat the latest note (refused)' }).click();
  await expect(root.locator('tr[data-run="2"]')).toHaveAttribute('data-outcome', 'rolled back');
  await expect(root.locator('[data-state="rolled back"]')).toBeVisible();
  await expect(root.getByRole('status')).toContainText('taken back');
  await expectAccessible(page, 'optimistic-ui');
  await screenshot(page, root, 'optimistic-ui');
});

test('queues: a burst past the queue capacity loses calls without backpressure, none with a queue', async ({ page }) => {
  const root = await openDemo(page, '/patterns/queues-and-backpressure/', 'queues');
  await root.getByLabel('Calls in the burst').selectOption('700');
  await root.getByRole('button', { name: 'Burst without backpressure' }).click();
  const none = root.locator('[data-mode="none"]');
  await expect(none).toBeVisible();
  expect(Number(await none.getAttribute('data-refused'))).toBeGreaterThan(0);
  expect(Number(await none.getAttribute('data-lost'))).toBeGreaterThan(0);
  await root.getByRole('button', { name: 'Burst with a queue and retries' }).click();
  const queued = root.locator('[data-mode="backpressure"]');
  await expect(queued).toHaveAttribute('data-completed', '700');
  await expect(queued).toHaveAttribute('data-lost', '0');
  await expect(root.locator('svg[role="img"] desc')).toContainText('Completed:');
  await expectAccessible(page, 'queues');
  await screenshot(page, root, 'queues');
});

test('bounded-wait calls: the guaranteed call waits, the bounded-wait call returns SYS_UNKNOWN and the job still finishes', async ({ page }) => {
  const root = await openDemo(page, '/patterns/bounded-wait-calls/', 'bounded-wait');
  await root.getByLabel('Job length').selectOption('3');
  await root.getByLabel('Timeout').selectOption('1');
  await root.getByRole('button', { name: 'Bounded-wait call' }).click();
  const bounded = root.locator('[data-kind="bounded-wait"]');
  await expect(bounded).toHaveAttribute('data-outcome', 'SYS_UNKNOWN');
  await expect(bounded.locator('[data-later]')).toHaveAttribute('data-later', 'finished');
  await root.getByRole('button', { name: 'Guaranteed-response call' }).click();
  await expect(root.locator('[data-kind="guaranteed"]')).toHaveAttribute('data-outcome', 'replied');
  await expectAccessible(page, 'bounded-wait');
  await screenshot(page, root, 'bounded-wait');
});

test('query caching: a repeated query is a hit that costs nothing, and misses after an update', async ({ page }) => {
  const root = await openDemo(page, '/patterns/query-caching/', 'query-caching');
  await root.getByLabel('Argument').selectOption('2');
  const run = root.getByRole('button', { name: 'Run the query', exact: true });
  await run.click();
  await expect(root.locator('tr[data-call="1"]')).toHaveAttribute('data-cache', 'miss');
  await run.click();
  await expect(root.locator('tr[data-call="2"]')).toHaveAttribute('data-cache', 'hit');
  await root.getByRole('button', { name: 'Change the state (an update)' }).click();
  await expect(root.getByRole('status')).toContainText('no longer valid');
  await run.click();
  await expect(root.locator('tr[data-call="3"]')).toHaveAttribute('data-cache', 'miss');
  await expectAccessible(page, 'query-caching');
  await screenshot(page, root, 'query-caching');
});

test('horizontal scaling: jobs per round rise from 1 to 4 canisters and stop at the threads with 8', async ({ page }) => {
  const root = await openDemo(page, '/patterns/horizontal-scaling/', 'horizontal-scaling');
  // One run at a time (the front refuses a second): wait for each row before the next.
  for (const n of [1, 4, 8]) {
    await root.getByRole('button', { name: `Run on ${n} canister${n === 1 ? '' : 's'}`, exact: true }).click();
    await expect(root.locator(`tr[data-canisters="${n}"]`)).toHaveAttribute('data-failed', '0', { timeout: 90_000 });
  }
  const perRound = async (n: number) => Number(await root.locator(`tr[data-canisters="${n}"]`).getAttribute('data-per-round'));
  const [one, four, eight] = [await perRound(1), await perRound(4), await perRound(8)];
  expect(one).toBeGreaterThan(0);
  expect(four).toBeGreaterThan(one);
  // Eight canisters share the same four threads: no more jobs per round than four.
  expect(eight).toBeLessThanOrEqual(four);
  await expect(root.locator('[data-verdict="shown"]')).toContainText('Eight ran no more than four');
  await expect(root.locator('svg[role="img"] desc')).toContainText('Measured: 3 runs');
  await expectAccessible(page, 'horizontal-scaling');
  await screenshot(page, root, 'horizontal-scaling');
});
