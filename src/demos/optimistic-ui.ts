// Optimistic UI demo: the same action, adding a note to a shared list (an update call), done two
// ways. Optimistically, the note appears the moment the visitor clicks and is marked pending
// until the certified reply confirms it, or taken back if the canister refuses it; the other
// way, nothing changes until the certified reply is in. Each run records the time to the first
// visible change and to the certified result, drawn as a timeline with the numbers in a table.
import type { ActorSubclass } from '@dfinity/agent';
import { demoActor, type OptimisticNotesService } from '../lib/ic/canisters.ts';
import { CanisterRefusal, unwrap } from '../lib/ic/errors.ts';
import type { Note } from '../declarations/optimistic-notes/optimistic-notes.did.ts';
import { append, dataTable, h, s } from './shared/dom.ts';
import { formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';
import { pacingNote, readMetrics } from './shared/replica-metrics.ts';

type Mode = 'optimistic' | 'waiting';
interface Run {
  n: number;
  mode: Mode;
  /** ms from the click to the first change on screen. */
  firstMs: number;
  /** ms from the click to the certified reply. */
  certifiedMs: number;
  outcome: 'kept' | 'rolled back' | 'refused';
}

const MODE_LABEL: Record<Mode, string> = { optimistic: 'Optimistic', waiting: 'Wait for the reply' };

/** The next frame after a DOM change: when the change is on screen. */
function painted(): Promise<number> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));
}

