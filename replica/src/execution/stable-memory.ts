// Stable memory (interface spec, "Stable memory"): 64 KiB pages, stored sparsely so that
// Azle's ~72 MiB of mostly-zero stable memory and the IC's 500 GiB limit cost nothing until
// written. Writes are journaled per page so a trap rolls back in time proportional to what the
// message touched, not to the size of the memory.

export const WASM_PAGE = 65536;

export class StableMemory {
  private pages = new Map<number, Uint8Array>();
  private sizePages = 0;
  /**
   * Open transactions, innermost last: the original contents of pages each one touched
   * (undefined = the page did not exist) and the size when it began. Nested because a
   * composite query keeps its state across callbacks while each callback is itself atomic.
   */
  private journals: { pages: Map<number, Uint8Array | undefined>; size: number }[] = [];
  readonly maxPages: number;
  /**
   * For stores that save what changed (writtenSince): each page written or rolled back, by the
   * value of `writeClock` then. A store then reads and compares those pages only, not the whole
   * memory (Azle keeps ~72 MiB) at every commit.
   */
  private writtenAt = new Map<number, number>();
  private writeClock = 0;
  private readers = new WeakMap<object, number>();

  constructor(maxBytes = 500 * 2 ** 30) {
    this.maxPages = Math.floor(maxBytes / WASM_PAGE);
  }

  get size(): number {
    return this.sizePages;
  }

  get byteLength(): number {
    return this.sizePages * WASM_PAGE;
  }

  /**
   * The pages (64 KiB) that may differ from what this memory held at `reader`'s previous call:
   * written, or restored by a rollback. Undefined on a reader's first call (any page may differ).
   * Growth is not listed: the size says it. A copy (clone, committedCopy) starts with no readers.
   */
  writtenSince(reader: object): number[] | undefined {
    const from = this.readers.get(reader);
    this.readers.set(reader, ++this.writeClock);
    if (from === undefined) return undefined;
    const pages: number[] = [];
    for (const [page, at] of this.writtenAt) if (at >= from) pages.push(page);
    return pages;
  }

  /** Returns the previous size in pages, or -1 when the limit would be exceeded (spec: stable64_grow). */
  grow(deltaPages: number): number {
    const old = this.sizePages;
    if (deltaPages < 0 || old + deltaPages > this.maxPages) return -1;
    this.sizePages = old + deltaPages;
    return old;
  }

  /** Throws RangeError naming offset and size when out of bounds; the caller turns it into a trap. */
  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const page = Math.floor(pos / WASM_PAGE);
      const within = pos % WASM_PAGE;
      const n = Math.min(WASM_PAGE - within, length - done);
      const data = this.pages.get(page);
      if (data) out.set(data.subarray(within, within + n), done);
      done += n;
    }
    return out;
  }

  write(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const pos = offset + done;
      const page = Math.floor(pos / WASM_PAGE);
      const within = pos % WASM_PAGE;
      const n = Math.min(WASM_PAGE - within, bytes.length - done);
      let data = this.pages.get(page);
      this.writtenAt.set(page, this.writeClock);
      const journal = this.journals[this.journals.length - 1];
      if (journal && !journal.pages.has(page)) journal.pages.set(page, data ? data.slice() : undefined);
      if (!data) {
        data = new Uint8Array(WASM_PAGE);
        this.pages.set(page, data);
      }
      data.set(bytes.subarray(done, done + n), within);
      done += n;
    }
  }

  private check(offset: number, length: number): void {
    if (offset + length > this.byteLength || offset < 0 || length < 0) {
      throw new RangeError(`stable memory out of bounds (offset ${offset}, size ${length}, stable memory size ${this.byteLength} bytes)`);
    }
  }

  begin(): void {
    this.journals.push({ pages: new Map(), size: this.sizePages });
  }

  commit(): void {
    const done = this.journals.pop();
    const parent = this.journals[this.journals.length - 1];
    if (done && parent) {
      for (const [page, original] of done.pages) if (!parent.pages.has(page)) parent.pages.set(page, original);
    }
  }

  rollback(): void {
    const journal = this.journals.pop();
    if (!journal) return;
    for (const [page, original] of journal.pages) {
      if (original) this.pages.set(page, original);
      else this.pages.delete(page);
      this.writtenAt.set(page, this.writeClock);
    }
    this.sizePages = journal.size;
  }

  clone(): StableMemory {
    const copy = new StableMemory(this.maxPages * WASM_PAGE);
    copy.sizePages = this.sizePages;
    for (const [page, data] of this.pages) copy.pages.set(page, data.slice());
    return copy;
  }

  /** A copy as it was before the open transactions (what a paused message has not committed yet left out). */
  committedCopy(): StableMemory {
    const copy = this.clone();
    for (let k = this.journals.length - 1; k >= 0; k--) {
      const journal = this.journals[k];
      for (const [page, original] of journal.pages) {
        if (original) copy.pages.set(page, original.slice());
        else copy.pages.delete(page);
      }
      copy.sizePages = journal.size;
    }
    return copy;
  }

  /** Bytes actually stored (pages that were ever written), for status and snapshots' sizes. */
  get residentBytes(): number {
    return this.pages.size * WASM_PAGE;
  }
}
