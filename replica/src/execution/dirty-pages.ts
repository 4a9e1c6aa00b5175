// Dirty-page tracking for rollback. The IC learns which pages a message wrote from the OS (page
// protection); JavaScript cannot, so the module is rewritten to record it: every store to main
// memory, and every memory.fill / memory.copy / memory.init into it, first marks the 64 KiB
// page(s) it touches in a one-byte-per-page map kept in a second, exported memory. Rollback and
// commit then copy only the marked pages instead of the whole heap (Motoko's 5 MiB, Azle's
// 11 MiB and more), which is what makes queries cheap.
//
// The rewrite appends a memory (index 1), helper functions (one for ranges, one per store offset
// and size) and a few locals per function that writes;
// no existing index changes, so the name section, exports and callback table indices stay valid.
// It runs after metering, so the marking code is not counted as the canister's instructions.
// Modules it cannot handle (several memories, atomics) are left alone and rolled back by full
// copies. A pass over the decoded module (../wasm/module.ts) that, like metering, walks each body's
// bytes once and writes only what it inserts (BodyMarker); the helpers it appends are small
// instruction lists (../wasm/code.ts).
import { importCounts, memoryLimits, type WasmModule } from '../wasm/module.ts';
import { encodeFunctionBody, i, skipImmediate, type Instr } from '../wasm/code.ts';
import { ByteReader, ByteWriter, WasmDecodeError, u32Size } from '../wasm/binary.ts';
import { ValType, fcImm, fdImm, feImm, opByName, plainImm } from '../wasm/opcodes.ts';

export const DIRTY_EXPORT = '__replica_dirty_pages';
/** Granularity of tracking: one Wasm page. */
export const DIRTY_PAGE_BYTES = 65536;
/** Map entries (2 Wasm pages of map): pages beyond 8 GiB all mark the last entry, which means "copy everything". */
export const DIRTY_SLOTS = 131072;
export const DIRTY_OVERFLOW_SLOT = DIRTY_SLOTS - 1;

type ValueType = number;

const STORES: Record<string, [size: number, type: ValueType]> = {
  'i32.store': [4, ValType.i32],
  'i64.store': [8, ValType.i64],
  'f32.store': [4, ValType.f32],
  'f64.store': [8, ValType.f64],
  'i32.store8': [1, ValType.i32],
  'i32.store16': [2, ValType.i32],
  'i64.store8': [1, ValType.i64],
  'i64.store16': [2, ValType.i64],
  'i64.store32': [4, ValType.i64],
  'v128.store': [16, ValType.v128],
  'v128.store8_lane': [1, ValType.v128],
  'v128.store16_lane': [2, ValType.v128],
  'v128.store32_lane': [4, ValType.v128],
  'v128.store64_lane': [8, ValType.v128],
};

// The instructions the pass rewrites, by opcode, from the instruction table: plain stores by
// opcode and SIMD stores by 0xfd sub-opcode (value: index into STORE_KINDS), bulk memory
// operations by 0xfc sub-opcode.
const plainStore = new Int8Array(256).fill(-1);
const simdStore = new Int8Array(fdImm.length).fill(-1);
const STORE_KINDS = Object.entries(STORES).map(([name, [size, type]], k) => {
  const key = opByName(name).key;
  if (key > 0xff) simdStore[key & 0xffff] = k;
  else plainStore[key] = k;
  return { size, type };
});
const MEMORY_INIT = opByName('memory.init').key & 0xffff;
const MEMORY_COPY = opByName('memory.copy').key & 0xffff;
const MEMORY_FILL = opByName('memory.fill').key & 0xffff;

// What the pass inserts.
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const CALL = 0x10;
const I64_EXTEND_I32_U = 0xad;

