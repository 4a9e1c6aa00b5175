// Composite queries demo: one search over K partition canisters, answered two ways by the front
// canister: `search` (a composite query: non-replicated, the fan-out happens inside one query
// execution) and `searchUpdate` (an update: replicated inter-canister calls). Side by side: the
// hits, whether both agree, the latency this browser measured, and each partition's instructions.
import { demoActor } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { SearchReport } from '../declarations/composite-front/composite-front.did.ts';
import { append, h } from './shared/dom.ts';
import { formatCount, formatInstructions, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';

const HIT_LIMIT = 10n;

function hitKey(report: SearchReport): string {
  return report.hits.map((hit) => `${hit.partition}:${hit.id}`).join(',');
}

function column(title: string, path: string, report: SearchReport, ms: number): HTMLElement {
  const total = report.partitions.reduce((sum, p) => sum + p.instructions, 0n) + report.frontInstructions;
  return h(
    'section',
    { class: 'wg-card', 'data-path': path, 'data-hits': String(report.hits.length), 'data-total-matches': String(report.totalMatches) },
    h('h4', {}, title),
    h(
      'dl',
      { class: 'wg-stats' },
      h('dt', {}, 'Latency'),
      h('dd', { 'data-latency': String(Math.round(ms)) }, formatMs(ms)),
      h('dt', {}, 'Matches'),
      h('dd', {}, `${formatCount(report.totalMatches)} (showing ${report.hits.length})`),
      h('dt', {}, 'Instructions'),
      h('dd', {}, `${formatInstructions(total)} in total, ${formatInstructions(report.frontInstructions)} in the front`),
    ),
    h(
      'table',
      {},
      h('caption', {}, `Per partition (${path})`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Partition'),
          h('th', { scope: 'col', class: 'num' }, 'Matches'),
          h('th', { scope: 'col', class: 'num' }, 'Instructions'),
        ),
      ),
      h(
        'tbody',
        {},
        ...report.partitions.map((p) =>
          h(
            'tr',
            {},
            h('td', { title: p.canisterId.toText() }, `#${p.partition}`, p.error[0] ? ` (failed: ${p.error[0]})` : ''),
            h('td', { class: 'num' }, formatCount(p.matches)),
            h('td', { class: 'num' }, formatInstructions(p.instructions)),
          ),
        ),
      ),
    ),
  );
}

function hitList(title: string, report: SearchReport): HTMLElement {
  return h(
    'section',
    { class: 'wg-hits-block' },
    h('h4', {}, title),
    h('ol', { class: 'wg-hits' }, ...report.hits.map((hit) => h('li', {}, hit.title, h('span', { class: 'wg-hits__where' }, ` partition ${hit.partition}`)))),
  );
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const front = demoActor(agent, frame.network, 'composite-front');
  const partitions = await front.listPartitions();
  frame.showCanisters(partitions.map((p) => ({ label: `partition ${p.partition}`, id: p.canisterId.toText() })));

  const input = h('input', { id: 'wg-cq-text', type: 'search', value: 'stable memory', maxlength: 100, size: 24 });
  const button = h('button', { type: 'submit', class: 'wg-button' }, 'Search both ways');
  const verdict = h('p', { class: 'wg-verdict', hidden: true });
  const results = h('div', { class: 'wg-columns' });
  const hits = h('div', { class: 'wg-columns' });
  const form = h('form', { class: 'wg-controls' }, h('label', { for: 'wg-cq-text' }, 'Search the documents'), input, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void frame.act(button, async () => {
      const text = input.value.trim();
      if (!text) {
        frame.say('Type a word or two to search for.');
        return;
      }
      frame.say(`Searching ${partitions.length} partitions for "${text}", first as a composite query, then as an update…`);
      // One after the other, so neither measurement includes the other's load on the replica.
      let started = performance.now();
      const viaQuery = unwrap('search', await front.search(text, HIT_LIMIT));
      const queryMs = performance.now() - started;
      started = performance.now();
      const viaUpdate = unwrap('searchUpdate', await front.searchUpdate(text, HIT_LIMIT));
      const updateMs = performance.now() - started;
      const agree = hitKey(viaQuery) === hitKey(viaUpdate) && viaQuery.totalMatches === viaUpdate.totalMatches;
      verdict.hidden = false;
      verdict.className = `wg-verdict ${agree ? 'wg-verdict--good' : 'wg-verdict--bad'}`;
      verdict.dataset.agree = String(agree);
      verdict.textContent = agree
        ? `Both ways found the same ${formatCount(viaQuery.totalMatches)} matches and returned the same ${viaQuery.hits.length} hits. The composite query answered in ${formatMs(queryMs)}, the update in ${formatMs(updateMs)}.`
        : `The two answers differ: ${formatCount(viaQuery.totalMatches)} matches by composite query, ${formatCount(viaUpdate.totalMatches)} by update.`;
      results.replaceChildren(column('Composite query', 'composite query', viaQuery, queryMs), column('Update call', 'update', viaUpdate, updateMs));
      // Identical hits are listed once; different ones side by side, so the difference shows.
      hits.replaceChildren(
        ...(agree
          ? [hitList(`The first ${viaQuery.hits.length} hits (the same both ways)`, viaQuery)]
          : [hitList('Hits by composite query', viaQuery), hitList('Hits by update', viaUpdate)]),
      );
      frame.say(
        `Done: composite query ${formatMs(queryMs)}, update ${formatMs(updateMs)}.` +
          // A local replica has no consensus round, which is where an update's time goes on mainnet.
          (frame.network.name !== 'ic'
            ? ' On this replica an update needs no consensus round, so the two take about as long; on mainnet the update also waits for the subnet to agree, about 2 s.'
            : ''),
      );
    });
  });

  append(
    frame.body,
    h(
      'p',
      {},
      `The front canister splits each search over ${partitions.length} partition canisters (${formatCount(partitions.reduce((n, p) => n + p.documents, 0n))} generated documents in all). Run the same search as a composite query and as an update and compare what comes back, how long it took from this browser, and what each partition spent.`,
    ),
    form,
    verdict,
    results,
    hits,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'composite-queries',
    title: 'Live demo: one search, two ways',
    canisters: ['composite-front'],
    load,
  });
}
