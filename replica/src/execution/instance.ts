// A running canister module: the WebAssembly instance plus handles on the state the replica
// must be able to capture and restore (heap, mutable globals) for atomic messages, upgrades and
// snapshots (interface spec, "Abstract behaviour": a trap discards the message's state changes).
import { INTERNAL_EXPORT } from './wasm-module.ts';
import { DIRTY_EXPORT, DIRTY_OVERFLOW_SLOT, DIRTY_PAGE_BYTES } from './dirty-pages.ts';
import { WASM_PAGE } from './stable-memory.ts';
import type { LoadedModule } from './module.ts';
import { hypervisorError } from '../ic/user-errors.ts';
import { CanisterTrap, type Closure } from '../system-api/context.ts';
import { OUT_OF_INSTRUCTIONS_EXPORT } from '../metering/instrument.ts';

/** How far past a grown memory the shadow's buffer reaches at most (it doubles up to this). */
const SHADOW_HEADROOM = 64 * 1024 * 1024;

/** Main memory and mutable globals at one point in time. */
export interface HeapSnapshot {
  memory: Uint8Array;
  globals: (number | bigint)[];
}

export class WasmInstance {
  readonly module: LoadedModule;
  private readonly imports: WebAssembly.Imports;
  instance!: WebAssembly.Instance;
  memory!: WebAssembly.Memory;
  table?: WebAssembly.Table;
  globals!: WebAssembly.Global[];
  counter?: WebAssembly.Global;
  /** Entry 0 is what the module calls when its counter goes negative (metering/instrument.ts; slicing.ts). */
  outOfInstructions?: WebAssembly.Table;
  /**
   * Main memory and globals as they were when the current message began, kept in a reused
   * buffer: a message then costs one memcpy (commit: live → shadow, rollback: shadow → live)
   * and no allocation, which matters for Motoko's 5 MiB and Azle's 11 MiB heaps.
   */
  private shadow?: Uint8Array;
  /** What `shadow` is a view of: room for the memory to grow into (growShadow). */
  private shadowBuffer?: Uint8Array;
  private shadowGlobals: (number | bigint)[] = [];
  private shadowValid = false;
  /** One byte per 64 KiB page of main memory, set when the page is written (dirty-pages.ts). */
  private dirty?: Uint8Array;
  /** Bytes of main memory copied by commits and rollbacks so far (what dirty tracking saves shows here). */
  copiedBytes = 0;
  /**
   * For stores that save what changed (writtenSince): each page the dirty map showed written, by
   * the value of `writeClock` when its message ended; `allWrittenAt`: when every page may have
   * changed (a new memory, a whole copy, marks lost).
   */
  private writtenAt = new Map<number, number>();
  private allWrittenAt = 0;
  private writeClock = 0;
  private readers = new WeakMap<object, number>();

  constructor(module: LoadedModule, imports: WebAssembly.Imports) {
    this.module = module;
    this.imports = imports;
    this.instantiate();
  }

  /** Instantiates without running the start function (the rewrite removed the start section). */
  private instantiate(): void {
    this.instance = new WebAssembly.Instance(this.module.compiled, this.imports);
    const ex = this.instance.exports;
    this.memory = (ex[INTERNAL_EXPORT.memory] ?? ex[this.module.info.memoryExport ?? '']) as WebAssembly.Memory;
    if (!this.memory) this.memory = new WebAssembly.Memory({ initial: 0 }); // a module without memory
    this.table = ex[INTERNAL_EXPORT.table] as WebAssembly.Table | undefined;
    this.globals = [];
    for (const g of this.module.info.globals) {
      if (!g.mutable) continue;
      const global = (ex[INTERNAL_EXPORT.global(g.index)] ?? (g.exportName ? ex[g.exportName] : undefined)) as WebAssembly.Global | undefined;
      if (global) this.globals.push(global);
    }
    this.counter = this.module.counterExport ? (ex[this.module.counterExport] as WebAssembly.Global) : undefined;
    this.outOfInstructions = ex[OUT_OF_INSTRUCTIONS_EXPORT] as WebAssembly.Table | undefined;
    const map = ex[DIRTY_EXPORT] as WebAssembly.Memory | undefined;
    this.dirty = map ? new Uint8Array(map.buffer) : undefined;
    this.allWrittenAt = this.writeClock;
  }

