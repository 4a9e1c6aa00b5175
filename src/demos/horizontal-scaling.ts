// Horizontal-scaling demo: the scaling front runs the same workload (32 jobs of 1.8 billion
// instructions) over the first 1, 2, 4 or 8 of its worker canisters. Every job answers with the
// subnet's time of the round it ran in, so the front reports how many rounds the workload took
// and how many jobs completed in each; the page divides and plots jobs per round against the
// canister count. Nothing here is computed from a model: rounds are the subnet's own.
//
// Why the jobs are this heavy (the subnet is not scaled down): a subnet caps each execution
// thread at 7 billion instructions a round and runs four threads, one message per canister at a
// time. Light jobs all finish in the first round whatever the canister count, so the threads'
// cap only shows when rounds are full. Jobs just under the 2 billion slice fill a thread's round
// four at a time; 32 jobs are more than four full threads run in one round, so the plateau from
// four to eight canisters is the threads' cap. One run is about 58 billion counted instructions:
// seconds of computation on the local replica or in this page, which the demo says up front.
import { demoActor } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { RunReport } from '../declarations/scaling-front/scaling-front.did.ts';
import { lineChart } from './shared/chart.ts';
import { append, dataTable, h } from './shared/dom.ts';
import { formatCount, formatInstructions, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';
import { pacingNote, readMetrics } from './shared/replica-metrics.ts';

const COUNTS = [1, 2, 4, 8] as const;

/** Jobs completed per round: the workload over the rounds the workers ran it in. */
export function jobsPerRound(report: Pick<RunReport, 'jobs' | 'rounds'>): number {
  return report.rounds === 0n ? 0 : Number(report.jobs) / Number(report.rounds);
}

function row(report: RunReport, ms: number): HTMLTableRowElement {
  const perRound = jobsPerRound(report);
  return h(
    'tr',
    {
      'data-canisters': String(report.canisters),
      'data-rounds': String(report.rounds),
      'data-per-round': String(perRound),
      'data-failed': String(report.failed),
    },
    h('th', { scope: 'row' }, formatCount(report.canisters)),
    h('td', { class: 'num' }, formatCount(report.rounds)),
    h('td', { class: 'num' }, perRound.toLocaleString('en-US', { maximumFractionDigits: 1 })),
    h('td', {}, report.perRound.map((r) => formatCount(r.completed)).join(' + ')),
    h('td', { class: 'num' }, formatInstructions(report.instructions)),
    h('td', { class: 'num' }, formatMs(ms)),
  );
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const front = demoActor(agent, frame.network, 'scaling-front');
  const [limits, metrics] = await Promise.all([front.limits(), readMetrics(frame.network)]);
  if (limits.workers < limits.maxWorkers)
    throw new Error(`The scaling front has ${limits.workers} of its ${limits.maxWorkers} workers (npm start creates them).`);
  const workers = await front.listWorkers();
  frame.showCanisters(workers.map((w) => ({ label: `scaling-worker ${w.index}`, id: w.canisterId.toText() })));

  const threads = metrics?.threads;
  const results = new Map<number, { report: RunReport; ms: number }>();
  const buttons = COUNTS.map((n) => h('button', { type: 'button', class: 'wg-button', 'data-run': String(n) }, `Run on ${n} canister${n === 1 ? '' : 's'}`));
  const allButton = h('button', { type: 'button', class: 'wg-button' }, 'Run all four');
  const table = h('div', {});
  const chart = h('div', {});
  const verdict = h('p', { class: 'wg-verdict', 'data-verdict': '' });

  /** What the measured runs say, in words: the gain up to four canisters, and what eight added. */
  const describe = (): string => {
    const rate = (n: number) => (results.has(n) ? jobsPerRound(results.get(n)!.report) : undefined);
    const [one, four, eight] = [rate(1), rate(4), rate(8)];
    const parts: string[] = [];
    if (one && four) parts.push(`Four canisters ran ${(four / one).toLocaleString('en-US', { maximumFractionDigits: 1 })} times the jobs per round of one.`);
    if (four && eight !== undefined)
      parts.push(
        eight <= four
          ? `Eight ran no more than four: with ${threads ?? 'four'} execution threads, only ${threads ?? 'four'} canisters execute at a time and the others wait for a thread.`
          : `Eight ran more than four: this subnet has ${threads ?? 'more than four'} execution threads.`,
      );
    return parts.join(' ');
  };

  const render = () => {
    const done = COUNTS.filter((n) => results.has(n)).map((n) => results.get(n)!);
    table.replaceChildren(
      dataTable({
        caption: `The same ${limits.jobs} jobs on 1, 2, 4 and 8 canisters, as the subnet ran them`,
        columns: [
          'Canisters',
          { label: 'Rounds', num: true },
          { label: 'Jobs per round', num: true },
          'Jobs in each round',
          { label: 'Instructions', num: true },
          { label: 'Time here', num: true },
        ],
        rows: done.map(({ report, ms }) => row(report, ms)),
        empty: 'No run yet.',
      }),
    );
    chart.replaceChildren(
      lineChart({
        id: 'wg-hs-chart',
        title: 'Jobs completed per round against the number of canisters',
        xLabel: 'Canisters',
        yLabel: 'Jobs per round',
        xUnit: ' canisters',
        yUnit: ' jobs per round',
        pointNoun: ['run', 'runs'],
        formatY: (y) => y.toLocaleString('en-US', { maximumFractionDigits: 1 }),
        seriesHeader: 'Series',
        xFloor: 8,
        // The axis ends at the front's last worker, not at the round 10 above it.
        xMax: Number(limits.maxWorkers),
        yFloor: 20,
        emptyText: 'No run yet.',
        series: [{ label: 'Measured', className: 'wg-series-2', points: done.map(({ report }) => ({ x: Number(report.canisters), y: jobsPerRound(report) })) }],
      }),
    );
    const words = describe();
    verdict.textContent = words;
    verdict.hidden = words === '';
    verdict.dataset.verdict = words === '' ? '' : 'shown';
  };

  const runOne = async (n: number) => {
    frame.say(`Running ${limits.jobs} jobs on ${n} canister${n === 1 ? '' : 's'}…`);
    const started = performance.now();
    const report = unwrap('scaling-front.run', await front.run(BigInt(n)));
    const ms = performance.now() - started;
    results.set(n, { report, ms });
    render();
    frame.say(
      `${n} canister${n === 1 ? '' : 's'}: ${limits.jobs} jobs in ${formatCount(report.rounds)} round${report.rounds === 1n ? '' : 's'}, ${jobsPerRound(report)} jobs per round.`,
    );
  };
  COUNTS.forEach((n, i) => buttons[i].addEventListener('click', () => frame.act(buttons[i], () => runOne(n))));
  allButton.addEventListener(
    'click',
    () =>
      void frame.act(allButton, async () => {
        for (const n of COUNTS) await runOne(n);
      }),
  );

  render();
  append(
    frame.body,
    h(
      'p',
      {},
      `The same workload, ${limits.jobs} jobs, spread round-robin over 1, 2, 4 or 8 worker canisters. A canister runs one message at a time, so more canisters mean more jobs at once, but only as many canisters execute together as the subnet has execution threads. Each job answers with the round it ran in; the table counts the rounds.`,
    ),
    h(
      'p',
      { class: 'wg-card__sub' },
      `Each job is 1.8 billion instructions, on purpose: the replica keeps the IC's own figures (7 billion instructions per thread and round, ${threads ? `${threads} execution threads here` : 'four execution threads on an application subnet'}, a 2 billion slice), and the threads' cap only shows once rounds are full. Four jobs fill a thread's round, and the workload is more than four full threads finish in one round. One run is about 58 billion counted instructions: seconds of real computation here, one run at a time, 20 runs an hour from everyone.`,
    ),
    pacingNote(metrics, frame.network),
    h('div', { class: 'wg-controls' }, ...buttons, allButton),
    chart,
    verdict,
    table,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'horizontal-scaling',
    title: 'Live demo: one workload over 1, 2, 4 and 8 canisters',
    canisters: ['scaling-front'],
    load,
  });
}
