// A line chart in plain SVG, readable without sight: the SVG has a title and a description that
// states each series' range, every point has its own <title>, and the same numbers are in a
// real table right under it (a chart that only draws is invisible to a screen reader).
import { formatCount, formatInstructions } from './format.ts';
import { dataTable, h, s } from './dom.ts';

export interface Series {
  label: string;
  /** A CSS class that colours the line and its points (see DemoMount.astro's styles). */
  className: string;
  points: Array<{ x: number; y: number }>;
}

export interface LineChartOptions {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** How a y value reads (ticks, point titles, description); instruction counts by default. */
  formatY?: (y: number) => string;
  /** What a point is, singular and plural, for the description ("upgrade", "upgrades" by default). */
  pointNoun?: [string, string];
  /** The unit after a y value in words (" instructions" by default; "" when formatY says it). */
  yUnit?: string;
  /** What the x values count (" records" by default). */
  xUnit?: string;
  /** Shown in an empty chart and table. */
  emptyText?: string;
  /** Header of the series column in the table ("Store" by default). */
  seriesHeader?: string;
  /** Smallest axis maxima, so an empty or tiny chart still has readable axes. */
  xFloor?: number;
  yFloor?: number;
  /** Where the x axis ends when every point fits (a demo's whole range, e.g. its eight canisters), instead of a round number above. */
  xMax?: number;
}

interface Wording {
  formatY: (y: number) => string;
  pointNoun: [string, string];
  yUnit: string;
  xUnit: string;
}

const defaultWording: Wording = { formatY: formatInstructions, pointNoun: ['upgrade', 'upgrades'], yUnit: ' instructions', xUnit: ' records' };

const W = 560;
const H = 260;
const M = { top: 16, right: 20, bottom: 44, left: 78 };

export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** An axis' end: `exact` when every value fits under it, else a round number above the largest value (and `floor`). */
export function axisMax(values: number[], floor: number, exact?: number): number {
  if (exact !== undefined && exact > 0 && values.every((v) => v <= exact)) return exact;
  return niceMax(Math.max(floor, ...values));
}

/** 4 or 5 intervals, whichever gives round ticks (5,000 → 1,000 steps rather than 1,250). */
export function tickCount(max: number): number {
  for (const n of [4, 5]) {
    const step = max / n;
    const leading = step / 10 ** Math.floor(Math.log10(step));
    if ([1, 2, 5].some((r) => Math.abs(leading - r) < 1e-9)) return n;
  }
  return 4;
}

export function describeSeries(series: Series, wording: Wording = defaultWording): string {
  const { formatY, pointNoun, yUnit, xUnit } = wording;
  if (!series.points.length) return `${series.label}: no ${pointNoun[1]} measured yet.`;
  const sorted = [...series.points].sort((a, b) => a.x - b.x);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  return `${series.label}: ${sorted.length} ${pointNoun[sorted.length === 1 ? 0 : 1]}, from ${formatY(first.y)}${yUnit} at ${formatCount(first.x)}${xUnit} to ${formatY(last.y)} at ${formatCount(last.x)}.`;
}

export function lineChart(options: LineChartOptions): HTMLElement {
  const wording: Wording = {
    formatY: options.formatY ?? defaultWording.formatY,
    pointNoun: options.pointNoun ?? defaultWording.pointNoun,
    yUnit: options.yUnit ?? defaultWording.yUnit,
    xUnit: options.xUnit ?? defaultWording.xUnit,
  };
  const { formatY } = wording;
  const all = options.series.flatMap((series) => series.points);
  // Floors keep the axes readable before anything was measured (and ticks whole numbers).
  const xMax = axisMax(
    all.map((p) => p.x),
    options.xFloor ?? 1_000,
    options.xMax,
  );
  const yMax = niceMax(Math.max(options.yFloor ?? 1_000_000, ...all.map((p) => p.y)));
  const x = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const titleId = `${options.id}-title`;
  const descId = `${options.id}-desc`;

  const grid: SVGElement[] = [];
  const yTicks = tickCount(yMax);
  const xTicks = tickCount(xMax);
  for (let i = 0; i <= yTicks; i++) {
    const yv = (yMax * i) / yTicks;
    grid.push(
      s('line', { x1: M.left, x2: W - M.right, y1: y(yv), y2: y(yv), class: 'wg-chart__grid' }),
      s('text', { x: M.left - 8, y: y(yv) + 4, 'text-anchor': 'end', class: 'wg-chart__tick' }, formatY(yv)),
    );
  }
  for (let i = 0; i <= xTicks; i++) {
    const xv = (xMax * i) / xTicks;
    grid.push(s('text', { x: x(xv), y: H - M.bottom + 18, 'text-anchor': 'middle', class: 'wg-chart__tick' }, formatCount(Math.round(xv))));
  }
  const lines = options.series.map((series) => {
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    return s(
      'g',
      { class: `wg-chart__series ${series.className}` },
      sorted.length > 1 ? s('polyline', { points: sorted.map((p) => `${x(p.x)},${y(p.y)}`).join(' '), fill: 'none' }) : null,
      ...sorted.map((p) =>
        s(
          'circle',
          { cx: x(p.x), cy: y(p.y), r: 4 },
          s('title', {}, `${series.label}: ${formatY(p.y)}${wording.yUnit} at ${formatCount(p.x)}${wording.xUnit}`),
        ),
      ),
    );
  });
  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}`, class: 'wg-chart__svg' },
    s('title', { id: titleId }, options.title),
    s('desc', { id: descId }, options.series.map((series) => describeSeries(series, wording)).join(' ')),
    ...grid,
    s('text', { x: (M.left + W - M.right) / 2, y: H - 6, 'text-anchor': 'middle', class: 'wg-chart__axis' }, options.xLabel),
    s(
      'text',
      { x: 14, y: (M.top + H - M.bottom) / 2, transform: `rotate(-90 14 ${(M.top + H - M.bottom) / 2})`, 'text-anchor': 'middle', class: 'wg-chart__axis' },
      options.yLabel,
    ),
    ...lines,
    all.length
      ? null
      : s(
          'text',
          { x: (M.left + W - M.right) / 2, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', class: 'wg-chart__axis' },
          options.emptyText ?? 'No upgrade measured yet: add records, then upgrade.',
        ),
  );
  const legend = h(
    'ul',
    { class: 'wg-chart__legend' },
    ...options.series.map((series) => h('li', { class: series.className }, h('span', { class: 'wg-chart__swatch', 'aria-hidden': 'true' }), series.label)),
  );
  const rows = options.series.flatMap((series) =>
    [...series.points]
      .sort((a, b) => a.x - b.x)
      .map((p) => h('tr', {}, h('td', {}, series.label), h('td', {}, formatCount(p.x)), h('td', {}, formatCount(p.y)))),
  );
  const table = h(
    'details',
    { class: 'wg-chart__data' },
    h('summary', {}, 'The measured numbers'),
    dataTable({
      caption: options.title,
      columns: [options.seriesHeader ?? 'Store', options.xLabel, options.yLabel],
      rows,
      empty: options.emptyText ?? 'No upgrade measured yet.',
    }),
  );
  return h('figure', { class: 'wg-chart' }, svg, legend, table);
}
