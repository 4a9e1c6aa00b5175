// Canister snapshots demo: a demo canister holds records; its controller, the lab canister,
// snapshots it (stop, take_canister_snapshot, start), wipes it with a mistaken reinstall, and
// loads the snapshot back (stop, load_canister_snapshot, start). The visitor sees the records
// and their checksum at each step, and what each step cost: time, cycles the management canister
// charged the canister, cycles the lab spent, and the snapshot's size (with what keeping it
// costs per day at the IC's storage fee).
import type { ActorSubclass } from '@dfinity/agent';
import { demoActor, type LabService, type SnapshotTargetService } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { OpsStatus, StepReport } from '../declarations/lab/lab.did.ts';
import type { Stats } from '../declarations/snapshot-target/snapshot-target.did.ts';
import { append, dataTable, h } from './shared/dom.ts';
import { formatBytes, formatCount, formatCycles, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';

/**
 * The IC's storage fee on a 13-node application subnet: 127,000 cycles per GiB per second
 * (dfinity/ic rs/config/src/subnet_config.rs, gib_storage_per_second_fee). Snapshots are
 * charged as memory of the canister they belong to.
 */
const STORAGE_CYCLES_PER_GIB_SECOND = 127_000;
const GiB = 1024 ** 3;

const STEP_NAMES: Record<string, string> = {
  snapshot: 'Take a snapshot',
  break: 'Reinstall by mistake',
  restore: 'Load the snapshot',
};

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function spent(before: bigint, after: bigint): bigint {
  return before > after ? before - after : 0n;
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const lab: ActorSubclass<LabService> = demoActor(agent, frame.network, 'lab');
  const target: ActorSubclass<SnapshotTargetService> = demoActor(agent, frame.network, 'snapshot-target');

  let status: OpsStatus;
  let stats: Stats;
  /** The visitor's own steps in this page, oldest first (the lab's list is shared by everyone). */
  const mine: StepReport[] = [];
  const refresh = async () => {
    [status, stats] = await Promise.all([lab.opsStatus(), target.getStats()]);
  };
  await refresh();
  if (!status!.snapshotTarget.canisterId.length || !status!.snapshotTarget.moduleReady) {
    throw new Error('The lab canister does not control the snapshot demo canister yet (npm start registers it).');
  }

  const addButton = h('button', { type: 'button', class: 'wg-button' }, 'Add 500 records');
  const takeButton = h('button', { type: 'button', class: 'wg-button' }, '1. Take a snapshot');
  const breakButton = h('button', { type: 'button', class: 'wg-button' }, '2. Reinstall by mistake');
  const restoreButton = h('button', { type: 'button', class: 'wg-button' }, '3. Load the snapshot');
  const cards = h('div', { class: 'wg-cards' });
  const verdict = h('div', { 'aria-live': 'polite' });
  const stepsTable = h('div', {});

  const render = () => {
    const snap = status.snapshot[0];
    cards.replaceChildren(
      h(
        'article',
        { class: 'wg-card wg-series-2', 'data-canister': 'snapshot-target', 'data-records': String(stats.records), 'data-checksum': String(stats.checksum) },
        h('h4', {}, 'The demo canister now'),
        h(
          'dl',
          { class: 'wg-stats' },
          h('dt', {}, 'Records'),
          h('dd', {}, `${formatCount(stats.records)} of ${formatCount(stats.maxRecords)}`),
          h('dt', {}, 'Checksum'),
          h('dd', {}, h('code', {}, hex32(stats.checksum))),
          h('dt', {}, 'Heap'),
          h('dd', {}, formatBytes(stats.heapBytes)),
        ),
        h('p', { class: 'wg-card__id' }, 'snapshot-target ', h('code', {}, frame.network.canisterIds['snapshot-target'] ?? '')),
      ),
      h(
        'article',
        { class: 'wg-card wg-series-1', 'data-snapshot': snap ? 'taken' : 'none' },
        h('h4', {}, 'Its snapshot'),
        snap
          ? h(
              'dl',
              { class: 'wg-stats' },
              h('dt', {}, 'Taken'),
              h('dd', {}, new Date(Number(snap.takenAt / 1_000_000n)).toLocaleTimeString('en-GB')),
              h('dt', {}, 'Records'),
              h('dd', {}, formatCount(snap.records)),
              h('dt', {}, 'Checksum'),
              h('dd', {}, h('code', {}, hex32(snap.checksum))),
              h('dt', {}, 'Size'),
              h('dd', { 'data-snapshot-bytes': String(snap.totalSize) }, formatBytes(snap.totalSize)),
              h('dt', {}, 'Keeping it'),
              h('dd', {}, `${formatCycles(BigInt(Math.round((Number(snap.totalSize) / GiB) * STORAGE_CYCLES_PER_GIB_SECOND * 86_400)))} cycles a day`),
            )
          : h('p', { class: 'wg-card__sub' }, 'None yet. Take one before you break anything.'),
      ),
    );
    const rows = mine.map((r) =>
      h(
        'tr',
        { 'data-step': r.step },
        h('th', { scope: 'row', class: 'wg-nowrap' }, STEP_NAMES[r.step] ?? r.step),
        h('td', { class: 'num' }, formatMs(Number(r.elapsedNanos) / 1e6)),
        h('td', { class: 'num' }, r.snapshotBytes ? formatBytes(r.snapshotBytes) : '–'),
        h('td', { class: 'num' }, formatCycles(spent(r.targetCyclesBefore, r.targetCyclesAfter))),
        h('td', { class: 'num' }, formatCycles(spent(r.labCyclesBefore, r.labCyclesAfter))),
        h('td', { class: 'num', title: `checksum ${hex32(r.checksum)}` }, formatCount(r.records)),
      ),
    );
    stepsTable.replaceChildren(
      dataTable({
        class: 'wg-steps',
        caption:
          'Your steps and what each took: time from the lab’s first management call to its last reply; cycles as the balances of the canister and the lab fell',
        columns: [
          'Step',
          { label: 'Time', num: true },
          { label: 'Snapshot', num: true },
          { label: 'Canister cycles', num: true },
          { label: 'Lab cycles', num: true },
          { label: 'Records', num: true },
        ],
        rows,
        empty: 'No steps yet.',
      }),
    );
  };

  const runStep = (button: HTMLButtonElement, what: string, call: () => Promise<StepReport>) =>
    frame.act(button, async () => {
      frame.say(`${what}…`);
      const report = await call();
      mine.push(report);
      await refresh();
      render();
      const snap = status.snapshot[0];
      if (report.step === 'restore' && snap) {
        const back = report.records === snap.records && report.checksum === snap.checksum;
        verdict.replaceChildren(
          h(
            'p',
            { class: `wg-verdict ${back ? 'wg-verdict--good' : 'wg-verdict--bad'}`, 'data-restored': String(back) },
            back
              ? `All ${formatCount(report.records)} records are back: the checksum ${hex32(report.checksum)} is the snapshot's.`
              : `The canister has ${formatCount(report.records)} records (checksum ${hex32(report.checksum)}); the snapshot had ${formatCount(snap.records)} (${hex32(snap.checksum)}).`,
          ),
        );
      } else if (report.step === 'break') {
        verdict.replaceChildren(
          h(
            'p',
            { class: 'wg-verdict wg-verdict--bad', 'data-broken': 'true' },
            `The reinstall ran the same code from empty state: ${formatCount(report.records)} records left.`,
          ),
        );
      } else verdict.replaceChildren();
      frame.say(`${STEP_NAMES[report.step] ?? report.step}: done in ${formatMs(Number(report.elapsedNanos) / 1e6)}.`);
    });

  addButton.addEventListener('click', () =>
    frame.act(addButton, async () => {
      frame.say('Adding 500 records…');
      stats = unwrap('snapshot-target.addRecords', await target.addRecords(500n));
      render();
      frame.say(`The canister holds ${formatCount(stats.records)} records.`);
    }),
  );
  takeButton.addEventListener(
    'click',
    () =>
      void runStep(takeButton, 'The lab stops the canister, takes a snapshot and starts it again', async () =>
        unwrap('lab.takeSnapshot', await lab.takeSnapshot()),
      ),
  );
  breakButton.addEventListener(
    'click',
    () => void runStep(breakButton, 'The lab reinstalls the canister', async () => unwrap('lab.breakTarget', await lab.breakTarget())),
  );
  restoreButton.addEventListener(
    'click',
    () =>
      void runStep(restoreButton, 'The lab stops the canister, loads the snapshot and starts it again', async () =>
        unwrap('lab.restoreSnapshot', await lab.restoreSnapshot()),
      ),
  );

  render();
  append(
    frame.body,
    h(
      'p',
      {},
      'The demo canister keeps records in its heap. Only a controller may snapshot it or change its code; here that controller is the lab canister, which does each step for you. Add records, take a snapshot, then reinstall the canister by mistake (the same code, started from empty state, as ',
      h('code', {}, 'dfx deploy --mode reinstall'),
      ' would) and load the snapshot to get the records back.',
    ),
    h('div', { class: 'wg-controls' }, addButton, takeButton, breakButton, restoreButton),
    h(
      'p',
      { class: 'wg-card__sub' },
      `${
        frame.network.name === 'page'
          ? 'The canister and its snapshot live in this browser tab and are yours alone, until you reset the page replica.'
          : 'Everyone on this page shares the one canister and its one snapshot.'
      } The lab allows each step once every ${status!.settings.storeIntervalSeconds} s, and each caller ${status!.stepsPerCallerPerHour} steps an hour.`,
    ),
    cards,
    verdict,
    stepsTable,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'canister-snapshots',
    title: 'Live demo: snapshot, break, restore',
    canisters: ['lab', 'snapshot-target'],
    load,
  });
}
