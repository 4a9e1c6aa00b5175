// What the sections of `npm run bench` (scripts/bench*.ts) share: timing loops, percentiles and
// the printed line. Every loop is bounded in count (and, where a deadline is given, in time).

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

export const p50 = (samples: number[]): number => stats(samples).p50;

/** Milliseconds, two decimals under 10 ms and `decimals` (default 1) above. */
export const ms = (v: number, decimals = 1): string => (v < 10 ? v.toFixed(2) : v.toFixed(decimals)) + ' ms';

/** A printer of "  <label padded to `width`> <text>" lines, one width per section. */
export const lineWriter =
  (width: number) =>
  (label: string, text: string): void =>
    console.log(`  ${label.padEnd(width)} ${text}`);

/** Runs `op` sequentially until `count` samples or `seconds` elapsed; returns latencies in ms. */
export async function sequential(op: () => Promise<unknown>, count: number, seconds = Infinity): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (samples.length < count && performance.now() < deadline) {
    const t = performance.now();
    await op();
    samples.push(performance.now() - t);
  }
  return samples;
}

/** `workers` concurrent loops sharing a budget of `count` operations or `seconds`. */
export async function concurrent(workers: Array<() => Promise<unknown>>, count: number, seconds: number): Promise<Stats & { perSecond: number }> {
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    workers.map(async (op) => {
      while (started < count && performance.now() < deadline) {
        started++;
        const t = performance.now();
        await op();
        samples.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { ...stats(samples), perSecond: samples.length / elapsed };
}

/** Runs a synchronous `op` `count` times; returns latencies in ms. */
export function time(op: () => unknown, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    op();
    out.push(performance.now() - t);
  }
  return out;
}