// Scratch locals of a body by role; the stored value gets one local per value type.
const ADDRESS = 0;
const LENGTH = 1;
const SOURCE = 2;
const LENGTH32 = 3;
const VALUE_TYPES: readonly number[] = [ValType.i32, ValType.i64, ValType.f32, ValType.f64, ValType.v128];
const VALUE = 4; // + index in VALUE_TYPES
const valueSlot = (type: number) => VALUE + VALUE_TYPES.indexOf(type);

/** What `BodyMarker.rewrite` returns for a body with atomic instructions. */
const ATOMICS = 1;

/**
 * Rewrites `m` in place to record its writes. Returns false, with `m` unchanged, when the module
 * is not one this pass handles. Throws `WasmDecodeError` when a body does not decode.
 */
export function trackDirtyPages(m: WasmModule): boolean {
  const memories = memoryLimits(m);
  if (memories.length !== 1) return false;
  const memory64 = (memories[0].flags & 0x04) !== 0;
  const counts = importCounts(m);

  // Appended functions: the range helper, then one store helper per (static offset, store size)
  // in order of first use. Bodies are rewritten before `m` changes, so a module refused half-way
  // (atomics) is left as it was.
  const markRange = counts.funcs + m.functions.length;
  // By store size, then static offset (number keys: this runs once per store).
  const storeHelpers: { index: number; offset: number; size: number }[] = [];
  const helperBySize = new Map<number, Map<number, number>>();
  const markStore = (offset: number, size: number): number => {
    let byOffset = helperBySize.get(size);
    if (byOffset === undefined) helperBySize.set(size, (byOffset = new Map()));
    let index = byOffset.get(offset);
    if (index === undefined) {
      index = markRange + 1 + storeHelpers.length;
      storeHelpers.push({ index, offset, size });
      byOffset.set(offset, index);
    }
    return index;
  };
  const marker = new BodyMarker(memory64, markRange, markStore);
  const rewritten: (Uint8Array | undefined)[] = new Array(m.code.length);
  for (let f = 0; f < m.code.length; f++) {
    const body = m.code[f];
    const type = m.types[m.functions[f]];
    if (!type) throw new WasmDecodeError(`function ${counts.funcs + f} has an unknown type ${m.functions[f]}`, body.offset);
    const out = marker.rewrite(body.bytes, body.offset, type.params.length);
    if (out === ATOMICS) return false;
    rewritten[f] = out;
  }

  const mapMemory = 1;
  m.memories.push({ flags: 0x01, min: DIRTY_SLOTS / 65536, max: DIRTY_SLOTS / 65536 });
  m.exports.push({ name: DIRTY_EXPORT, kind: 2, index: mapMemory } as WasmModule['exports'][number]);
  if (!m.order.includes('memory')) insertSection(m, 'memory');
  if (!m.order.includes('export')) insertSection(m, 'export');
  for (let f = 0; f < rewritten.length; f++) {
    const bytes = rewritten[f];
    if (bytes) m.code[f] = { bytes, offset: -1 }; // bodies that write nothing to memory 0 stay as they were
  }

  appendFunction(m, [ValType.i64, ValType.i64], markRangeBody(mapMemory));
  // One helper per (static offset, store size): (address) -> address, marking the page(s) of bytes
  // address + offset .. + size - 1. Keeping the added code at a call per store matters: V8 inlines
  // a callee only while caller + callee stay within a budget of about max(700 bytes, 1.1 x caller),
  // and longer marking code (two calls with address arithmetic, or inline marking) pushed Motoko's
  // hot callers past it once metering had grown their callees (the metered/unmetered ratio went
  // from ~1.2x to 2.2-2.7x).
  const addr = memory64 ? ValType.i64 : ValType.i32;
  const widen: Instr[] = memory64 ? [] : [i('i64.extend_i32_u')];
  for (const { offset, size } of storeHelpers) {
    appendFunction(m, [addr], markStoreBody(mapMemory, widen, BigInt(offset), size), [addr], [ValType.i64, ValType.i64]);
  }
  return true;
}

