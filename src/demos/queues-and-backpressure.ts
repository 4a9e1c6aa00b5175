// Queues and backpressure demo: a producer canister sends a burst of calls to a consumer
// canister. Without backpressure every call goes out at once and the IC refuses those past its
// queue capacity (they are lost); with the producer's own queue and retries, calls go out in
// windows and every item completes. Each burst is plotted round by round (the producer notes the
// subnet's time after every await, one value per round): calls sent, refused and completed, and
// the producer's own queue.
import { demoActor } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { BurstReport } from '../declarations/queue-producer/queue-producer.did.ts';
import { lineChart } from './shared/chart.ts';
import { append, h } from './shared/dom.ts';
import { formatCount, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';
import { pacingNote, readMetrics } from './shared/replica-metrics.ts';

const BURSTS = [200, 700, 1_000];
const WINDOWS = [50, 100, 200];

function card(report: BurstReport, ms: number): HTMLElement {
  const mode = report.backpressure ? 'backpressure' : 'none';
  const good = report.lost === 0n;
  return h(
    'article',
    {
      class: `wg-card ${report.backpressure ? 'wg-series-2' : 'wg-series-1'}`,
      'data-mode': mode,
      'data-refused': String(report.refused),
      'data-lost': String(report.lost),
      'data-completed': String(report.completed),
    },
    h('h4', {}, report.backpressure ? `With a queue: windows of ${formatCount(report.window)}` : 'Without backpressure'),
    h(
      'dl',
      { class: 'wg-stats' },
      h('dt', {}, 'Items'),
      h('dd', {}, formatCount(report.items)),
      h('dt', {}, 'Calls sent'),
      h('dd', {}, formatCount(report.sent)),
      h('dt', {}, 'Refused by the IC'),
      h('dd', {}, formatCount(report.refused)),
      h('dt', {}, 'Completed'),
      h('dd', {}, formatCount(report.completed)),
      h('dt', {}, 'Rounds'),
      h('dd', {}, formatCount(report.timeline.length)),
      h('dt', {}, 'Time'),
      h('dd', {}, `${formatMs(Number(report.elapsedNanos) / 1e6)} in the canister, ${formatMs(ms)} here`),
    ),
    report.firstRefusal[0] ? h('p', { class: 'wg-card__sub' }, 'First refusal: ', h('code', {}, report.firstRefusal[0])) : null,
    h(
      'p',
      { class: `wg-verdict ${good ? 'wg-verdict--good' : 'wg-verdict--bad'}` },
      good
        ? `Every item completed${report.refused ? `; ${formatCount(report.refused)} refusals were queued again and retried` : ''}.`
        : `${formatCount(report.lost)} items lost: refused and never retried.`,
    ),
  );
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const producer = demoActor(agent, frame.network, 'queue-producer');
  const [limits, metrics] = await Promise.all([producer.limits(), readMetrics(frame.network)]);
  if (!limits.consumer.length) throw new Error('The producer has no consumer yet (npm start wires the two).');

  const latest: Partial<Record<'none' | 'backpressure', { report: BurstReport; ms: number }>> = {};
  let last: BurstReport | undefined;

  const burstSelect = h('select', { id: 'wg-qb-burst' }, ...BURSTS.map((n) => h('option', { value: n, selected: n === 700 }, formatCount(n))));
  const windowSelect = h('select', { id: 'wg-qb-window' }, ...WINDOWS.map((n) => h('option', { value: n, selected: n === 100 }, formatCount(n))));
  const noneButton = h('button', { type: 'button', class: 'wg-button' }, 'Burst without backpressure');
  const queueButton = h('button', { type: 'button', class: 'wg-button' }, 'Burst with a queue and retries');
  const cards = h('div', { class: 'wg-cards' });
  const chart = h('div', {});

  const render = () => {
    cards.replaceChildren(...(['none', 'backpressure'] as const).flatMap((mode) => (latest[mode] ? [card(latest[mode]!.report, latest[mode]!.ms)] : [])));
    if (!last) {
      chart.replaceChildren(h('p', { class: 'wg-card__sub' }, 'Run a burst to see it round by round.'));
      return;
    }
    const points = (pick: (p: BurstReport['timeline'][number]) => bigint) => last!.timeline.map((p, i) => ({ x: i + 1, y: Number(pick(p)) }));
    chart.replaceChildren(
      h('h4', {}, `The latest burst, round by round (${last.backpressure ? 'with a queue' : 'without backpressure'})`),
      lineChart({
        id: 'wg-qb-chart',
        title: 'Calls sent, refused and completed, and the producer’s queue, after each round',
        xLabel: 'Round',
        yLabel: 'Calls',
        xUnit: '',
        yUnit: '',
        pointNoun: ['round', 'rounds'],
        formatY: formatCount,
        seriesHeader: 'Series',
        xFloor: 4,
        yFloor: 100,
        emptyText: 'No rounds recorded.',
        series: [
          { label: 'Sent (accepted by the IC)', className: 'wg-series-2', points: points((p) => p.sent) },
          { label: 'Refused', className: 'wg-series-1', points: points((p) => p.refused) },
          { label: 'Completed', className: 'wg-series-3', points: points((p) => p.completed) },
          ...(last.backpressure ? [{ label: 'Waiting in the producer’s queue', className: 'wg-series-4', points: points((p) => p.queued) }] : []),
        ],
      }),
    );
  };

  const run = (button: HTMLButtonElement, backpressure: boolean) =>
    frame.act(button, async () => {
      const items = Number(burstSelect.value);
      const window = Number(windowSelect.value);
      frame.say(backpressure ? `Sending ${formatCount(items)} calls in windows of ${formatCount(window)}…` : `Sending ${formatCount(items)} calls at once…`);
      const started = performance.now();
      const report = unwrap('queue-producer.burst', await producer.burst(BigInt(items), backpressure, BigInt(backpressure ? window : 0)));
      latest[backpressure ? 'backpressure' : 'none'] = { report, ms: performance.now() - started };
      last = report;
      render();
      frame.say(
        `${formatCount(report.completed)} of ${formatCount(report.items)} items completed; ${formatCount(report.refused)} calls refused, ${formatCount(report.lost)} items lost.`,
      );
    });
  noneButton.addEventListener('click', () => void run(noneButton, false));
  queueButton.addEventListener('click', () => void run(queueButton, true));

  render();
  append(
    frame.body,
    h(
      'p',
      {},
      'A producer canister sends a burst of calls to a consumer canister. The IC holds at most 500 messages in one canister’s queue to another; a call past that is refused on the spot. Send the burst all at once and the refused items are lost; keep them in the producer’s own queue, send a window at a time and retry refusals, and every item gets through.',
    ),
    pacingNote(metrics, frame.network),
    h(
      'div',
      { class: 'wg-controls' },
      h('label', { for: 'wg-qb-burst' }, 'Calls in the burst'),
      burstSelect,
      h('label', { for: 'wg-qb-window' }, 'Window'),
      windowSelect,
      noneButton,
      queueButton,
    ),
    h(
      'p',
      { class: 'wg-card__sub' },
      `One burst at a time, at most ${formatCount(limits.maxItems)} calls, 60 bursts an hour from everyone. A round is one value of the subnet's time as the producer saw it.`,
    ),
    cards,
    chart,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'queues',
    title: 'Live demo: a burst with and without backpressure',
    canisters: ['queue-producer', 'queue-consumer'],
    load,
  });
}