  /**
   * The pages of main memory that may have been written since `reader`'s previous call (the
   * messages since then, and the one in progress), or undefined when that is not known (its first
   * call, a module without dirty tracking, a new or wholly copied memory): then any page may have
   * changed. A store compares only these pages with what it saved last time.
   */
  writtenSince(reader: object): number[] | undefined {
    const from = this.readers.get(reader);
    const now = ++this.writeClock;
    this.readers.set(reader, now);
    const dirty = this.dirty;
    if (from === undefined || !dirty || dirty[DIRTY_OVERFLOW_SLOT] !== 0 || this.allWrittenAt >= from) return undefined;
    const pages: number[] = [];
    for (const [page, at] of this.writtenAt) if (at >= from) pages.push(page);
    // Pages the message in progress wrote (a paused execution): marked, not yet stamped.
    const inProgress = Math.min(Math.ceil(this.memory.buffer.byteLength / DIRTY_PAGE_BYTES), DIRTY_OVERFLOW_SLOT);
    for (let p = 0; p < inProgress; p++) if (dirty[p] !== 0 && (this.writtenAt.get(p) ?? -1) < from) pages.push(p);
    return pages;
  }

  /**
   * Makes this instance, a second instance of the same canister code (the unsliced variant,
   * canister.ts, or back from it), hold `source`'s state between messages: main memory, as the
   * message found it and live, and the mutable globals. Copies the pages `source` wrote since
   * this instance's previous sync, or all of memory when that is not known. Returns false when
   * it cannot: this memory is larger than the source's (a memory cannot shrink).
   */
  syncFrom(source: WasmInstance): boolean {
    const size = source.memory.buffer.byteLength;
    if (this.memory.buffer.byteLength > size) return false;
    this.growTo(size);
    const from = new Uint8Array(source.memory.buffer);
    const live = new Uint8Array(this.memory.buffer);
    const pages = source.writtenSince(this);
    if (this.shadowValid && this.shadow && this.shadow.length < size) this.growShadow(size);
    const shadow = this.shadowValid && this.shadow?.length === size ? this.shadow : undefined;
    // The copied pages count as written here, for this instance's own readers (a store saving
    // the canister after an update ran on the other instance).
    if (pages === undefined) {
      live.set(from);
      this.copiedBytes += size;
      // The next message copies the whole memory to the shadow.
      this.shadowValid = false;
      this.allWrittenAt = this.writeClock;
    } else {
      for (const p of pages) {
        const start = p * DIRTY_PAGE_BYTES;
        const chunk = from.subarray(start, Math.min(start + DIRTY_PAGE_BYTES, size));
        live.set(chunk, start);
        shadow?.set(chunk, start);
        this.copiedBytes += chunk.length * (shadow ? 2 : 1);
        this.writtenAt.set(p, this.writeClock);
      }
      if (!shadow) this.shadowValid = false;
    }
    this.globals.forEach((g, i) => (g.value = source.globals[i].value));
    if (this.shadowValid) this.shadowGlobals = this.globals.map((g) => g.value);
    // `source` holds these pages already: when it syncs from this instance, it is up to date
    // as of now (without this, two instances syncing from each other would copy every page
    // back and forth, and after one whole copy, whole copies for ever).
    this.readers.set(source, ++this.writeClock);
    return true;
  }

  /** Records a write the host made into main memory (System API copies). */
  markDirty(offset: number, length: number): void {
    if (!this.dirty || length <= 0) return;
    const first = Math.min(Math.floor(offset / DIRTY_PAGE_BYTES), DIRTY_OVERFLOW_SLOT);
    const last = Math.min(Math.floor((offset + length - 1) / DIRTY_PAGE_BYTES), DIRTY_OVERFLOW_SLOT);
    this.dirty.fill(1, first, last + 1);
  }

  /**
   * Page-wise copying is possible: tracking is on, the size did not change (or, with `grown`, it
   * only grew: a commit copies the marked pages into a longer shadow), nothing overflowed the map.
   */
  private pageWise(grown = false): boolean {
    const size = this.memory.buffer.byteLength;
    return (
      this.dirty !== undefined &&
      this.shadow !== undefined &&
      (this.shadow.length === size || (grown && this.shadow.length < size)) &&
      this.dirty[DIRTY_OVERFLOW_SLOT] === 0
    );
  }

  /**
   * Lengthens the shadow to `size` bytes, the new part zero as grown memory is. The shadow is a
   * view of a larger buffer that doubles when it must, so a heap that grows a page per message
   * (Motoko's does) costs no copy of the whole heap per message.
   */
  private growShadow(size: number): void {
    const old = this.shadow!;
    if (!this.shadowBuffer || this.shadowBuffer.length < size) {
      const buffer = new Uint8Array(Math.max(size, Math.min(2 * old.length, old.length + SHADOW_HEADROOM)));
      buffer.set(old);
      this.shadowBuffer = buffer;
    }
    this.shadow = this.shadowBuffer.subarray(0, size);
    this.shadow.fill(0, old.length);
  }