/**
 * Adds the marking code to function bodies the way the metering pass adds its own
 * (../metering/instrument.ts): one walk over the body's bytes, which copies the original in
 * ranges and writes only the inserted instructions, before each store, memory.fill, memory.copy
 * and memory.init into memory 0:
 *
 * - a store `[address, value]`: `local.set value; call $mark_store; local.get value` (the helper
 *   takes the address, marks, and hands it back: 7 bytes a store);
 * - memory.fill `[dst, value, n]`, memory.copy `[dst, src, n]` (only the destination is written),
 *   memory.init `[dst, src offset: i32, n: i32]`: the three operands into locals, then
 *   `$mark_range(dst, n)` (both widened to i64), then the operands back.
 *
 * Scratch locals are added on first use only: functions without stores keep their bytes, and V8
 * inlines small functions only (Motoko's add<Nat64> in a hot loop, for one).
 */
class BodyMarker {
  private readonly code = new ByteWriter(1 << 16);
  /** Local index of each scratch role in the current body, -1 until first used. */
  private readonly scratch = new Int32Array(VALUE + VALUE_TYPES.length);
  /** Types of the scratch locals of the current body, in the order they were added. */
  private readonly added: number[] = [];
  private nextLocal = 0;
  private readonly markRangeLeb: Uint8Array;
  private readonly memory64: boolean;
  private readonly markStore: (offset: number, size: number) => number;

  constructor(memory64: boolean, markRange: number, markStore: (offset: number, size: number) => number) {
    this.memory64 = memory64;
    this.markStore = markStore;
    const w = new ByteWriter(5);
    w.u32(markRange);
    this.markRangeLeb = w.finish();
  }

  /**
   * The body with marking code; undefined when it writes nothing to memory 0 (keep it as it is);
   * ATOMICS when it uses atomics. `paramCount`: the function's parameters (scratch locals are
   * numbered after all locals).
   */
  rewrite(body: Uint8Array, baseOffset: number, paramCount: number): Uint8Array | undefined | typeof ATOMICS {
    const r = new ByteReader(body, 0, body.length, baseOffset);
    const groups = r.u32();
    const groupsStart = r.pos;
    let locals = paramCount;
    for (let g = 0; g < groups; g++) {
      locals += r.u32();
      r.u8();
    }
    const localsEnd = r.pos;
    this.scratch.fill(-1);
    this.added.length = 0;
    this.nextLocal = locals;
    this.code.len = 0;
    let copied = localsEnd; // original bytes before this are in `code` (or are the locals)
    while (r.pos < r.end) {
      const start = r.pos;
      const op = body[r.pos++];
      if (op < 0xfc) {
        const imm = plainImm[op];
        if (imm === 255) {
          r.pos = start;
          r.fail(`unknown opcode 0x${op.toString(16)}`);
        }
        const store = plainStore[op];
        if (store < 0) skipImmediate(r, imm);
        else if (this.writesMemory0(r, false)) copied = this.insertBefore(body, copied, start, store);
        continue;
      }
      const sub = r.u32();
      const imm = op === 0xfc ? fcImm[sub] : op === 0xfd ? fdImm[sub] : op === 0xfe ? feImm[sub] : 255;
      if (imm === undefined || imm === 255) {
        r.pos = start;
        r.fail(`unknown opcode 0x${op.toString(16)} ${sub}`);
      }
      if (op === 0xfe) return ATOMICS; // threads: the IC refuses them; such a module is left alone
      if (op === 0xfd) {
        const store = simdStore[sub];
        if (store < 0) skipImmediate(r, imm);
        else if (this.writesMemory0(r, true)) copied = this.insertBefore(body, copied, start, store);
      } else if (sub === MEMORY_FILL || sub === MEMORY_COPY || sub === MEMORY_INIT) {
        // memory.fill: memory; memory.copy: destination, source; memory.init: data, memory
        const first = r.u32();
        const second = sub === MEMORY_FILL ? first : r.u32();
        if ((sub === MEMORY_INIT ? second : first) === 0) copied = this.insertBefore(body, copied, start, -1 - sub);
      } else skipImmediate(r, imm);
    }
    if (this.added.length === 0) return undefined;
    this.copy(body, copied, body.length);
    // The locals: the original groups, then one group of 1 per scratch local.
    const header = u32Size(groups + this.added.length) + (localsEnd - groupsStart) + 2 * this.added.length;
    const out = new ByteWriter(header + this.code.len);
    out.u32(groups + this.added.length);
    out.bytes(body.subarray(groupsStart, localsEnd));
    for (const type of this.added) {
      out.u8(1);
      out.u8(type);
    }
    out.bytes(this.code.view());
    return out.view();
  }

