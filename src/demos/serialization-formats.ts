// Serialization formats demo: one canister writes the same generated records into stable memory
// as Candid, as a fixed binary layout and as JSON, reads them back, checks every record and
// reports bytes and the instructions of each half (its own performance counter). The visitor
// picks record counts; each measurement adds points to three charts (bytes, write, read) with
// the numbers in tables under them.
import { demoActor } from '../lib/ic/canisters.ts';
import { unwrap } from '../lib/ic/errors.ts';
import type { FormatResult, Measurement } from '../declarations/serialization-formats/serialization-formats.did.ts';
import { lineChart } from './shared/chart.ts';
import { append, h } from './shared/dom.ts';
import { formatBytes, formatCount, formatInstructions, formatMs } from './shared/format.ts';
import { mountDemo, type DemoFrame } from './shared/frame.ts';

const FORMATS = [
  { key: 'candid', label: 'Candid', className: 'wg-series-1', about: 'self-describing: a type table, then the values' },
  { key: 'binary', label: 'Fixed binary layout', className: 'wg-series-2', about: 'fields written one by one; the reader must know the layout' },
  { key: 'json', label: 'JSON text', className: 'wg-series-3', about: 'readable anywhere; every key spelled out, parsed character by character' },
] as const;
type FormatKey = (typeof FORMATS)[number]['key'];

const COUNTS = [100, 500, 1_000, 2_000, 5_000];
const SERIES_COUNTS = [250, 500, 1_000, 2_000];

