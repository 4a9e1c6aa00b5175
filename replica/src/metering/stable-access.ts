// The per-message limits on stable memory access (IC0524), and the dirty-page count that the
// instruction charge for stable writes needs.
//
// The IC counts 4 KiB OS pages: a message may touch at most `accessed` bytes and modify at most
// `written` bytes worth of distinct pages (limits.ts: 2 GiB for updates, 8 GiB for
// install/upgrade, 1 GiB for queries). Source: dfinity/ic rs/config/src/embedders.rs
// (STABLE_MEMORY_*_PAGE_LIMIT_*) and the error texts of
// rs/embedders/src/wasmtime_embedder/linker.rs, read 2026-11-28.

import { OS_PAGE_BYTES } from '../limits.ts';
import { ErrorCode } from '../ic/reject-codes.ts';

export class MemoryAccessLimitError extends Error {
  readonly errorCode = ErrorCode.CanisterMemoryAccessLimitExceeded;
  constructor(what: 'accessed' | 'modified', limitBytes: number) {
    super(`Exceeded the limit for the number of ${what} pages in the stable memory in a single message execution: limit: ${Math.floor(limitBytes / 1024)} KB.`);
    this.name = 'MemoryAccessLimitError';
  }
}

/** One message's stable memory accounting. Create one per execution. */
export class StableMemoryAccessMeter {
  private readonly accessedLimitPages: number;
  private readonly writtenLimitPages: number;
  private readonly limits: { accessed: number; written: number };
  private readonly accessed = new Set<number>();
  private readonly dirty = new Set<number>();

  constructor(limits: { accessed: number; written: number }) {
    this.limits = limits;
    this.accessedLimitPages = Math.floor(limits.accessed / OS_PAGE_BYTES);
    this.writtenLimitPages = Math.floor(limits.written / OS_PAGE_BYTES);
  }

  /** A meter with the same limits and the same pages counted so far. */
  clone(): StableMemoryAccessMeter {
    const copy = new StableMemoryAccessMeter(this.limits);
    for (const p of this.accessed) copy.accessed.add(p);
    for (const p of this.dirty) copy.dirty.add(p);
    return copy;
  }

  get accessedPages(): number {
    return this.accessed.size;
  }

  get dirtyPages(): number {
    return this.dirty.size;
  }

  /** Records a read; throws MemoryAccessLimitError past the limit (before the read happens). */
  read(offset: number, length: number): void {
    this.touch(offset, length, false);
  }

  /** Records a write; returns how many pages it dirtied for the first time in this message. */
  write(offset: number, length: number): number {
    return this.touch(offset, length, true);
  }

  private touch(offset: number, length: number, writing: boolean): number {
    if (length <= 0) return 0;
    const first = Math.floor(offset / OS_PAGE_BYTES);
    const last = Math.floor((offset + length - 1) / OS_PAGE_BYTES);
    // Check before recording so a refused access leaves the counts as they were.
    let newAccessed = 0;
    let newDirty = 0;
    for (let p = first; p <= last; p++) {
      if (!this.accessed.has(p)) newAccessed++;
      if (writing && !this.dirty.has(p)) newDirty++;
    }
    if (this.accessed.size + newAccessed > this.accessedLimitPages) throw new MemoryAccessLimitError('accessed', this.limits.accessed);
    if (this.dirty.size + newDirty > this.writtenLimitPages) throw new MemoryAccessLimitError('modified', this.limits.written);
    for (let p = first; p <= last; p++) {
      this.accessed.add(p);
      if (writing) this.dirty.add(p);
    }
    return newDirty;
  }
}

/** `1234567` -> `1.2M cycles`, for log lines. */
export function formatCycles(cycles: bigint): string {
  const units: Array<[bigint, string]> = [
    [10n ** 12n, 'T'],
    [10n ** 9n, 'B'],
    [10n ** 6n, 'M'],
    [10n ** 3n, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (cycles >= size) return `${(Number(cycles) / Number(size)).toFixed(1)}${suffix} cycles`;
  }
  return `${cycles} cycles`;
}