  /** Static offset of the store `writesMemory0` read last. */
  private pendingOffset = 0;

  /** Reads a store's memarg (and lane index); true when the store writes memory 0. */
  private writesMemory0(r: ByteReader, lane: boolean): boolean {
    const flags = r.u32();
    const memory = flags & 0x40 ? r.u32() : 0;
    this.pendingOffset = r.u64();
    if (lane) r.pos++;
    return memory === 0;
  }

  /**
   * Copies the original bytes up to `at` (the instruction's first byte) and writes the marking
   * code for store kind `what` (>= 0) or bulk operation 0xfc `-1 - what`. Returns the new copy
   * position.
   */
  private insertBefore(body: Uint8Array, copied: number, at: number, what: number): number {
    this.copy(body, copied, at);
    const w = this.code;
    const memory64 = this.memory64;
    if (what >= 0) {
      const { size, type } = STORE_KINDS[what];
      const value = this.local(valueSlot(type), type);
      const helper = this.markStore(this.pendingOffset, size);
      w.ensure(20);
      w.u8(LOCAL_SET);
      w.u32(value);
      w.u8(CALL);
      w.u32(helper);
      w.u8(LOCAL_GET);
      w.u32(value);
      return at;
    }
    const sub = -1 - what;
    const addr = memory64 ? ValType.i64 : ValType.i32;
    // Operands in locals, in the order they are popped: length, then value or source, then address.
    const init = sub === MEMORY_INIT;
    const length = init ? this.local(LENGTH32, ValType.i32) : this.local(LENGTH, addr);
    const middle = sub === MEMORY_COPY ? this.local(SOURCE, addr) : this.local(valueSlot(ValType.i32), ValType.i32);
    const address = this.local(ADDRESS, addr);
    w.ensure(64);
    w.u8(LOCAL_SET);
    w.u32(length);
    w.u8(LOCAL_SET);
    w.u32(middle);
    w.u8(LOCAL_SET);
    w.u32(address);
    w.u8(LOCAL_GET);
    w.u32(address);
    if (!memory64) w.u8(I64_EXTEND_I32_U);
    w.u8(LOCAL_GET);
    w.u32(length);
    if (init || !memory64) w.u8(I64_EXTEND_I32_U);
    w.u8(CALL);
    w.bytes(this.markRangeLeb);
    w.u8(LOCAL_GET);
    w.u32(address);
    w.u8(LOCAL_GET);
    w.u32(middle);
    w.u8(LOCAL_GET);
    w.u32(length);
    return at;
  }

  /** Copies the original bytes [from, to). */
  private copy(body: Uint8Array, from: number, to: number): void {
    if (to > from) this.code.bytes(body.subarray(from, to));
  }

  /** Index of the scratch local in `slot` (of type `type`), added on first use. */
  private local(slot: number, type: number): number {
    let index = this.scratch[slot];
    if (index < 0) {
      index = this.nextLocal++;
      this.scratch[slot] = index;
      this.added.push(type);
    }
    return index;
  }
}