  /** Copies the marked pages from `from` to `to` and clears the marks. */
  private copyDirtyPages(from: Uint8Array, to: Uint8Array): void {
    const dirty = this.dirty!;
    const pages = Math.min(Math.ceil(to.length / DIRTY_PAGE_BYTES), DIRTY_OVERFLOW_SLOT);
    for (let p = 0; p < pages; p++) {
      if (dirty[p] === 0) continue;
      dirty[p] = 0;
      this.writtenAt.set(p, this.writeClock);
      const start = p * DIRTY_PAGE_BYTES;
      const chunk = from.subarray(start, Math.min(start + DIRTY_PAGE_BYTES, from.length));
      to.set(chunk, start);
      this.copiedBytes += chunk.length;
    }
  }

  private clearDirty(): void {
    this.dirty?.fill(0);
    this.allWrittenAt = this.writeClock;
  }

  private verify(what: string): void {
    if (!this.module.verifyDirtyTracking || !this.shadow) return;
    const live = new Uint32Array(this.memory.buffer);
    const shadow = new Uint32Array(this.shadow.buffer, this.shadow.byteOffset, this.shadow.length / 4);
    for (let k = 0; k < live.length; k++) {
      if (live[k] !== shadow[k])
        throw new Error(`dirty-page tracking missed a write: after ${what}, byte ${k * 4} (page ${Math.floor((k * 4) / DIRTY_PAGE_BYTES)}) differs`);
    }
  }

  runStart(): void {
    const start = this.instance.exports[INTERNAL_EXPORT.start] as (() => void) | undefined;
    start?.();
  }

  hasExport(name: string): boolean {
    return typeof this.instance.exports[name] === 'function';
  }

  callExport(name: string): void {
    (this.instance.exports[name] as () => void)();
  }

  /** The Wasm function and arguments `callExport`/`callClosure`/`runStart` would call, for a call that may suspend (slicing.ts). */
  entryTarget(entry: { export: string } | { closure: Closure } | { start: true }): { fn: WebAssembly.ExportValue; args: unknown[] } | undefined {
    if ('export' in entry) return { fn: this.instance.exports[entry.export], args: [] };
    if ('start' in entry) {
      const start = this.instance.exports[INTERNAL_EXPORT.start];
      return start ? { fn: start, args: [] } : undefined;
    }
    const closure = entry.closure;
    const missing = () => CanisterTrap.of(hypervisorError.functionNotFound(0, closure.fun));
    if (!this.table || closure.fun >= this.table.length) throw missing();
    const f = this.table.get((this.module.info.table64 ? BigInt(closure.fun) : closure.fun) as number) as WebAssembly.ExportValue | null;
    if (typeof f !== 'function') throw missing();
    return { fn: f, args: [this.module.info.memory64 ? closure.env : Number(closure.env)] };
  }

  /** Main memory and globals as the current message found them (the shadow copy), e.g. for queries while the message is paused. */
  committedState(): HeapSnapshot {
    if (!this.shadowValid || !this.shadow) return this.snapshot();
    return { memory: this.shadow.slice(), globals: [...this.shadowGlobals] };
  }

  /** Calls a callback closure: a table index and an environment value (spec: call_new). */
  callClosure(closure: Closure): void {
    // The IC's FunctionNotFound (IC0513): a closure naming no function of table 0.
    const missing = () => CanisterTrap.of(hypervisorError.functionNotFound(0, closure.fun));
    if (!this.table) throw missing();
    const index = this.module.info.table64 ? BigInt(closure.fun) : closure.fun;
    if (closure.fun >= this.table.length) throw missing();
    const f = this.table.get(index as number) as ((env: number | bigint) => void) | null;
    if (typeof f !== 'function') throw missing();
    f(this.module.info.memory64 ? closure.env : Number(closure.env));
  }

  get heapBytes(): number {
    return this.memory.buffer.byteLength;
  }

  snapshot(): HeapSnapshot {
    return { memory: new Uint8Array(this.memory.buffer).slice(), globals: this.globals.map((g) => g.value) };
  }

  /** Starts a message: the shadow copy must equal the live state. */
  beginMessage(): void {
    if (this.shadowValid) return;
    this.copyToShadow();
    this.shadowValid = true;
  }