async function load(frame: DemoFrame): Promise<void> {
  const agent = await frame.agent();
  const canister = demoActor(agent, frame.network, 'serialization-formats');
  const { maxRecords } = await canister.limits();

  /** Every measurement so far, by record count (a repeat replaces the earlier one). */
  const measured = new Map<number, Measurement>();
  let latest: { measurement: Measurement; ms: number } | undefined;

  const countSelect = h(
    'select',
    { id: 'wg-sf-count' },
    ...COUNTS.filter((n) => n <= Number(maxRecords)).map((n) => h('option', { value: n, selected: n === 1_000 }, formatCount(n))),
  );
  const measureButton = h('button', { type: 'button', class: 'wg-button' }, 'Write and read back');
  const seriesButton = h('button', { type: 'button', class: 'wg-button wg-button--quiet' }, `Measure ${SERIES_COUNTS.map(formatCount).join(', ')} records`);
  const results = h('div', { class: 'wg-sf-results' });
  const charts = h('div', { class: 'wg-sf-charts' });

  const resultOf = (m: Measurement, key: FormatKey): FormatResult | undefined => m.formats.find((f) => f.format === key);

  const renderLatest = () => {
    if (!latest) {
      results.replaceChildren(h('p', { class: 'wg-card__sub' }, 'Pick a record count and write them: the table shows what each format cost.'));
      return;
    }
    const { measurement, ms } = latest;
    const binary = resultOf(measurement, 'binary');
    const json = resultOf(measurement, 'json');
    const ratio = (a: bigint | undefined, b: bigint | undefined) => (a && b ? (Number(a) / Number(b)).toFixed(1) : '?');
    results.replaceChildren(
      h(
        'table',
        { 'data-records': String(measurement.records) },
        h('caption', {}, `${formatCount(measurement.records)} records, written to stable memory and read back (call took ${formatMs(ms)} in this browser)`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Format'),
            h('th', { scope: 'col', class: 'num' }, 'Bytes'),
            h('th', { scope: 'col', class: 'num' }, 'Write (instructions)'),
            h('th', { scope: 'col', class: 'num' }, 'Read back (instructions)'),
            h('th', { scope: 'col' }, 'All records back intact'),
          ),
        ),
        h(
          'tbody',
          {},
          ...FORMATS.map(({ key, label, about }) => {
            const r = resultOf(measurement, key);
            if (!r) return h('tr', {}, h('td', {}, label), h('td', { colspan: 4 }, 'not measured'));
            return h(
              'tr',
              { 'data-format': key, 'data-round-trip': String(r.roundTrip), 'data-bytes': String(r.bytes) },
              h('th', { scope: 'row', title: about }, label),
              h('td', { class: 'num' }, formatBytes(r.bytes)),
              h('td', { class: 'num' }, formatInstructions(r.writeInstructions)),
              h('td', { class: 'num' }, formatInstructions(r.readInstructions)),
              h('td', {}, r.roundTrip ? 'yes' : 'no: some differ'),
            );
          }),
        ),
      ),
      ...(binary && json
        ? [
            h(
              'p',
              { class: 'wg-chart__summary' },
              `JSON took ${ratio(BigInt(json.bytes), BigInt(binary.bytes))} times the bytes of the fixed layout, ` +
                `${ratio(json.writeInstructions, binary.writeInstructions)} times its instructions to write and ` +
                `${ratio(json.readInstructions, binary.readInstructions)} times to read back.`,
            ),
          ]
        : []),
    );
  };

  const renderCharts = () => {
    const points = (pick: (r: FormatResult) => bigint) =>
      FORMATS.map(({ key, label, className }) => ({
        label,
        className,
        points: [...measured.values()].flatMap((m) => {
          const r = resultOf(m, key);
          return r ? [{ x: Number(m.records), y: Number(pick(r)) }] : [];
        }),
      }));
    const common = {
      xLabel: 'Records',
      pointNoun: ['measurement', 'measurements'] as [string, string],
      seriesHeader: 'Format',
      emptyText: 'Nothing measured yet: write some records.',
      xFloor: 1_000,
    };
    const titled = (title: string, chart: HTMLElement) => h('section', { class: 'wg-sf-chart' }, h('h4', {}, title), chart);
    charts.replaceChildren(
      titled(
        'Bytes in stable memory',
        lineChart({
          ...common,
          id: 'wg-sf-bytes',
          title: 'Bytes in stable memory',
          yLabel: 'KiB',
          series: points((r) => BigInt(r.bytes) / 1024n),
          formatY: (n) => `${formatCount(n)} KiB`,
          yUnit: '',
          yFloor: 100,
        }),
      ),
      titled(
        'Instructions to encode and write',
        lineChart({
          ...common,
          id: 'wg-sf-write',
          title: 'Instructions to encode and write',
          yLabel: 'Instructions',
          series: points((r) => r.writeInstructions),
        }),
      ),
      titled(
        'Instructions to read back and decode',
        lineChart({
          ...common,
          id: 'wg-sf-read',
          title: 'Instructions to read back and decode',
          yLabel: 'Instructions',
          series: points((r) => r.readInstructions),
        }),
      ),
    );
  };

  const measure = async (count: number): Promise<void> => {
    const started = performance.now();
    const measurement = unwrap('serialization-formats.measure', await canister.measure(BigInt(count)));
    latest = { measurement, ms: performance.now() - started };
    measured.set(count, measurement);
    renderLatest();
    renderCharts();
  };

  measureButton.addEventListener('click', () =>
    frame.act(measureButton, async () => {
      const count = Number(countSelect.value);
      frame.say(`Writing ${formatCount(count)} records in three formats and reading them back…`);
      await measure(count);
      frame.say(`Measured ${formatCount(count)} records; the charts have the new points.`);
    }),
  );
  seriesButton.addEventListener('click', () =>
    frame.act(seriesButton, async () => {
      for (const count of SERIES_COUNTS) {
        frame.say(`Measuring ${formatCount(count)} records…`);
        await measure(count);
      }
      frame.say(`Measured ${SERIES_COUNTS.map(formatCount).join(', ')} records; the charts show how each format grows.`);
    }),
  );

  renderLatest();
  renderCharts();
  append(
    frame.body,
    h(
      'p',
      {},
      'One canister generates the same records for each format, writes them into a Region of stable memory, reads them back and compares every record. It counts the instructions of each half itself, so the numbers are what the canister would be charged for.',
    ),
    h('ul', { class: 'wg-card__sub' }, ...FORMATS.map(({ label, about, className }) => h('li', { class: className }, h('strong', {}, label), `: ${about}.`))),
    h('div', { class: 'wg-controls' }, h('label', { for: 'wg-sf-count' }, 'Records'), countSelect, measureButton, seriesButton),
    h(
      'p',
      { class: 'wg-card__sub' },
      `The measurement runs as a query: its writes are dropped when the call ends, so nothing is kept between visitors. At most ${formatCount(maxRecords)} records per call.`,
    ),
    results,
    charts,
  );
}

export function mount(slot: HTMLElement): void {
  mountDemo(slot, {
    demo: 'serialization-formats',
    title: 'Live demo: the same records in three formats',
    canisters: ['serialization-formats'],
    load,
  });
}
