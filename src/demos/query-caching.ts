// Query caching demo: the same query repeated against one canister, with the replica's query
// cache reporting each call as a hit (nothing executed, 0 instructions) or a miss (the canister
// ran). Changing the canister's state with an update, or asking a query that read the time after
// a new round, makes the next call miss. Hits and misses come from the local replica's metrics
// (/_/metrics), read before and after each call; mainnet does not report them.
import { demoActor } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { Answer } from '../declarations/cached-query/cached-query.did.ts';
import { lineChart } from './shared/chart.ts';
import { append, dataTable, h } from './shared/dom.ts';
import { formatCount, formatInstructions, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';
import { pacingNote, readMetrics } from './shared/replica-metrics.ts';

type Cache = 'hit' | 'miss' | 'unknown';
interface Call {
  n: number;
  method: 'lookup' | 'lookupAt';
  key: number;
  cache: Cache;
  answer: Answer;
  ms: number;
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const canister = demoActor(agent, frame.network, 'cached-query');
  const [first, metrics] = await Promise.all([canister.lookup(1n), readMetrics(frame.network)]);
  unwrap('cached-query.lookup', first);
  const calls: Call[] = [];

  const keySelect = h('select', { id: 'wg-qc-key' }, ...[1, 2, 3].map((k) => h('option', { value: k }, `key ${k}`)));
  const lookupButton = h('button', { type: 'button', class: 'wg-button' }, 'Run the query');
  const timeButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, 'Run the query that reads the time');
  const touchButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, 'Change the state (an update)');
  const table = h('div', {});
  const chart = h('div', {});
  const pacing = pacingNote(metrics, frame.network);

  const render = () => {
    const rows = calls.map((c) =>
      h(
        'tr',
        { 'data-call': String(c.n), 'data-cache': c.cache },
        h('th', { scope: 'row' }, `#${c.n}`),
        h('td', {}, h('code', {}, `${c.method}(${c.key})`)),
        h('td', {}, c.cache === 'hit' ? 'hit: answered from the cache' : c.cache === 'miss' ? 'miss: the canister ran' : 'not reported'),
        h('td', { class: 'num' }, c.cache === 'hit' ? '0' : formatInstructions(c.answer.instructions)),
        h('td', { class: 'num' }, formatCount(c.answer.version)),
        h('td', { class: 'num' }, formatMs(c.ms)),
      ),
    );
    table.replaceChildren(
      dataTable({
        caption: 'Your calls, newest last: what the replica’s cache did and what each call cost the canister',
        columns: ['Call', 'Query', 'Cache', { label: 'Instructions', num: true }, { label: 'State version', num: true }, { label: 'Round trip', num: true }],
        rows,
        empty: 'No calls yet.',
      }),
    );
    chart.replaceChildren(
      lineChart({
        id: 'wg-qc-chart',
        title: 'Instructions each call cost the canister',
        xLabel: 'Call',
        yLabel: 'Instructions',
        xUnit: '',
        pointNoun: ['call', 'calls'],
        seriesHeader: 'Cache',
        xFloor: 8,
        yFloor: 10_000_000,
        emptyText: 'No calls yet.',
        series: [
          {
            label: 'Miss (the canister ran)',
            className: 'wg-series-1',
            points: calls.filter((c) => c.cache !== 'hit').map((c) => ({ x: c.n, y: Number(c.answer.instructions) })),
          },
          { label: 'Hit (nothing ran)', className: 'wg-series-2', points: calls.filter((c) => c.cache === 'hit').map((c) => ({ x: c.n, y: 0 })) },
        ],
      }),
    );
  };

  const query = (button: HTMLButtonElement, method: Call['method']) =>
    frame.act(button, async () => {
      const key = Number(keySelect.value);
      const before = await readMetrics(frame.network);
      const started = performance.now();
      const answer = unwrap(`cached-query.${method}`, await (method === 'lookup' ? canister.lookup(BigInt(key)) : canister.lookupAt(BigInt(key))));
      const ms = performance.now() - started;
      const after = await readMetrics(frame.network);
      let cache: Cache = 'unknown';
      if (before?.cacheHits !== undefined && after?.cacheHits !== undefined && before.cacheMisses !== undefined && after.cacheMisses !== undefined) {
        if (after.cacheHits > before.cacheHits && after.cacheMisses === before.cacheMisses) cache = 'hit';
        else if (after.cacheMisses > before.cacheMisses && after.cacheHits === before.cacheHits) cache = 'miss';
      }
      calls.push({ n: calls.length + 1, method, key, cache, answer, ms });
      render();
      frame.say(
        cache === 'hit'
          ? `Cache hit: the replica answered ${method}(${key}) without running the canister.`
          : cache === 'miss'
            ? `Cache miss: the canister ran ${method}(${key}) (${formatInstructions(answer.instructions)} instructions); the answer is cached now.`
            : 'This network does not report cache hits and misses.',
      );
    });
  lookupButton.addEventListener('click', () => void query(lookupButton, 'lookup'));
  timeButton.addEventListener('click', () => void query(timeButton, 'lookupAt'));
  touchButton.addEventListener('click', () =>
    frame.act(touchButton, async () => {
      const version = unwrap('cached-query.touch', await canister.touch());
      frame.say(`The canister executed an update (state version ${formatCount(version)}): its cached answers are no longer valid.`);
    }),
  );

  render();
  append(
    frame.body,
    h(
      'p',
      {},
      'Each query below does the same few million instructions of work for a key. The replica keeps its answers in a cache keyed on the caller, the canister, the method and the argument. An answer stays valid while the canister executes no update, for at most 600 seconds, and, if the query read the time, only until the next round.',
    ),
    pacing,
    h('div', { class: 'wg-controls' }, h('label', { for: 'wg-qc-key' }, 'Argument'), keySelect, lookupButton, timeButton, touchButton),
    h(
      'p',
      { class: 'wg-card__sub' },
      frame.network.name === 'local'
        ? 'Hits and misses are the replica’s own counters, read before and after each call; someone else querying at the same moment would blur them.'
        : 'Mainnet does not tell a client whether its query was answered from a cache.',
    ),
    table,
    chart,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'query-caching',
    title: 'Live demo: the replica’s query cache, hit and miss',
    canisters: ['cached-query'],
    load,
  });
}