/**
 * (address) -> address: marks the page(s) of bytes ea .. ea + size - 1 with ea = address + offset
 * (widened to i64); pages past the map mark the overflow slot. Locals 1 (ea) and 2 (page), i64.
 */
function markStoreBody(map: number, widen: Instr[], offset: bigint, size: number): Instr[] {
  const markPage = (last: bigint): Instr[] => [
    i('local.get', 1),
    ...(last === 0n ? [] : [i('i64.const', last), i('i64.add')]),
    i('i64.const', 16n),
    i('i64.shr_u'),
    i('local.tee', 2),
    i('i64.const', BigInt(DIRTY_OVERFLOW_SLOT)),
    i('local.get', 2),
    i('i64.const', BigInt(DIRTY_OVERFLOW_SLOT)),
    i('i64.le_u'),
    i('select'),
    i('i32.wrap_i64'),
    i('i32.const', 1),
    i('i32.store8', { memory: map, align: 0 }),
  ];
  return [
    i('local.get', 0),
    ...widen,
    i('i64.const', offset),
    i('i64.add'),
    i('local.set', 1),
    ...markPage(0n),
    ...(size > 1 ? markPage(BigInt(size - 1)) : []),
    i('local.get', 0),
    i('end'),
  ];
}

/** (start: i64, length: i64) marks every page of the range; an empty range marks nothing. */
function markRangeBody(map: number): Instr[] {
  const clamp = (local: number): Instr[] => [
    i('local.get', local),
    i('i64.const', BigInt(DIRTY_OVERFLOW_SLOT)),
    i('i64.gt_u'),
    i('if', -64),
    i('i64.const', BigInt(DIRTY_OVERFLOW_SLOT)),
    i('local.set', local),
    i('end'),
  ];
  return [
    i('local.get', 1),
    i('i64.eqz'),
    i('if', -64),
    i('return'),
    i('end'),
    // last page = (start + length - 1) >> 16, into local 1; first page = start >> 16, into local 0
    i('local.get', 0),
    i('local.get', 1),
    i('i64.add'),
    i('i64.const', 1n),
    i('i64.sub'),
    i('i64.const', 16n),
    i('i64.shr_u'),
    i('local.set', 1),
    i('local.get', 0),
    i('i64.const', 16n),
    i('i64.shr_u'),
    i('local.set', 0),
    ...clamp(0),
    ...clamp(1),
    // memory.fill map[first .. last] = 1
    i('local.get', 0),
    i('i32.wrap_i64'),
    i('i32.const', 1),
    i('local.get', 1),
    i('local.get', 0),
    i('i64.sub'),
    i('i64.const', 1n),
    i('i64.add'),
    i('i32.wrap_i64'),
    i('memory.fill', map),
    i('end'),
  ];
}

function appendFunction(m: WasmModule, params: ValueType[], instrs: Instr[], results: ValueType[] = [], locals: ValueType[] = []): void {
  const same = (x: ValueType[], y: ValueType[]) => x.length === y.length && x.every((v, k) => v === y[k]);
  let typeIndex = m.types.findIndex((t) => same(t.params, params) && same(t.results, results));
  if (typeIndex < 0) {
    m.types.push({ params, results });
    typeIndex = m.types.length - 1;
  }
  m.functions.push(typeIndex);
  m.code.push({ bytes: encodeFunctionBody({ locals: locals.map((type) => ({ count: 1, type })), instrs }), offset: -1 });
}

/** Adds an empty section id to the module's order at its spec position. */
function insertSection(m: WasmModule, name: string): void {
  const rank = ['type', 'import', 'function', 'table', 'memory', 'tag', 'global', 'export', 'start', 'element', 'dataCount', 'code', 'data'];
  const at = m.order.findIndex((e) => !e.startsWith('custom:') && rank.indexOf(e) > rank.indexOf(name));
  if (at < 0) m.order.push(name);
  else m.order.splice(at, 0, name);
}