  /** The message's changes stay: the shadow catches up with the live memory. */
  commitMessage(): void {
    if (this.pageWise(true)) {
      if (this.shadow!.length < this.memory.buffer.byteLength) this.growShadow(this.memory.buffer.byteLength);
      this.copyDirtyPages(new Uint8Array(this.memory.buffer), this.shadow!);
      this.shadowGlobals = this.globals.map((g) => g.value);
      this.verify('commit');
      return;
    }
    this.copyToShadow();
  }

  /** The message's changes go: the live memory and globals return to the shadow copy. */
  rollbackMessage(): void {
    const shadow = this.shadow!;
    if (this.pageWise()) {
      this.copyDirtyPages(shadow, new Uint8Array(this.memory.buffer));
      this.globals.forEach((g, i) => (g.value = this.shadowGlobals[i]));
      this.verify('rollback');
      return;
    }
    this.clearDirty();
    if (this.memory.buffer.byteLength > shadow.length) this.instantiate();
    this.growTo(shadow.length);
    new Uint8Array(this.memory.buffer).set(shadow);
    this.copiedBytes += shadow.length;
    this.globals.forEach((g, i) => (g.value = this.shadowGlobals[i]));
  }

  private copyToShadow(): void {
    this.clearDirty();
    const live = new Uint8Array(this.memory.buffer);
    if (!this.shadow || this.shadow.length !== live.length) {
      this.shadowBuffer = new Uint8Array(live.length);
      this.shadow = this.shadowBuffer;
    }
    this.shadow.set(live);
    this.copiedBytes += live.length;
    this.shadowGlobals = this.globals.map((g) => g.value);
  }

  /**
   * Puts a snapshot of the live state back in the middle of a message, keeping the shadow copy
   * (the committed state) that the message's end returns to; the next commit or rollback then
   * copies whole memories instead of marked pages.
   */
  restoreLive(s: HeapSnapshot): void {
    const valid = this.shadowValid;
    this.loadMemory(s.memory);
    this.globals.forEach((g, i) => (g.value = s.globals[i]));
    this.shadowValid = valid;
    if (this.dirty) this.dirty[DIRTY_OVERFLOW_SLOT] = 1;
  }

  /** Puts back a snapshot. Memory cannot shrink, so a grown memory means a fresh instance. */
  restore(s: HeapSnapshot): void {
    this.shadowValid = false;
    if (this.memory.buffer.byteLength > s.memory.length) this.instantiate();
    this.loadMemory(s.memory);
    this.globals.forEach((g, i) => (g.value = s.globals[i]));
  }

  /** Grows main memory (never shrinks it) to hold at least `bytes` bytes. */
  private growTo(bytes: number): void {
    const current = this.memory.buffer.byteLength;
    if (bytes <= current) return;
    const delta = Math.ceil((bytes - current) / WASM_PAGE);
    this.memory.grow((this.module.info.memory64 ? BigInt(delta) : delta) as number);
  }

  /** Replaces main memory with `bytes` (used for rollback and for EOP upgrades that keep memory). */
  loadMemory(bytes: Uint8Array): void {
    this.shadowValid = false;
    this.allWrittenAt = this.writeClock;
    this.growTo(bytes.length);
    const view = new Uint8Array(this.memory.buffer);
    view.set(bytes);
    if (view.length > bytes.length) view.fill(0, bytes.length);
  }

  /**
   * The innermost canister functions of a trap's stack (at most `depth`), named from the name
   * section, e.g. "ic_trap ← assert_fail ← $lambda", or undefined without Wasm frames.
   */
  /**
   * The IC's canister backtrace of a trap: every Wasm function on the stack, innermost first,
   * by its name-section name ("unknown function at index N" for one without a name). Undefined
   * for a module without a name section, as on the IC. V8 records at most
   * `Error.stackTraceLimit` frames (execute.ts raises it while a message runs).
   */
  wasmFrameNames(error: unknown): string[] | undefined {
    const names = this.module.info.functionNames;
    if (names.size === 0) return undefined;
    const stack = (error as Error)?.stack ?? '';
    const frames = [...stack.matchAll(/wasm-function\[(\d+)\]/g)].map((m) => names.get(Number(m[1])) ?? `unknown function at index ${m[1]}`);
    return frames.length ? frames : undefined;
  }

  wasmFrames(error: unknown, depth = 3): string | undefined {
    const stack = (error as Error)?.stack ?? '';
    const names: string[] = [];
    for (const m of stack.matchAll(/wasm-function\[(\d+)\]/g)) {
      const index = Number(m[1]);
      names.push(this.module.info.functionNames.get(index) ?? `function ${index}`);
      if (names.length === depth) break;
    }
    return names.length ? names.join(' ← ') : undefined;
  }
}
