// Numbers as people read them in the demos.

const integer = new Intl.NumberFormat('en-US');

export function formatCount(n: bigint | number): string {
  return integer.format(typeof n === 'bigint' ? Number(n) : n);
}

/** 1234567 → "1.23 M"; instruction counts span many orders of magnitude. */
export function formatInstructions(n: bigint | number): string {
  const value = Number(n);
  if (value >= 1e9) return `${trim((value / 1e9).toFixed(2))} B`;
  if (value >= 1e6) return `${trim((value / 1e6).toFixed(2))} M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)} K`;
  return integer.format(value);
}

/** "20.00" → "20", "2.50" → "2.5": axis ticks read better without trailing zeros. */
function trim(fixed: string): string {
  return fixed.replace(/\.?0+$/, '');
}

/** Cycles: 1.23 T, 4.56 B, 7.89 M, or the plain count below a million. */
export function formatCycles(n: bigint | number): string {
  const value = Number(n);
  if (value >= 1e12) return `${(value / 1e12).toFixed(2)} T`;
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} B`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  return formatCount(value);
}

export function formatBytes(n: bigint | number): string {
  const value = Number(n);
  if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${value} B`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
