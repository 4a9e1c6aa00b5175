// Bounded-wait calls demo: a caller canister starts the same slow job on a callee canister as a
// guaranteed-response call (it waits however long the job takes) and as a bounded-wait call with
// the timeout the reader picks (the system answers SYS_UNKNOWN when the deadline passes first).
// After a SYS_UNKNOWN the page keeps asking the callee whether that job finished: it usually
// does, which is exactly what the caller could not know.
import { demoActor } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { CallReport } from '../declarations/bounded-caller/bounded-caller.did.ts';
import { append, h } from './shared/dom.ts';
import { formatCount, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';
import { pacingNote, readMetrics } from './shared/replica-metrics.ts';

const JOB_SECONDS = [3, 6, 10];
const TIMEOUTS = [1, 2, 5, 15];

function seconds(nanos: bigint): string {
  return formatMs(Number(nanos) / 1e6);
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const caller = demoActor(agent, frame.network, 'bounded-caller');
  const callee = demoActor(agent, frame.network, 'slow-callee');
  // Fails like any other call when the network is down; the answer itself is not needed.
  const [, metrics] = await Promise.all([callee.job(0n), readMetrics(frame.network)]);

  const jobSelect = h('select', { id: 'wg-bw-job' }, ...JOB_SECONDS.map((n) => h('option', { value: n, selected: n === 6 }, `${n} s`)));
  const timeoutSelect = h('select', { id: 'wg-bw-timeout' }, ...TIMEOUTS.map((n) => h('option', { value: n, selected: n === 2 }, `${n} s`)));
  const guaranteedButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, 'Guaranteed-response call');
  const boundedButton = h('button', { type: 'button', class: 'wg-button' }, 'Bounded-wait call');
  const results = h('div', { class: 'wg-cards' });
  const cards = new Map<string, HTMLElement>();

  const render = (report: CallReport, laterJob?: { finishedAfter: bigint; steps: bigint } | 'still running') => {
    const unknown = report.outcome === 'SYS_UNKNOWN';
    const job = report.job[0];
    const card = h(
      'article',
      {
        class: `wg-card ${report.kind === 'guaranteed' ? 'wg-series-1' : 'wg-series-2'}`,
        'data-kind': report.kind,
        'data-outcome': report.outcome,
        'data-job': String(report.jobId),
      },
      h('h4', {}, report.kind === 'guaranteed' ? 'Guaranteed response' : `Bounded wait, timeout ${report.timeoutSeconds} s`),
      h(
        'dl',
        { class: 'wg-stats' },
        h('dt', {}, 'Job'),
        h('dd', {}, `#${report.jobId}`),
        h('dt', {}, 'Answer'),
        h('dd', {}, h('code', {}, report.outcome), report.message ? ` (${report.message})` : ''),
        h('dt', {}, 'Caller waited'),
        h('dd', {}, seconds(report.elapsedNanos)),
        job ? h('dt', {}, 'Job took') : null,
        job ? h('dd', {}, `${seconds(job.finishedAt - job.startedAt)} in ${formatCount(job.steps)} steps`) : null,
      ),
      unknown
        ? h(
            'div',
            {},
            h(
              'p',
              { class: 'wg-verdict wg-verdict--bad' },
              `The system answered SYS_UNKNOWN at the first round that began after the ${report.timeoutSeconds} s deadline, ${seconds(report.elapsedNanos)} after the call (on this replica a round crowded with the callee's steps lasts seconds). SYS_UNKNOWN says nothing about the job: it may have run, may run later, or never.`,
            ),
            h(
              'p',
              { class: 'wg-card__sub', 'data-later': laterJob === undefined ? 'asking' : laterJob === 'still running' ? 'not-yet' : 'finished' },
              laterJob === undefined
                ? 'Asking the callee whether it did the job anyway…'
                : laterJob === 'still running'
                  ? 'The callee has not reported the job as finished (yet).'
                  : `The callee did finish it, ${seconds(laterJob.finishedAfter)} after the call began: work done that the caller cannot count on. Retrying blindly would do it twice; make such calls idempotent or check before retrying.`,
            ),
          )
        : h(
            'p',
            { class: 'wg-verdict wg-verdict--good' },
            report.outcome === 'replied' ? 'The reply came: the caller knows the job ran, however long it took.' : `The call failed with ${report.outcome}.`,
          ),
    );
    const key = report.kind;
    const old = cards.get(key);
    cards.set(key, card);
    if (old) old.replaceWith(card);
    else results.append(card);
  };

  const run = (button: HTMLButtonElement, timeout: number) =>
    frame.act(button, async () => {
      const jobSeconds = Number(jobSelect.value);
      frame.say(timeout ? `Calling with a ${timeout} s timeout for a ${jobSeconds} s job…` : `Calling and waiting for a ${jobSeconds} s job…`);
      const report = unwrap('bounded-caller.call', await caller.call(BigInt(jobSeconds), BigInt(timeout)));
      render(report);
      frame.say(
        `${report.kind === 'guaranteed' ? 'Guaranteed-response' : 'Bounded-wait'} call answered ${report.outcome} after ${seconds(report.elapsedNanos)}.`,
      );
      if (report.outcome !== 'SYS_UNKNOWN') return;
      // Poll the callee (queries, free) for up to the job's length plus a margin.
      const deadline = performance.now() + (jobSeconds + 10) * 1000;
      while (performance.now() < deadline) {
        const done = (await callee.job(report.jobId))[0];
        if (done) {
          render(report, { finishedAfter: done.finishedAt - report.startedAt, steps: done.steps });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      render(report, 'still running');
    });
  guaranteedButton.addEventListener('click', () => void run(guaranteedButton, 0));
  boundedButton.addEventListener('click', () => void run(boundedButton, Number(timeoutSelect.value)));

  append(
    frame.body,
    h(
      'p',
      {},
      'A caller canister starts a job on a deliberately slow callee canister. A guaranteed-response call waits for the reply however long it takes. A bounded-wait call carries a deadline: when it passes first, the system answers the caller with SYS_UNKNOWN, and the caller cannot tell whether the job ran.',
    ),
    pacingNote(metrics, frame.network),
    h(
      'div',
      { class: 'wg-controls' },
      h('label', { for: 'wg-bw-job' }, 'Job length'),
      jobSelect,
      h('label', { for: 'wg-bw-timeout' }, 'Timeout'),
      timeoutSelect,
      guaranteedButton,
      boundedButton,
    ),
    h(
      'p',
      { class: 'wg-card__sub' },
      'The job awaits itself until that much of the subnet’s time has passed. Jobs of at most 20 s, 4 at once, 120 calls an hour from everyone.',
    ),
    results,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'bounded-wait',
    title: 'Live demo: waiting for a slow callee, with and without a deadline',
    canisters: ['bounded-caller', 'slow-callee'],
    load,
  });
}
