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
// copies. A pass over the decoded module (../wasm/module.ts), its bodies as instruction lists
// (../wasm/code.ts).
import { importCounts, memoryLimits, type WasmModule } from '../wasm/module.ts';
import { decodeFunctionBody, encodeFunctionBody, i, type Instr, type MemArg } from '../wasm/code.ts';
import { ValType } from '../wasm/opcodes.ts';

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

/**
 * Rewrites `m` in place to record its writes. Returns false, with `m` unchanged, when the module
 * is not one this pass handles.
 */
export function trackDirtyPages(m: WasmModule): boolean {
  const memories = memoryLimits(m);
  if (memories.length !== 1) return false;
  const memory64 = (memories[0].flags & 0x04) !== 0;
  const counts = importCounts(m);
  const bodies = m.code.map((c) => decodeFunctionBody(c.bytes, c.offset));
  for (const body of bodies) {
    for (const ins of body.instrs) if (ins.op.includes('atomic')) return false;
  }

  const mapMemory = 1;
  m.memories.push({ flags: 0x01, min: DIRTY_SLOTS / 65536, max: DIRTY_SLOTS / 65536 });
  m.exports.push({ name: DIRTY_EXPORT, kind: 2, index: mapMemory } as WasmModule['exports'][number]);
  if (!m.order.includes('memory')) insertSection(m, 'memory');
  if (!m.order.includes('export')) insertSection(m, 'export');

  const markRange = counts.funcs + m.functions.length;
  appendFunction(m, [ValType.i64, ValType.i64], markRangeBody(mapMemory));

  const addr = memory64 ? ValType.i64 : ValType.i32;
  const widen: Instr[] = memory64 ? [] : [i('i64.extend_i32_u')];
  // One helper per (static offset, store size): (address) -> address, marking the page(s) of bytes
  // address + offset .. + size - 1. Keeping the added code at a call per store matters: V8 inlines
  // a callee only while caller + callee stay within a budget of about max(700 bytes, 1.1 x caller),
  // and longer marking code (two calls with address arithmetic, or inline marking) pushed Motoko's
  // hot callers past it once metering had grown their callees (the metered/unmetered ratio went
  // from ~1.2x to 2.2-2.7x).
  const storeHelpers = new Map<string, number>();
  const markStore = (offset: bigint, size: number): number => {
    const key = `${offset}:${size}`;
    let index = storeHelpers.get(key);
    if (index === undefined) {
      index = counts.funcs + m.functions.length;
      appendFunction(m, [addr], markStoreBody(mapMemory, widen, offset, size), [addr], [ValType.i64, ValType.i64]);
      storeHelpers.set(key, index);
    }
    return index;
  };
  const typeOf = (f: number) => m.types[m.functions[f]];
  bodies.forEach((body, f) => {
    let next = typeOf(f).params.length + body.locals.reduce((n, l) => n + l.count, 0);
    // Scratch locals are added on first use only: functions without stores keep their size, and
    // V8 inlines small functions only (Motoko's add<Nat64> in a hot loop, for one).
    const scratch = new Map<string, number>();
    const local = (role: string, type: ValueType) => {
      let index = scratch.get(role);
      if (index === undefined) {
        body.locals.push({ count: 1, type });
        index = next++;
        scratch.set(role, index);
      }
      return index;
    };
    const a = () => local('a', addr);
    const n = () => local('n', addr);
    const s = () => local('s', addr);
    const n32 = () => local('n32', ValType.i32);
    const value = (type: ValueType) => local(`value${type}`, type);
    const out: Instr[] = [];
    for (const ins of body.instrs) {
      const store = STORES[ins.op];
      if (store && (ins.imm as MemArg).memory === 0) {
        const [size, type] = store;
        const offset = BigInt((ins.imm as MemArg).offset);
        // [address, value]: the helper takes the address, marks, and hands it back (7 bytes a store)
        out.push(i('local.set', value(type)), i('call', markStore(offset, size)), i('local.get', value(type)), ins);
      } else if (ins.op === 'memory.fill' && ins.imm === 0) {
        // [dst, value, n]
        out.push(i('local.set', n()), i('local.set', value(ValType.i32)), i('local.set', a()));
        out.push(i('local.get', a()), ...widen, i('local.get', n()), ...widen, i('call', markRange));
        out.push(i('local.get', a()), i('local.get', value(ValType.i32)), i('local.get', n()), ins);
      } else if (ins.op === 'memory.copy' && (ins.imm as { a: number }).a === 0) {
        // [dst, src, n]; only the destination is written
        out.push(i('local.set', n()), i('local.set', s()), i('local.set', a()));
        out.push(i('local.get', a()), ...widen, i('local.get', n()), ...widen, i('call', markRange));
        out.push(i('local.get', a()), i('local.get', s()), i('local.get', n()), ins);
      } else if (ins.op === 'memory.init' && (ins.imm as { b: number }).b === 0) {
        // [dst (address), src offset (i32), n (i32)]
        out.push(i('local.set', n32()), i('local.set', value(ValType.i32)), i('local.set', a()));
        out.push(i('local.get', a()), ...widen, i('local.get', n32()), i('i64.extend_i32_u'), i('call', markRange));
        out.push(i('local.get', a()), i('local.get', value(ValType.i32)), i('local.get', n32()), ins);
      } else {
        out.push(ins);
      }
    }
    if (scratch.size === 0) return; // nothing written to main memory: the body stays as it was
    body.instrs = out;
    m.code[f] = { bytes: encodeFunctionBody(body), offset: -1 };
  });
  return true;
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
