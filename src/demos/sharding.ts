// Sharding demo: an index canister routes keys to bucket canisters it creates as they fill. The
// visitor signs in (auth-client: Internet Identity on mainnet, the dev identity provider locally),
// adds keys or a burst of them, watches buckets appear on a live map, and reads a key back two
// ways: through the index (one composite query) and directly (ask the index where, then the bucket).
// Writing needs a principal of one's own: the index caps keys per caller, and keys belong to
// whoever stored them first, so anonymous visitors would all share one quota.
import type { ActorSubclass, Identity } from '@dfinity/agent';
import { agentFor } from '../lib/ic/agent.ts';
import { identityNote, signIn, signInLabel, signOut, signedInIdentity } from '../lib/ic/auth.ts';
import { bucketActor, demoActor, type ShardingIndexService } from '../lib/ic/canisters.ts';
import { CanisterRefusal, unwrap } from '../lib/ic/errors.ts';
import type { BucketStatsReport, Config, Entry, Location } from '../declarations/sharding-index/sharding-index.did.ts';
import { append, h } from './shared/dom.ts';
import { formatBytes, formatCount, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';

const BURST = 5;
const LIVE_REFRESH_MS = 5_000;
/** The longest "try again in" a put waits out by itself (the index asks for 1 s while it creates a bucket). */
const RETRY_WITHIN_SECONDS = 5;

async function load(frame: DemoFrame): Promise<void> {
  const anonymousIndex = demoActor(await frame.agent(), frame.network, 'sharding-index');
  let identity: Identity | undefined = await signedInIdentity(frame.network);
  let ownIndex: ActorSubclass<ShardingIndexService> | undefined;
  const config: Config = await anonymousIndex.getConfig();
  let report: BucketStatsReport = await anonymousIndex.bucketStats();
  let mine: Location[] = [];

  const who = h('p', { class: 'wg-demo__who' });
  const signInButton = h('button', { type: 'button', class: 'wg-button' });
  const keyInput = h('input', { id: 'wg-sh-key', type: 'text', maxlength: 64, size: 14, placeholder: 'a key' });
  const valueInput = h('input', { id: 'wg-sh-value', type: 'text', maxlength: 200, size: 18, placeholder: 'its value' });
  const addButton = h('button', { type: 'submit', class: 'wg-button' }, 'Add key');
  const burstButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, `Add a burst of ${BURST} keys`);
  const deleteButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, 'Delete my keys');
  const map = h('ol', { class: 'wg-buckets', 'aria-label': 'Buckets' });
  const mapSummary = h('p', { class: 'wg-map-summary' });
  const mineList = h('p', { class: 'wg-mine' });
  const lookupInput = h('input', { id: 'wg-sh-lookup', type: 'text', maxlength: 64, size: 14 });
  const lookupButton = h('button', { type: 'submit', class: 'wg-button' }, 'Look it up both ways');
  const lookupResults = h('div', { class: 'wg-columns' });

  const setIdentity = async (next: Identity | undefined) => {
    identity = next;
    ownIndex = next ? demoActor(await agentFor(frame.network, next), frame.network, 'sharding-index') : undefined;
    mine = ownIndex ? await ownIndex.myKeys() : [];
  };

  const renderWho = () => {
    const signedIn = !!identity;
    who.replaceChildren(
      signedIn
        ? h(
            'span',
            {},
            'Signed in as ',
            h('code', { 'data-principal': identity!.getPrincipal().toText() }, identity!.getPrincipal().toText()),
            identityNote(identity) ? ` (${identityNote(identity)})` : '',
          )
        : `Reading is open to everyone. To add keys, sign in with ${signInLabel(frame.network)}: keys belong to the principal that stored them, at most ${formatCount(config.maxEntriesPerCaller)} each.`,
    );
    signInButton.textContent = signedIn ? 'Sign out' : 'Sign in';
    for (const control of [keyInput, valueInput, addButton, burstButton, deleteButton]) control.disabled = !signedIn;
  };

  const renderMap = () => {
    const rows = report.buckets;
    frame.showCanisters(rows.map(({ info }) => ({ label: `bucket ${info.bucket}`, id: info.bucketId.toText() })));
    mapSummary.textContent =
      `${rows.length} bucket${rows.length === 1 ? '' : 's'} of at most ${formatCount(config.maxBuckets)}, ${formatCount(config.bucketCapacity)} keys each; ` +
      `the index routes ${formatCount(report.index.keys)} keys (its heap: ${formatBytes(report.index.memory.heapBytes)}).`;
    map.dataset.buckets = String(rows.length);
    map.dataset.indexKeys = String(report.index.keys);
    map.replaceChildren(
      ...(rows.length
        ? rows.map(({ info, stats, error }) => {
            const keys = Number(stats[0]?.keys ?? info.keys);
            const capacity = Number(info.capacity);
            return h(
              'li',
              { class: 'wg-bucket', 'data-bucket': String(info.bucket), 'data-keys': String(keys) },
              h('strong', {}, `Bucket ${info.bucket}`),
              h(
                'div',
                { class: 'wg-fill', role: 'img', 'aria-label': `${keys} of ${capacity} keys` },
                h('span', { style: `width: ${Math.min(100, (keys / capacity) * 100)}%` }),
              ),
              h('div', {}, `${keys} of ${capacity} keys`),
              h('div', {}, stats[0] ? `heap ${formatBytes(stats[0].memory.heapBytes)}` : `no stats: ${error[0] ?? 'unknown'}`),
              h('code', {}, info.bucketId.toText()),
            );
          })
        : [h('li', { class: 'wg-bucket' }, 'No bucket yet: the index creates the first one with the first key.')]),
    );
    mineList.replaceChildren(
      identity
        ? mine.length
          ? `Your keys (${mine.length} of the ${formatCount(config.maxEntriesPerCaller)} one principal may hold): ${mine.map((l) => `${l.key} (bucket ${l.bucket})`).join(', ')}.`
          : `You have no keys yet; one principal may hold ${formatCount(config.maxEntriesPerCaller)}.`
        : '',
    );
  };

  const refresh = async () => {
    [report, mine] = await Promise.all([anonymousIndex.bucketStats(), ownIndex ? ownIndex.myKeys() : Promise.resolve([])]);
    renderMap();
  };

  const put = async (key: string, value: string): Promise<boolean> => {
    // A put that lands while the index creates a bucket is told to retry in a moment. Only such
    // short waits are waited out: a spent hourly share says "in an hour", which is an answer to
    // show, not a reason to keep the button busy.
    for (let attempt = 0; ; attempt++) {
      try {
        const placed = unwrap('put', await ownIndex!.put(key, value));
        return placed.created;
      } catch (error) {
        if (error instanceof CanisterRefusal && error.kind === 'rateLimited' && (error.retryAfterSeconds ?? 1) <= RETRY_WITHIN_SECONDS && attempt < 5) {
          await new Promise((r) => setTimeout(r, (error.retryAfterSeconds ?? 1) * 1000));
          continue;
        }
        throw error;
      }
    }
  };

  signInButton.addEventListener('click', () =>
    frame.act(signInButton, async () => {
      if (identity) {
        await signOut();
        await setIdentity(undefined);
        frame.say('Signed out.');
      } else {
        frame.say('Waiting for the sign-in window…');
        await setIdentity(await signIn(frame.network));
        frame.say(`Signed in as ${identity!.getPrincipal().toText()}.`);
      }
      renderWho();
      renderMap();
    }),
  );

  const addForm = h(
    'form',
    { class: 'wg-controls' },
    h('label', { for: 'wg-sh-key' }, 'Key'),
    keyInput,
    h('label', { for: 'wg-sh-value' }, 'Value'),
    valueInput,
    addButton,
    burstButton,
    deleteButton,
  );
  addForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void frame.act(addButton, async () => {
      const key = keyInput.value.trim();
      if (!key) return frame.say('Type a key first.');
      const before = report.buckets.length;
      await put(key, valueInput.value);
      await refresh();
      lookupInput.value = key;
      frame.say(`Stored "${key}".${report.buckets.length > before ? ` The index created bucket ${report.buckets.length - 1} for it.` : ''}`);
    });
  });

  burstButton.addEventListener('click', () =>
    frame.act(burstButton, async () => {
      const prefix = identity!.getPrincipal().toText().slice(0, 5);
      const stamp = Date.now().toString(36).slice(-4);
      const before = report.buckets.length;
      frame.say(`Adding ${BURST} keys at once…`);
      const keys = Array.from({ length: BURST }, (_, i) => `${prefix}-${stamp}-${i + 1}`);
      const settled = await Promise.allSettled(keys.map((key, i) => put(key, `value ${i + 1} from a burst`)));
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      await refresh();
      lookupInput.value = keys[0];
      const created = report.buckets.length - before;
      frame.say(
        `Stored ${BURST - failed.length} of ${BURST} keys${created > 0 ? `; the index created ${created} new bucket${created === 1 ? '' : 's'}` : ''}.` +
          (failed.length ? ` Refused: ${(failed[0].reason as Error).message}` : ''),
      );
    }),
  );

  // Buckets are shared by every visitor and capped in number; giving keys back keeps the demo
  // usable for the next person (and frees this principal's quota).
  deleteButton.addEventListener('click', () =>
    frame.act(deleteButton, async () => {
      const keys = mine.map((location) => location.key);
      if (!keys.length) return frame.say('You have no keys to delete.');
      frame.say(`Deleting your ${keys.length} keys…`);
      const settled = await Promise.allSettled(keys.map(async (key) => unwrap('delete', await ownIndex!.delete(key))));
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      await refresh();
      frame.say(`Deleted ${keys.length - failed.length} of ${keys.length} keys.${failed.length ? ` Refused: ${(failed[0].reason as Error).message}` : ''}`);
    }),
  );

  const lookupForm = h('form', { class: 'wg-controls' }, h('label', { for: 'wg-sh-lookup' }, 'Key to read'), lookupInput, lookupButton);
  lookupForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void frame.act(lookupButton, async () => {
      const key = lookupInput.value.trim();
      if (!key) return frame.say('Type the key to read.');
      const readDirect = async (): Promise<{ result: { ok: Entry } | { err: unknown }; hops: number }> => {
        const located = await anonymousIndex.locate(key);
        if (!('ok' in located)) return { result: located, hops: 1 };
        return { result: await bucketActor(await frame.agent(), located.ok.bucketId).get(key), hops: 2 };
      };
      // Each way runs twice and the second is timed: the agent's first query to a canister also
      // fetches and checks the subnet's node keys, a one-off cost that is not the pattern's.
      await Promise.all([anonymousIndex.get(key), readDirect()]);
      let started = performance.now();
      const viaIndex = await anonymousIndex.get(key);
      const indexMs = performance.now() - started;
      started = performance.now();
      const { result: direct, hops } = await readDirect();
      const directMs = performance.now() - started;
      const card = (title: string, path: string, result: { ok: Entry } | { err: unknown }, ms: number, how: string) =>
        h(
          'section',
          { class: 'wg-card', 'data-lookup': path, 'data-found': String('ok' in result) },
          h('h4', {}, title),
          h('p', { class: 'wg-card__sub' }, how),
          'ok' in result
            ? h(
                'dl',
                { class: 'wg-stats' },
                h('dt', {}, 'Value'),
                h('dd', { 'data-value': result.ok.value }, result.ok.value || '(empty)'),
                h('dt', {}, 'Bucket'),
                h('dd', {}, `${result.ok.bucket} `, h('code', {}, result.ok.bucketId.toText())),
                h('dt', {}, 'Owner'),
                h('dd', {}, h('code', {}, result.ok.owner.toText())),
                h('dt', {}, 'Latency'),
                h('dd', {}, formatMs(ms)),
              )
            : h('p', {}, `Not found (${formatMs(ms)}): ${Object.values((result as { err: Record<string, string> }).err)[0]}`),
        );
      lookupResults.replaceChildren(
        card('Through the index', 'index', viaIndex, indexMs, 'One composite query: the index asks the bucket for you.'),
        card(
          'Directly from the bucket',
          'direct',
          direct,
          directMs,
          `${hops === 2 ? 'Two' : 'One'} quer${hops === 2 ? 'ies' : 'y'}: locate at the index, then get at the bucket.`,
        ),
      );
      frame.say(`Read "${key}": through the index ${formatMs(indexMs)}, directly ${formatMs(directMs)}.`);
    });
  });

  await setIdentity(identity);
  renderWho();
  renderMap();

  // The map is live: other visitors add keys too. A quiet refresh every few seconds while the page
  // is visible; it stops once this drawing of the demo is gone (Retry draws a new one).
  let refreshing = false;
  const timer = setInterval(() => {
    if (!map.isConnected && frame.root.getAttribute('data-demo-status') !== 'loading') return clearInterval(timer);
    if (refreshing || document.visibilityState !== 'visible' || frame.root.getAttribute('data-demo-status') !== 'ready') return;
    refreshing = true;
    // A failed background refresh stays silent: the next click reports the problem properly.
    refresh()
      .catch(() => undefined)
      .finally(() => (refreshing = false));
  }, LIVE_REFRESH_MS);
  append(
    frame.body,
    h(
      'p',
      {},
      `The index canister puts new keys into its newest bucket and creates the next bucket canister when that one holds ${formatCount(config.bucketCapacity)} keys. Old keys never move.`,
    ),
    h('div', { class: 'wg-controls' }, who, signInButton),
    addForm,
    mapSummary,
    map,
    mineList,
    lookupForm,
    lookupResults,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'sharding',
    title: 'Live demo: an index that grows buckets',
    canisters: ['sharding-index'],
    load,
  });
}
