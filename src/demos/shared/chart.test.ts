// What a screen reader hears for the upgrade-cost chart, and the axes people see.
import { describe, expect, it } from 'vitest';
import { axisMax, describeSeries, niceMax, tickCount } from './chart.ts';

describe('upgrade cost chart', () => {
  it('describes each series by its measured range, in words', () => {
    expect(
      describeSeries({
        label: 'Heap, copied in pre/post_upgrade',
        className: 'wg-series-1',
        points: [
          { x: 3_000, y: 19_480_000 },
          { x: 0, y: 52_000 },
          { x: 1_000, y: 6_580_000 },
        ],
      }),
    ).toBe('Heap, copied in pre/post_upgrade: 3 upgrades, from 52.0 K instructions at 0 records to 19.48 M at 3,000.');
    expect(describeSeries({ label: 'Region', className: '', points: [] })).toBe('Region: no upgrades measured yet.');
    expect(describeSeries({ label: 'EOP', className: '', points: [{ x: 10, y: 900 }] })).toBe(
      'EOP: 1 upgrade, from 900 instructions at 10 records to 900 at 10.',
    );
  });

  it('rounds the axes up and picks round ticks', () => {
    expect([niceMax(3_000), niceMax(5_000), niceMax(19_480_000), niceMax(41_000_000), niceMax(0)]).toEqual([4_000, 5_000, 20_000_000, 50_000_000, 1]);
    // 5,000 in 5 steps of 1,000, not 4 of 1,250; 20 M in 4 steps of 5 M.
    expect([tickCount(5_000), tickCount(20_000_000), tickCount(4_000), tickCount(50_000_000)]).toEqual([5, 4, 4, 5]);
  });

  it("ends an axis at a demo's whole range when every point fits, in round ticks", () => {
    // Horizontal scaling: 1 to 8 canisters end the axis at 8 (0, 2, 4, 6, 8), not 10.
    expect(axisMax([1, 4, 8], 8, 8)).toBe(8);
    expect(tickCount(8)).toBe(4);
    expect(axisMax([], 8, 8)).toBe(8);
    // A point beyond it, or none given: a round number above.
    expect(axisMax([1, 9], 8, 8)).toBe(10);
    expect(axisMax([1, 4, 8], 8)).toBe(10);
  });
});