function timeline(runs: Run[]): SVGElement {
  const width = 560;
  const rowH = 22;
  const left = 150;
  const right = 20;
  const height = 30 + Math.max(1, runs.length) * rowH;
  const max = Math.max(100, ...runs.map((r) => r.certifiedMs));
  const x = (ms: number) => left + (ms / max) * (width - left - right);
  const rows = runs.map((r, i) => {
    const y = 10 + i * rowH;
    return s(
      'g',
      { class: r.mode === 'optimistic' ? 'wg-series-2 wg-chart__series' : 'wg-series-1 wg-chart__series' },
      s('text', { x: 4, y: y + 11, class: 'wg-chart__tick' }, `#${r.n} ${MODE_LABEL[r.mode]}`),
      s('rect', { x: left, y: y + 3, width: Math.max(1, x(r.certifiedMs) - left), height: 8, fill: 'currentColor', opacity: 0.35 }),
      s('circle', { cx: x(r.firstMs), cy: y + 7, r: 5 }, s('title', {}, `run ${r.n}: first visible change after ${formatMs(r.firstMs)}`)),
      s('line', { x1: x(r.certifiedMs), x2: x(r.certifiedMs), y1: y, y2: y + 14, stroke: 'currentColor', 'stroke-width': 2.5 }),
    );
  });
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'wg-ou-title wg-ou-desc', class: 'wg-chart__svg' },
    s('title', { id: 'wg-ou-title' }, 'Time to the first visible change (dot) and to the certified result (bar end), per run'),
    s(
      'desc',
      { id: 'wg-ou-desc' },
      runs.length
        ? runs
            .map(
              (r) =>
                `Run ${r.n}, ${MODE_LABEL[r.mode].toLowerCase()}: visible after ${formatMs(r.firstMs)}, certified after ${formatMs(r.certifiedMs)}, ${r.outcome}.`,
            )
            .join(' ')
        : 'No runs yet.',
    ),
    s('line', { x1: left, x2: left, y1: 4, y2: height - 22, class: 'wg-chart__grid' }),
    s('text', { x: width - right, y: height - 6, 'text-anchor': 'end', class: 'wg-chart__tick' }, formatMs(max)),
    s('text', { x: left, y: height - 6, 'text-anchor': 'middle', class: 'wg-chart__tick' }, '0'),
    ...rows,
  );
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const notes: ActorSubclass<OptimisticNotesService> = demoActor(agent, frame.network, 'optimistic-notes');
  const [latestNotes, metrics] = await Promise.all([notes.latest(), readMetrics(frame.network)]);
  let confirmed: Note[] = latestNotes;
  const pending = new Map<string, { text: string; state: 'pending' | 'rolled back' }>();
  const runs: Run[] = [];

  const input = h('input', { id: 'wg-ou-text', type: 'text', maxlength: 80, value: 'Hello from the optimistic UI demo' });
  const optimisticButton = h('button', { type: 'button', class: 'wg-button' }, 'Add optimistically');
  const waitingButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, 'Add and wait for the reply');
  const repeatButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, 'Repeat the latest note (refused)');
  const list = h('ul', { class: 'wg-ou-list', 'aria-label': 'Notes' });
  const chart = h('div', {});

  const renderList = () => {
    list.replaceChildren(
      ...[...pending.entries()]
        .reverse()
        .map(([key, p]) =>
          h(
            'li',
            { class: `wg-ou-note wg-ou-note--${p.state === 'pending' ? 'pending' : 'gone'}`, 'data-note': key, 'data-state': p.state },
            p.text,
            h('span', { class: 'wg-card__sub' }, p.state === 'pending' ? ' (pending: not certified yet)' : ' (refused by the canister: taken back)'),
          ),
        ),
      ...confirmed.map((n) => h('li', { class: 'wg-ou-note', 'data-state': 'certified', 'data-note-id': String(n.id) }, n.text)),
    );
  };

  const renderRuns = () => {
    const rows = runs.map((r) =>
      h(
        'tr',
        {
          'data-run': String(r.n),
          'data-mode': r.mode,
          'data-first-ms': String(Math.round(r.firstMs)),
          'data-certified-ms': String(Math.round(r.certifiedMs)),
          'data-outcome': r.outcome,
        },
        h('th', { scope: 'row' }, `#${r.n}`),
        h('td', {}, MODE_LABEL[r.mode]),
        h('td', { class: 'num' }, formatMs(r.firstMs)),
        h('td', { class: 'num' }, formatMs(r.certifiedMs)),
        h('td', {}, r.outcome),
      ),
    );
    chart.replaceChildren(
      h(
        'figure',
        { class: 'wg-chart' },
        timeline(runs),
        h(
          'details',
          { class: 'wg-chart__data', open: runs.length > 0 },
          h('summary', {}, 'The measured numbers'),
          dataTable({
            caption: 'Milliseconds from the click, measured in this browser',
            columns: ['Run', 'Mode', { label: 'First visible change', num: true }, { label: 'Certified result', num: true }, 'Outcome'],
            rows,
            empty: 'No runs yet.',
          }),
        ),
      ),
    );
  };

  const submit = (mode: Mode, text: string, button: HTMLButtonElement) =>
    frame.act(button, async () => {
      const started = performance.now();
      const key = `p${started.toFixed(3)}`;
      let firstMs = 0;
      if (mode === 'optimistic') {
        pending.set(key, { text, state: 'pending' });
        renderList();
        firstMs = (await painted()) - started;
        frame.say('Shown at once; waiting for the certified reply…');
      } else frame.say('Waiting for the certified reply before showing anything…');
      let outcome: Run['outcome'] = 'kept';
      let refusal: string | undefined;
      try {
        const note = unwrap('optimistic-notes.add', await notes.add(text));
        pending.delete(key);
        confirmed = [note, ...confirmed.filter((n) => n.id !== note.id)].slice(0, 10);
      } catch (error) {
        if (!(error instanceof CanisterRefusal)) {
          pending.delete(key);
          renderList();
          throw error;
        }
        refusal = error.message;
        outcome = mode === 'optimistic' ? 'rolled back' : 'refused';
        if (mode === 'optimistic') pending.set(key, { text, state: 'rolled back' });
      }
      const certifiedMs = performance.now() - started;
      renderList();
      const shownMs = (await painted()) - started;
      if (mode === 'waiting') firstMs = shownMs;
      runs.push({ n: runs.length + 1, mode, firstMs, certifiedMs, outcome });
      renderRuns();
      frame.say(
        refusal
          ? `${refusal}. ${mode === 'optimistic' ? 'The note shown optimistically was taken back.' : 'Nothing had been shown, so there was nothing to take back.'}`
          : `Certified after ${formatMs(certifiedMs)}; ${mode === 'optimistic' ? `the note was on screen after ${formatMs(firstMs)}` : 'only then did the note appear'}.`,
      );
      if (refusal && mode === 'optimistic') {
        // The taken-back note stays visible, struck through, for a moment so the rollback is seen.
        setTimeout(() => {
          pending.delete(key);
          renderList();
        }, 4000);
      }
    });

  optimisticButton.addEventListener('click', () => void submit('optimistic', input.value.trim(), optimisticButton));
  waitingButton.addEventListener('click', () => void submit('waiting', input.value.trim(), waitingButton));
  repeatButton.addEventListener('click', () => void submit('optimistic', confirmed[0]?.text ?? input.value.trim(), repeatButton));

  renderList();
  renderRuns();
  append(
    frame.body,
    h(
      'p',
      {},
      'Adding a note is an update call: the subnet must agree on it before its reply is certified. Optimistically, the note shows the moment you click and is marked pending until then; otherwise nothing moves until the reply is in. Repeat the latest note to see the rollback: the canister refuses a note identical to the one before it.',
    ),
    pacingNote(metrics, frame.network),
    h('div', { class: 'wg-controls' }, h('label', { for: 'wg-ou-text' }, 'Note'), input, optimisticButton, waitingButton, repeatButton),
    h(
      'p',
      { class: 'wg-card__sub' },
      frame.network.name === 'page'
        ? 'This list lives in this browser tab and is yours alone (1 to 80 characters, 600 notes an hour), until you reset the page replica.'
        : 'Everyone on this page adds to the same list (1 to 80 characters, 600 notes an hour from everyone together).',
    ),
    list,
    chart,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'optimistic-ui',
    title: 'Live demo: optimistic update or certified reply',
    canisters: ['optimistic-notes'],
    load,
  });
}
