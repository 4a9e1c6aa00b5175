// Stable memory demo: the same generated records kept three ways (classic heap + pre/post_upgrade,
// a stable structure on a Region, enhanced orthogonal persistence). The visitor adds records,
// asks the lab canister to upgrade the stores for real, and sees which store kept what and what
// the upgrade cost; the chart plots every measured upgrade (instructions against record count).
import type { ActorSubclass } from '@dfinity/agent';
import { demoActor, type LabService, type StoreService } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { Stats, UpgradeCost, Verification } from '../declarations/stable-memory-classic/stable-memory-classic.did.ts';
import type { Status, Which } from '../declarations/lab/lab.did.ts';
import { lineChart } from './shared/chart.ts';
import { append, h } from './shared/dom.ts';
import { formatBytes, formatCount, formatInstructions, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';

type StoreKey = 'classic' | 'region' | 'eop';

const STORES: Array<{ key: StoreKey; canister: 'stable-memory-classic' | 'stable-memory-region' | 'stable-memory-eop'; label: string; className: string }> = [
  { key: 'classic', canister: 'stable-memory-classic', label: 'Heap, copied in pre/post_upgrade', className: 'wg-series-1' },
  { key: 'region', canister: 'stable-memory-region', label: 'Stable structure on a Region', className: 'wg-series-2' },
  { key: 'eop', canister: 'stable-memory-eop', label: 'Enhanced orthogonal persistence', className: 'wg-series-3' },
];

interface Outcome {
  before: number;
  after?: number;
  verification?: Verification;
  error?: string;
}

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const lab: ActorSubclass<LabService> = demoActor(agent, frame.network, 'lab');
  const stores = Object.fromEntries(STORES.map((s) => [s.key, demoActor(agent, frame.network, s.canister)])) as Record<StoreKey, ActorSubclass<StoreService>>;

  const stats = {} as Record<StoreKey, Stats>;
  const history = {} as Record<StoreKey, UpgradeCost[]>;
  const outcomes: Partial<Record<StoreKey, Outcome>> = {};
  /** Instructions each store's last addRecords took, exactly as it reported them. */
  const added: Partial<Record<StoreKey, bigint>> = {};

  let labStatus: Status;
  const refresh = async () => {
    await Promise.all([
      lab.status().then((next) => (labStatus = next)),
      ...STORES.map(async ({ key }) => {
        [stats[key], history[key]] = await Promise.all([stores[key].stats(), stores[key].upgradeHistory()]);
      }),
    ]);
  };
  await refresh();
  const notReady = labStatus!.stores.filter((s) => !s.moduleReady || !s.canisterId.length).map((s) => s.name);

  /** What the lab last did to a store, and for whom: the stores are shared by every visitor. */
  const lastEvent = (key: StoreKey): HTMLElement | null => {
    const event = labStatus.stores.find((s) => key in s.which)?.lastEvent[0];
    if (!event) return null;
    const when = new Date(Number(event.at / 1_000_000n)).toLocaleTimeString('en-GB');
    const who = event.caller.toText();
    return h(
      'p',
      { class: 'wg-card__sub' },
      `Lab's last ${event.kind} at ${when}, asked by `,
      h('code', { title: who }, `${who.slice(0, 11)}…`),
      `: ${event.outcome}.`,
    );
  };

  const batch = h('select', { id: 'wg-sm-batch' }, ...[100, 1_000, 5_000].map((n) => h('option', { value: n, selected: n === 1_000 }, formatCount(n))));
  const addButton = h('button', { type: 'button', class: 'wg-button' }, 'Add records to each store');
  const upgradeButton = h('button', { type: 'button', class: 'wg-button', disabled: notReady.length > 0 }, 'Upgrade all three');
  const resetButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, 'Empty the stores');
  const cards = h('div', { class: 'wg-cards wg-cards--three' });
  const chartSlot = h('div', { class: 'wg-demo__chart' });

  /** One sentence comparing the stores' latest upgrades, when they held the same number of records. */
  const compareLastUpgrades = (): string => {
    const last = STORES.map(({ key, label }) => ({ label, cost: stats[key].lastUpgrade[0] }));
    if (last.some((l) => !l.cost)) return 'Upgrade the stores to see what each upgrade costs.';
    const [classic, region, eop] = last.map((l) => l.cost!);
    if (classic.records !== region.records || classic.records !== eop.records || classic.records === 0n) {
      return 'The latest upgrades ran with different record counts; add records and upgrade all three to compare them.';
    }
    const times = (a: bigint, b: bigint) => (b === 0n ? 'more than' : `${(Number(a) / Number(b)).toFixed(0)} times`);
    return (
      `With ${formatCount(classic.records)} records, the heap store's upgrade took ${formatInstructions(classic.totalInstructions)} instructions: ` +
      `${times(classic.totalInstructions, region.totalInstructions)} the Region store's ${formatInstructions(region.totalInstructions)} ` +
      `and ${times(classic.totalInstructions, eop.totalInstructions)} the orthogonal persistence store's ${formatInstructions(eop.totalInstructions)}.`
    );
  };

  const render = () => {
    cards.replaceChildren(
      ...STORES.map(({ key, label, className, canister }) => {
        const st = stats[key];
        const outcome = outcomes[key];
        const last = st.lastUpgrade[0];
        let verdict: HTMLElement | null = null;
        if (outcome?.error) verdict = h('p', { class: 'wg-verdict wg-verdict--bad' }, outcome.error);
        else if (outcome?.after !== undefined) {
          const kept = outcome.after === outcome.before && outcome.verification?.mismatches === 0n;
          verdict = h(
            'p',
            { class: `wg-verdict ${kept ? 'wg-verdict--good' : 'wg-verdict--bad'}`, 'data-kept': String(kept) },
            kept
              ? `Kept all ${formatCount(outcome.after)} records; each one checked after the upgrade.`
              : `Had ${formatCount(outcome.before)} records before the upgrade, ${formatCount(outcome.after)} after; ${formatCount(outcome.verification?.mismatches ?? 0n)} differ.`,
          );
        }
        return h(
          'article',
          {
            class: `wg-card ${className}`,
            'data-store': key,
            'data-records': String(st.records),
            ...(added[key] !== undefined ? { 'data-add-instructions': String(added[key]) } : {}),
          },
          h('h4', {}, label),
          h('p', { class: 'wg-card__sub' }, st.persistence),
          h(
            'dl',
            { class: 'wg-stats' },
            h('dt', {}, 'Records'),
            h('dd', {}, `${formatCount(st.records)} of ${formatCount(st.maxRecords)}`),
            h('dt', {}, 'Record data'),
            h('dd', {}, formatBytes(st.recordBytes)),
            h('dt', {}, 'Heap'),
            h('dd', {}, formatBytes(st.memory.heapBytes)),
            h('dt', {}, 'Stable memory'),
            h('dd', {}, formatBytes(st.memory.stableMemoryBytes)),
            h('dt', {}, 'Last upgrade'),
            h(
              'dd',
              {},
              last
                ? `${formatInstructions(last.totalInstructions)} instructions with ${formatCount(last.records)} records (hooks: pre ${formatInstructions(last.preUpgradeHookInstructions)}, post ${formatInstructions(last.postUpgradeHookInstructions)}; runtime ${formatInstructions(last.runtimeInstructions)})`
                : 'none yet',
            ),
          ),
          verdict,
          lastEvent(key),
          h('p', { class: 'wg-card__id' }, canister, ' ', h('code', {}, frame.network.canisterIds[canister] ?? '')),
        );
      }),
    );
    chartSlot.replaceChildren(
      h('p', { class: 'wg-chart__summary' }, compareLastUpgrades()),
      lineChart({
        id: 'wg-sm-chart',
        title: 'Instructions an upgrade took, by records held',
        xLabel: 'Records held',
        yLabel: 'Upgrade instructions',
        series: STORES.map(({ key, label, className }) => ({
          label,
          className,
          points: history[key].map((u) => ({ x: Number(u.records), y: Number(u.totalInstructions) })),
        })),
      }),
    );
  };

  addButton.addEventListener('click', () =>
    frame.act(addButton, async () => {
      const count = BigInt(batch.value);
      frame.say(`Adding ${formatCount(count)} records to each store…`);
      const started = performance.now();
      const reports = await Promise.all(STORES.map(({ key }) => stores[key].addRecords(count).then((r) => unwrap(`${key}.addRecords`, r))));
      for (const s of STORES) delete outcomes[s.key];
      STORES.forEach(({ key }, i) => (added[key] = reports[i].instructions));
      await refresh();
      render();
      frame.say(
        `Added ${formatCount(count)} records to each store in ${formatMs(performance.now() - started)}: ` +
          STORES.map(({ key }, i) => `${key} ${formatInstructions(reports[i].instructions)} instructions`).join(', ') +
          '.',
      );
    }),
  );

  upgradeButton.addEventListener('click', () =>
    frame.act(upgradeButton, async () => {
      frame.say('The lab is upgrading the three stores (pre_upgrade, new instance, post_upgrade)…');
      const started = performance.now();
      await Promise.all(
        STORES.map(async ({ key }) => {
          const before = Number(stats[key].records);
          const which = { [key]: null } as Which;
          try {
            const report = unwrap(`lab.upgrade(${key})`, await lab.upgrade(which));
            const verification = await stores[key].verify();
            outcomes[key] = { before, after: Number(report.stats.records), verification };
          } catch (error) {
            if ((error as Error).name !== 'CanisterRefusal') throw error;
            outcomes[key] = { before, error: (error as Error).message };
          }
        }),
      );
      await refresh();
      render();
      frame.say(`Upgrades finished in ${formatMs(performance.now() - started)}. Each card says what its store kept; the chart has the new points.`);
    }),
  );

  resetButton.addEventListener('click', () =>
    frame.act(resetButton, async () => {
      frame.say('Emptying the stores…');
      for (const { key } of STORES) unwrap(`lab.reset(${key})`, await lab.reset({ [key]: null } as Which));
      for (const s of STORES) delete outcomes[s.key];
      await refresh();
      render();
      frame.say('The stores are empty; their upgrade history stays in the chart.');
    }),
  );

  render();
  append(
    frame.body,
    h(
      'p',
      {},
      'Three canisters hold the same generated records, each its own way. Add records, then have the lab canister upgrade all three: the cards say whether the records survived and what the upgrade cost in instructions.',
    ),
    notReady.length
      ? h('p', { class: 'wg-verdict wg-verdict--bad' }, `The lab cannot upgrade ${notReady.join(', ')} yet: it has no module for it (npm start uploads them).`)
      : null,
    h('div', { class: 'wg-controls' }, h('label', { for: 'wg-sm-batch' }, 'Records per store'), batch, addButton, upgradeButton, resetButton),
    h(
      'p',
      { class: 'wg-card__sub' },
      frame.network.name === 'page'
        ? 'These three stores run in this browser tab and are yours alone; they keep their records across reloads until you reset the page replica. The lab allows one upgrade per store every few seconds.'
        : 'Everyone who opens this page shares these three stores, so the numbers may move between your clicks. The lab allows one upgrade per store every few seconds.',
    ),
    cards,
    chartSlot,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'stable-memory',
    title: 'Live demo: what survives an upgrade, and at what cost',
    canisters: ['lab', 'stable-memory-classic', 'stable-memory-region', 'stable-memory-eop'],
    load,
  });
}
