// The WebAssembly instruction set as data: every opcode's text name, the shape of its
// immediates, and what the Internet Computer charges for it.
//
// Opcodes: core spec 2.0 (https://webassembly.github.io/spec/core/binary/instructions.html) plus
// tail calls, memory64 (64-bit offsets and limits), multi-memory memargs, bulk memory, reference
// types, fixed-width and relaxed SIMD, and the threads proposal's atomics (only so that a module
// using them decodes; the IC does not accept them).
//
// Costs follow `instruction_to_cost` in dfinity/ic rs/embedders/src/wasm_utils/instrumentation.rs
// (read 2026-11-28). That table is organised by instruction; ours is organised by opcode and
// written independently, so a reader can check any single entry against the IC's.
// Where they differ: nothing in the table itself. The IC charges loads and stores 1 in a wasm32
// module and 2 in a wasm64 module (by the type of memory 0); so do we (`cost64` below).

/** Immediate shapes. Numbers rather than an enum: Node's type stripping needs erasable syntax. */
export const Imm = {
  none: 0,
  block: 1, // block type: s33 (0x40 empty, a value type, or a type index)
  label: 2, // u32 relative depth
  brTable: 3, // vec(u32) labels, u32 default
  func: 4, // u32 function index
  callIndirect: 5, // u32 type index, u32 table index
  local: 6,
  global: 7,
  table: 8, // u32 table index
  memarg: 9, // u32 align (bit 6: a u32 memory index follows), u64 offset
  memory: 10, // u32 memory index (memory.size / memory.grow)
  i32: 11, // s32
  i64: 12, // s64
  f32: 13, // 4 raw bytes
  f64: 14, // 8 raw bytes
  selectT: 15, // vec(valtype)
  heapType: 16, // s33 (ref.null)
  data: 17, // u32 data index
  elem: 18, // u32 element index
  memoryInit: 19, // u32 data index, u32 memory index
  memoryCopy: 20, // u32 dst memory, u32 src memory
  tableInit: 21, // u32 element index, u32 table index
  tableCopy: 22, // u32 dst table, u32 src table
  v128: 23, // 16 raw bytes
  shuffle: 24, // 16 lane bytes
  lane: 25, // 1 byte lane index
  memargLane: 26, // memarg then 1 byte lane index
  byte: 27, // 1 raw byte (atomic.fence)
} as const;

export type ImmKind = (typeof Imm)[keyof typeof Imm];

/** An opcode as one number: plain opcodes are 0..0xff, prefixed ones are (prefix << 16) | sub. */
export function opcodeKey(prefix: number, sub: number): number {
  return prefix === 0 ? sub : (prefix << 16) | sub;
}

export interface OpInfo {
  name: string;
  key: number;
  imm: ImmKind;
  /** IC cost in a module whose memory 0 is 32-bit. */
  cost32: number;
  /** IC cost in a module whose memory 0 is 64-bit (only loads and stores differ). */
  cost64: number;
}

const byKey = new Map<number, OpInfo>();
const byName = new Map<string, OpInfo>();

// Flat lookup arrays for the hot paths (the instrumenting scanner). Index = opcode or sub-opcode.
export const plainImm = new Uint8Array(256).fill(255); // 255 = unknown opcode
export const plainCost32 = new Uint16Array(256);
export const plainCost64 = new Uint16Array(256);
export const fcImm = new Uint8Array(32).fill(255);
export const fcCost = new Uint16Array(32);
export const fdImm = new Uint8Array(0x120).fill(255);
export const fdCost32 = new Uint16Array(0x120);
export const fdCost64 = new Uint16Array(0x120);
export const feImm = new Uint8Array(0x80).fill(255);

function define(prefix: number, sub: number, name: string, imm: ImmKind, cost32: number, cost64 = cost32): void {
  const key = opcodeKey(prefix, sub);
  const info: OpInfo = { name, key, imm, cost32, cost64 };
  byKey.set(key, info);
  byName.set(name, info);
  if (prefix === 0) {
    plainImm[sub] = imm;
    plainCost32[sub] = cost32;
    plainCost64[sub] = cost64;
  } else if (prefix === 0xfc) {
    fcImm[sub] = imm;
    fcCost[sub] = cost32;
  } else if (prefix === 0xfd) {
    fdImm[sub] = imm;
    fdCost32[sub] = cost32;
    fdCost64[sub] = cost64;
  } else if (prefix === 0xfe) {
    feImm[sub] = imm;
  }
}

export function opInfo(key: number): OpInfo | undefined {
  return byKey.get(key);
}

export function opByName(name: string): OpInfo {
  const info = byName.get(name);
  if (!info) throw new Error(`unknown instruction \`${name}\``);
  return info;
}

// ---- Control (IC: block/loop/else/end are markers and cost 0; branches and `if` cost 2;
// return/drop/unreachable/nop cost 1; call 5, call_indirect 10, return_call 3,
// return_call_indirect 60).
define(0, 0x00, 'unreachable', Imm.none, 1);
define(0, 0x01, 'nop', Imm.none, 1);
define(0, 0x02, 'block', Imm.block, 0);
define(0, 0x03, 'loop', Imm.block, 0);
define(0, 0x04, 'if', Imm.block, 2);
define(0, 0x05, 'else', Imm.none, 0);
define(0, 0x0b, 'end', Imm.none, 0);
define(0, 0x0c, 'br', Imm.label, 2);
define(0, 0x0d, 'br_if', Imm.label, 2);
define(0, 0x0e, 'br_table', Imm.brTable, 2);
define(0, 0x0f, 'return', Imm.none, 1);
define(0, 0x10, 'call', Imm.func, 5);
define(0, 0x11, 'call_indirect', Imm.callIndirect, 10);
define(0, 0x12, 'return_call', Imm.func, 3);
define(0, 0x13, 'return_call_indirect', Imm.callIndirect, 60);

// ---- Parametric and variable access (IC: locals and select 1, globals 2, table.get/set 5).
define(0, 0x1a, 'drop', Imm.none, 1);
define(0, 0x1b, 'select', Imm.none, 1);
define(0, 0x1c, 'select_t', Imm.selectT, 1); // typed select; the IC's table falls back to 1
define(0, 0x20, 'local.get', Imm.local, 1);
define(0, 0x21, 'local.set', Imm.local, 1);
define(0, 0x22, 'local.tee', Imm.local, 1);
define(0, 0x23, 'global.get', Imm.global, 2);
define(0, 0x24, 'global.set', Imm.global, 2);
define(0, 0x25, 'table.get', Imm.table, 5);
define(0, 0x26, 'table.set', Imm.table, 5);

// ---- Memory (IC: loads and stores 1 in wasm32, 2 in wasm64; memory.size 20, memory.grow 300).
const loadsAndStores: Array<[number, string]> = [
  [0x28, 'i32.load'],
  [0x29, 'i64.load'],
  [0x2a, 'f32.load'],
  [0x2b, 'f64.load'],
  [0x2c, 'i32.load8_s'],
  [0x2d, 'i32.load8_u'],
  [0x2e, 'i32.load16_s'],
  [0x2f, 'i32.load16_u'],
  [0x30, 'i64.load8_s'],
  [0x31, 'i64.load8_u'],
  [0x32, 'i64.load16_s'],
  [0x33, 'i64.load16_u'],
  [0x34, 'i64.load32_s'],
  [0x35, 'i64.load32_u'],
  [0x36, 'i32.store'],
  [0x37, 'i64.store'],
  [0x38, 'f32.store'],
  [0x39, 'f64.store'],
  [0x3a, 'i32.store8'],
  [0x3b, 'i32.store16'],
  [0x3c, 'i64.store8'],
  [0x3d, 'i64.store16'],
  [0x3e, 'i64.store32'],
];
for (const [op, name] of loadsAndStores) define(0, op, name, Imm.memarg, 1, 2);
define(0, 0x3f, 'memory.size', Imm.memory, 20);
define(0, 0x40, 'memory.grow', Imm.memory, 300);

// ---- Constants (IC: 1).
define(0, 0x41, 'i32.const', Imm.i32, 1);
define(0, 0x42, 'i64.const', Imm.i64, 1);
define(0, 0x43, 'f32.const', Imm.f32, 1);
define(0, 0x44, 'f64.const', Imm.f64, 1);

// ---- Numeric instructions without immediates, 0x45..0xc4, with the IC's weights:
// integer arithmetic, comparisons, bit counts and conversions between integer widths 1;
// integer div/rem 10; float abs/neg 1, add/sub/mul/rounding 2, f32.div 3, f64.div 5,
// min/max 18, f32.copysign 2, f64.copysign 3, f32.sqrt 5, f64.sqrt 8, float comparisons 3;
// int->float signed 3, unsigned 16; float->int truncation 20; promote/demote 1.
const numeric: Array<[string, number]> = [
  ['i32.eqz', 1],
  ['i32.eq', 1],
  ['i32.ne', 1],
  ['i32.lt_s', 1],
  ['i32.lt_u', 1],
  ['i32.gt_s', 1],
  ['i32.gt_u', 1],
  ['i32.le_s', 1],
  ['i32.le_u', 1],
  ['i32.ge_s', 1],
  ['i32.ge_u', 1],
  ['i64.eqz', 1],
  ['i64.eq', 1],
  ['i64.ne', 1],
  ['i64.lt_s', 1],
  ['i64.lt_u', 1],
  ['i64.gt_s', 1],
  ['i64.gt_u', 1],
  ['i64.le_s', 1],
  ['i64.le_u', 1],
  ['i64.ge_s', 1],
  ['i64.ge_u', 1],
  ['f32.eq', 3],
  ['f32.ne', 3],
  ['f32.lt', 3],
  ['f32.gt', 3],
  ['f32.le', 3],
  ['f32.ge', 3],
  ['f64.eq', 3],
  ['f64.ne', 3],
  ['f64.lt', 3],
  ['f64.gt', 3],
  ['f64.le', 3],
  ['f64.ge', 3],
  ['i32.clz', 1],
  ['i32.ctz', 1],
  ['i32.popcnt', 1],
  ['i32.add', 1],
  ['i32.sub', 1],
  ['i32.mul', 1],
  ['i32.div_s', 10],
  ['i32.div_u', 10],
  ['i32.rem_s', 10],
  ['i32.rem_u', 10],
  ['i32.and', 1],
  ['i32.or', 1],
  ['i32.xor', 1],
  ['i32.shl', 1],
  ['i32.shr_s', 1],
  ['i32.shr_u', 1],
  ['i32.rotl', 1],
  ['i32.rotr', 1],
  ['i64.clz', 1],
  ['i64.ctz', 1],
  ['i64.popcnt', 1],
  ['i64.add', 1],
  ['i64.sub', 1],
  ['i64.mul', 1],
  ['i64.div_s', 10],
  ['i64.div_u', 10],
  ['i64.rem_s', 10],
  ['i64.rem_u', 10],
  ['i64.and', 1],
  ['i64.or', 1],
  ['i64.xor', 1],
  ['i64.shl', 1],
  ['i64.shr_s', 1],
  ['i64.shr_u', 1],
  ['i64.rotl', 1],
  ['i64.rotr', 1],
  ['f32.abs', 1],
  ['f32.neg', 1],
  ['f32.ceil', 2],
  ['f32.floor', 2],
  ['f32.trunc', 2],
  ['f32.nearest', 2],
  ['f32.sqrt', 5],
  ['f32.add', 2],
  ['f32.sub', 2],
  ['f32.mul', 2],
  ['f32.div', 3],
  ['f32.min', 18],
  ['f32.max', 18],
  ['f32.copysign', 2],
  ['f64.abs', 1],
  ['f64.neg', 1],
  ['f64.ceil', 2],
  ['f64.floor', 2],
  ['f64.trunc', 2],
  ['f64.nearest', 2],
  ['f64.sqrt', 8],
  ['f64.add', 2],
  ['f64.sub', 2],
  ['f64.mul', 2],
  ['f64.div', 5],
  ['f64.min', 18],
  ['f64.max', 18],
  ['f64.copysign', 3],
  ['i32.wrap_i64', 1],
  ['i32.trunc_f32_s', 20],
  ['i32.trunc_f32_u', 20],
  ['i32.trunc_f64_s', 20],
  ['i32.trunc_f64_u', 20],
  ['i64.extend_i32_s', 1],
  ['i64.extend_i32_u', 1],
  ['i64.trunc_f32_s', 20],
  ['i64.trunc_f32_u', 20],
  ['i64.trunc_f64_s', 20],
  ['i64.trunc_f64_u', 20],
  ['f32.convert_i32_s', 3],
  ['f32.convert_i32_u', 16],
  ['f32.convert_i64_s', 3],
  ['f32.convert_i64_u', 16],
  ['f32.demote_f64', 1],
  ['f64.convert_i32_s', 3],
  ['f64.convert_i32_u', 16],
  ['f64.convert_i64_s', 3],
  ['f64.convert_i64_u', 16],
  ['f64.promote_f32', 1],
  ['i32.reinterpret_f32', 1],
  ['i64.reinterpret_f64', 1],
  ['f32.reinterpret_i32', 1],
  ['f64.reinterpret_i64', 1],
  ['i32.extend8_s', 1],
  ['i32.extend16_s', 1],
  ['i64.extend8_s', 1],
  ['i64.extend16_s', 1],
  ['i64.extend32_s', 1],
];
numeric.forEach(([name, cost], i) => define(0, 0x45 + i, name, Imm.none, cost));
if (byName.get('i64.extend32_s')!.key !== 0xc4) throw new Error('numeric opcode table is misaligned');

// ---- Reference types (IC: ref.null 1, ref.is_null 5, ref.func 130).
define(0, 0xd0, 'ref.null', Imm.heapType, 1);
define(0, 0xd1, 'ref.is_null', Imm.none, 5);
define(0, 0xd2, 'ref.func', Imm.func, 130);

// ---- 0xFC prefix: saturating truncation (IC: 20) and bulk memory / table operations (IC: a
// static 100 for the copy/fill/init family plus a dynamic charge of their size operand,
// data.drop and elem.drop 300, table.grow 300, table.size 100).
const truncSat = [
  'i32.trunc_sat_f32_s',
  'i32.trunc_sat_f32_u',
  'i32.trunc_sat_f64_s',
  'i32.trunc_sat_f64_u',
  'i64.trunc_sat_f32_s',
  'i64.trunc_sat_f32_u',
  'i64.trunc_sat_f64_s',
  'i64.trunc_sat_f64_u',
];
truncSat.forEach((name, i) => define(0xfc, i, name, Imm.none, 20));
define(0xfc, 8, 'memory.init', Imm.memoryInit, 100);
define(0xfc, 9, 'data.drop', Imm.data, 300);
define(0xfc, 10, 'memory.copy', Imm.memoryCopy, 100);
define(0xfc, 11, 'memory.fill', Imm.memory, 100);
define(0xfc, 12, 'table.init', Imm.tableInit, 100);
define(0xfc, 13, 'elem.drop', Imm.elem, 300);
define(0xfc, 14, 'table.copy', Imm.tableCopy, 100);
define(0xfc, 15, 'table.grow', Imm.table, 300);
define(0xfc, 16, 'table.size', Imm.table, 100);
define(0xfc, 17, 'table.fill', Imm.table, 100);

// ---- 0xFD prefix: SIMD. Memory accesses cost 1 (wasm32) or 2 (wasm64) like scalar ones; the
// rest use the IC's per-instruction weights, and anything the IC's table does not list costs 1.
// [sub-opcode, name, immediate, cost]
const simd: Array<[number, string, ImmKind, number]> = [
  [0x00, 'v128.load', Imm.memarg, 1],
  [0x01, 'v128.load8x8_s', Imm.memarg, 1],
  [0x02, 'v128.load8x8_u', Imm.memarg, 1],
  [0x03, 'v128.load16x4_s', Imm.memarg, 1],
  [0x04, 'v128.load16x4_u', Imm.memarg, 1],
  [0x05, 'v128.load32x2_s', Imm.memarg, 1],
  [0x06, 'v128.load32x2_u', Imm.memarg, 1],
  [0x07, 'v128.load8_splat', Imm.memarg, 1],
  [0x08, 'v128.load16_splat', Imm.memarg, 1],
  [0x09, 'v128.load32_splat', Imm.memarg, 1],
  [0x0a, 'v128.load64_splat', Imm.memarg, 1],
  [0x0b, 'v128.store', Imm.memarg, 1],
  [0x0c, 'v128.const', Imm.v128, 1],
  [0x0d, 'i8x16.shuffle', Imm.shuffle, 3],
  [0x0e, 'i8x16.swizzle', Imm.none, 1],
  [0x0f, 'i8x16.splat', Imm.none, 1],
  [0x10, 'i16x8.splat', Imm.none, 1],
  [0x11, 'i32x4.splat', Imm.none, 1],
  [0x12, 'i64x2.splat', Imm.none, 1],
  [0x13, 'f32x4.splat', Imm.none, 1],
  [0x14, 'f64x2.splat', Imm.none, 1],
  [0x15, 'i8x16.extract_lane_s', Imm.lane, 1],
  [0x16, 'i8x16.extract_lane_u', Imm.lane, 1],
  [0x17, 'i8x16.replace_lane', Imm.lane, 1],
  [0x18, 'i16x8.extract_lane_s', Imm.lane, 1],
  [0x19, 'i16x8.extract_lane_u', Imm.lane, 1],
  [0x1a, 'i16x8.replace_lane', Imm.lane, 1],
  [0x1b, 'i32x4.extract_lane', Imm.lane, 1],
  [0x1c, 'i32x4.replace_lane', Imm.lane, 1],
  [0x1d, 'i64x2.extract_lane', Imm.lane, 1],
  [0x1e, 'i64x2.replace_lane', Imm.lane, 1],
  [0x1f, 'f32x4.extract_lane', Imm.lane, 1],
  [0x20, 'f32x4.replace_lane', Imm.lane, 1],
  [0x21, 'f64x2.extract_lane', Imm.lane, 1],
  [0x22, 'f64x2.replace_lane', Imm.lane, 1],
  // Comparisons: unsigned less-than / greater-than of 8, 16 and 32-bit lanes cost 2.
  [0x23, 'i8x16.eq', Imm.none, 1],
  [0x24, 'i8x16.ne', Imm.none, 1],
  [0x25, 'i8x16.lt_s', Imm.none, 1],
  [0x26, 'i8x16.lt_u', Imm.none, 2],
  [0x27, 'i8x16.gt_s', Imm.none, 1],
  [0x28, 'i8x16.gt_u', Imm.none, 2],
  [0x29, 'i8x16.le_s', Imm.none, 1],
  [0x2a, 'i8x16.le_u', Imm.none, 1],
  [0x2b, 'i8x16.ge_s', Imm.none, 1],
  [0x2c, 'i8x16.ge_u', Imm.none, 1],
  [0x2d, 'i16x8.eq', Imm.none, 1],
  [0x2e, 'i16x8.ne', Imm.none, 1],
  [0x2f, 'i16x8.lt_s', Imm.none, 1],
  [0x30, 'i16x8.lt_u', Imm.none, 2],
  [0x31, 'i16x8.gt_s', Imm.none, 1],
  [0x32, 'i16x8.gt_u', Imm.none, 2],
  [0x33, 'i16x8.le_s', Imm.none, 1],
  [0x34, 'i16x8.le_u', Imm.none, 1],
  [0x35, 'i16x8.ge_s', Imm.none, 1],
  [0x36, 'i16x8.ge_u', Imm.none, 1],
  [0x37, 'i32x4.eq', Imm.none, 1],
  [0x38, 'i32x4.ne', Imm.none, 1],
  [0x39, 'i32x4.lt_s', Imm.none, 1],
  [0x3a, 'i32x4.lt_u', Imm.none, 2],
  [0x3b, 'i32x4.gt_s', Imm.none, 1],
  [0x3c, 'i32x4.gt_u', Imm.none, 2],
  [0x3d, 'i32x4.le_s', Imm.none, 1],
  [0x3e, 'i32x4.le_u', Imm.none, 1],
  [0x3f, 'i32x4.ge_s', Imm.none, 1],
  [0x40, 'i32x4.ge_u', Imm.none, 1],
  [0x41, 'f32x4.eq', Imm.none, 1],
  [0x42, 'f32x4.ne', Imm.none, 1],
  [0x43, 'f32x4.lt', Imm.none, 1],
  [0x44, 'f32x4.gt', Imm.none, 1],
  [0x45, 'f32x4.le', Imm.none, 1],
  [0x46, 'f32x4.ge', Imm.none, 1],
  [0x47, 'f64x2.eq', Imm.none, 1],
  [0x48, 'f64x2.ne', Imm.none, 1],
  [0x49, 'f64x2.lt', Imm.none, 1],
  [0x4a, 'f64x2.gt', Imm.none, 1],
  [0x4b, 'f64x2.le', Imm.none, 1],
  [0x4c, 'f64x2.ge', Imm.none, 1],
  [0x4d, 'v128.not', Imm.none, 1],
  [0x4e, 'v128.and', Imm.none, 1],
  [0x4f, 'v128.andnot', Imm.none, 1],
  [0x50, 'v128.or', Imm.none, 1],
  [0x51, 'v128.xor', Imm.none, 1],
  [0x52, 'v128.bitselect', Imm.none, 1],
  [0x53, 'v128.any_true', Imm.none, 1],
  [0x54, 'v128.load8_lane', Imm.memargLane, 1],
  [0x55, 'v128.load16_lane', Imm.memargLane, 1],
  [0x56, 'v128.load32_lane', Imm.memargLane, 1],
  [0x57, 'v128.load64_lane', Imm.memargLane, 1],
  [0x58, 'v128.store8_lane', Imm.memargLane, 1],
  [0x59, 'v128.store16_lane', Imm.memargLane, 1],
  [0x5a, 'v128.store32_lane', Imm.memargLane, 1],
  [0x5b, 'v128.store64_lane', Imm.memargLane, 1],
  [0x5c, 'v128.load32_zero', Imm.memarg, 1],
  [0x5d, 'v128.load64_zero', Imm.memarg, 1],
  [0x5e, 'f32x4.demote_f64x2_zero', Imm.none, 1],
  [0x5f, 'f64x2.promote_low_f32x4', Imm.none, 1],
  [0x60, 'i8x16.abs', Imm.none, 1],
  [0x61, 'i8x16.neg', Imm.none, 1],
  [0x62, 'i8x16.popcnt', Imm.none, 3],
  [0x63, 'i8x16.all_true', Imm.none, 1],
  [0x64, 'i8x16.bitmask', Imm.none, 1],
  [0x65, 'i8x16.narrow_i16x8_s', Imm.none, 1],
  [0x66, 'i8x16.narrow_i16x8_u', Imm.none, 1],
  [0x67, 'f32x4.ceil', Imm.none, 2],
  [0x68, 'f32x4.floor', Imm.none, 2],
  [0x69, 'f32x4.trunc', Imm.none, 2],
  [0x6a, 'f32x4.nearest', Imm.none, 2],
  [0x6b, 'i8x16.shl', Imm.none, 3],
  [0x6c, 'i8x16.shr_s', Imm.none, 3],
  [0x6d, 'i8x16.shr_u', Imm.none, 2],
  [0x6e, 'i8x16.add', Imm.none, 1],
  [0x6f, 'i8x16.add_sat_s', Imm.none, 1],
  [0x70, 'i8x16.add_sat_u', Imm.none, 1],
  [0x71, 'i8x16.sub', Imm.none, 1],
  [0x72, 'i8x16.sub_sat_s', Imm.none, 1],
  [0x73, 'i8x16.sub_sat_u', Imm.none, 1],
  [0x74, 'f64x2.ceil', Imm.none, 2],
  [0x75, 'f64x2.floor', Imm.none, 2],
  [0x76, 'i8x16.min_s', Imm.none, 1],
  [0x77, 'i8x16.min_u', Imm.none, 1],
  [0x78, 'i8x16.max_s', Imm.none, 1],
  [0x79, 'i8x16.max_u', Imm.none, 1],
  [0x7a, 'f64x2.trunc', Imm.none, 2],
  [0x7b, 'i8x16.avgr_u', Imm.none, 1],
  [0x7c, 'i16x8.extadd_pairwise_i8x16_s', Imm.none, 1],
  [0x7d, 'i16x8.extadd_pairwise_i8x16_u', Imm.none, 2],
  [0x7e, 'i32x4.extadd_pairwise_i16x8_s', Imm.none, 1],
  [0x7f, 'i32x4.extadd_pairwise_i16x8_u', Imm.none, 3],
  [0x80, 'i16x8.abs', Imm.none, 1],
  [0x81, 'i16x8.neg', Imm.none, 1],
  [0x82, 'i16x8.q15mulr_sat_s', Imm.none, 1],
  [0x83, 'i16x8.all_true', Imm.none, 1],
  [0x84, 'i16x8.bitmask', Imm.none, 1],
  [0x85, 'i16x8.narrow_i32x4_s', Imm.none, 1],
  [0x86, 'i16x8.narrow_i32x4_u', Imm.none, 1],
  [0x87, 'i16x8.extend_low_i8x16_s', Imm.none, 1],
  [0x88, 'i16x8.extend_high_i8x16_s', Imm.none, 1],
  [0x89, 'i16x8.extend_low_i8x16_u', Imm.none, 1],
  [0x8a, 'i16x8.extend_high_i8x16_u', Imm.none, 1],
  [0x8b, 'i16x8.shl', Imm.none, 2],
  [0x8c, 'i16x8.shr_s', Imm.none, 2],
  [0x8d, 'i16x8.shr_u', Imm.none, 2],
  [0x8e, 'i16x8.add', Imm.none, 1],
  [0x8f, 'i16x8.add_sat_s', Imm.none, 1],
  [0x90, 'i16x8.add_sat_u', Imm.none, 1],
  [0x91, 'i16x8.sub', Imm.none, 1],
  [0x92, 'i16x8.sub_sat_s', Imm.none, 1],
  [0x93, 'i16x8.sub_sat_u', Imm.none, 1],
  [0x94, 'f64x2.nearest', Imm.none, 2],
  [0x95, 'i16x8.mul', Imm.none, 1],
  [0x96, 'i16x8.min_s', Imm.none, 1],
  [0x97, 'i16x8.min_u', Imm.none, 1],
  [0x98, 'i16x8.max_s', Imm.none, 1],
  [0x99, 'i16x8.max_u', Imm.none, 1],
  [0x9b, 'i16x8.avgr_u', Imm.none, 1],
  [0x9c, 'i16x8.extmul_low_i8x16_s', Imm.none, 1],
  [0x9d, 'i16x8.extmul_high_i8x16_s', Imm.none, 2],
  [0x9e, 'i16x8.extmul_low_i8x16_u', Imm.none, 1],
  [0x9f, 'i16x8.extmul_high_i8x16_u', Imm.none, 2],
  [0xa0, 'i32x4.abs', Imm.none, 1],
  [0xa1, 'i32x4.neg', Imm.none, 1],
  [0xa3, 'i32x4.all_true', Imm.none, 1],
  [0xa4, 'i32x4.bitmask', Imm.none, 1],
  [0xa7, 'i32x4.extend_low_i16x8_s', Imm.none, 1],
  [0xa8, 'i32x4.extend_high_i16x8_s', Imm.none, 1],
  [0xa9, 'i32x4.extend_low_i16x8_u', Imm.none, 1],
  [0xaa, 'i32x4.extend_high_i16x8_u', Imm.none, 1],
  [0xab, 'i32x4.shl', Imm.none, 2],
  [0xac, 'i32x4.shr_s', Imm.none, 2],
  [0xad, 'i32x4.shr_u', Imm.none, 2],
  [0xae, 'i32x4.add', Imm.none, 1],
  [0xb1, 'i32x4.sub', Imm.none, 1],
  [0xb5, 'i32x4.mul', Imm.none, 2],
  [0xb6, 'i32x4.min_s', Imm.none, 1],
  [0xb7, 'i32x4.min_u', Imm.none, 1],
  [0xb8, 'i32x4.max_s', Imm.none, 1],
  [0xb9, 'i32x4.max_u', Imm.none, 1],
  [0xba, 'i32x4.dot_i16x8_s', Imm.none, 1],
  [0xbc, 'i32x4.extmul_low_i16x8_s', Imm.none, 2],
  [0xbd, 'i32x4.extmul_high_i16x8_s', Imm.none, 2],
  [0xbe, 'i32x4.extmul_low_i16x8_u', Imm.none, 2],
  [0xbf, 'i32x4.extmul_high_i16x8_u', Imm.none, 2],
  [0xc0, 'i64x2.abs', Imm.none, 1],
  [0xc1, 'i64x2.neg', Imm.none, 1],
  [0xc3, 'i64x2.all_true', Imm.none, 1],
  [0xc4, 'i64x2.bitmask', Imm.none, 1],
  [0xc7, 'i64x2.extend_low_i32x4_s', Imm.none, 1],
  [0xc8, 'i64x2.extend_high_i32x4_s', Imm.none, 1],
  [0xc9, 'i64x2.extend_low_i32x4_u', Imm.none, 1],
  [0xca, 'i64x2.extend_high_i32x4_u', Imm.none, 1],
  [0xcb, 'i64x2.shl', Imm.none, 2],
  [0xcc, 'i64x2.shr_s', Imm.none, 3],
  [0xcd, 'i64x2.shr_u', Imm.none, 2],
  [0xce, 'i64x2.add', Imm.none, 1],
  [0xd1, 'i64x2.sub', Imm.none, 1],
  [0xd5, 'i64x2.mul', Imm.none, 4],
  [0xd6, 'i64x2.eq', Imm.none, 1],
  [0xd7, 'i64x2.ne', Imm.none, 1],
  [0xd8, 'i64x2.lt_s', Imm.none, 1],
  [0xd9, 'i64x2.gt_s', Imm.none, 1],
  [0xda, 'i64x2.le_s', Imm.none, 1],
  [0xdb, 'i64x2.ge_s', Imm.none, 1],
  [0xdc, 'i64x2.extmul_low_i32x4_s', Imm.none, 1],
  [0xdd, 'i64x2.extmul_high_i32x4_s', Imm.none, 1],
  [0xde, 'i64x2.extmul_low_i32x4_u', Imm.none, 1],
  [0xdf, 'i64x2.extmul_high_i32x4_u', Imm.none, 1],
  [0xe0, 'f32x4.abs', Imm.none, 2],
  [0xe1, 'f32x4.neg', Imm.none, 2],
  [0xe3, 'f32x4.sqrt', Imm.none, 5],
  [0xe4, 'f32x4.add', Imm.none, 2],
  [0xe5, 'f32x4.sub', Imm.none, 2],
  [0xe6, 'f32x4.mul', Imm.none, 2],
  [0xe7, 'f32x4.div', Imm.none, 10],
  [0xe8, 'f32x4.min', Imm.none, 4],
  [0xe9, 'f32x4.max', Imm.none, 4],
  [0xea, 'f32x4.pmin', Imm.none, 1],
  [0xeb, 'f32x4.pmax', Imm.none, 1],
  [0xec, 'f64x2.abs', Imm.none, 2],
  [0xed, 'f64x2.neg', Imm.none, 2],
  [0xef, 'f64x2.sqrt', Imm.none, 14],
  [0xf0, 'f64x2.add', Imm.none, 2],
  [0xf1, 'f64x2.sub', Imm.none, 2],
  [0xf2, 'f64x2.mul', Imm.none, 2],
  [0xf3, 'f64x2.div', Imm.none, 12],
  [0xf4, 'f64x2.min', Imm.none, 4],
  [0xf5, 'f64x2.max', Imm.none, 5],
  [0xf6, 'f64x2.pmin', Imm.none, 1],
  [0xf7, 'f64x2.pmax', Imm.none, 1],
  [0xf8, 'i32x4.trunc_sat_f32x4_s', Imm.none, 2],
  [0xf9, 'i32x4.trunc_sat_f32x4_u', Imm.none, 4],
  [0xfa, 'f32x4.convert_i32x4_s', Imm.none, 1],
  [0xfb, 'f32x4.convert_i32x4_u', Imm.none, 4],
  [0xfc, 'i32x4.trunc_sat_f64x2_s_zero', Imm.none, 2],
  [0xfd, 'i32x4.trunc_sat_f64x2_u_zero', Imm.none, 3],
  [0xfe, 'f64x2.convert_low_i32x4_s', Imm.none, 1],
  [0xff, 'f64x2.convert_low_i32x4_u', Imm.none, 1],
  // Relaxed SIMD (0x100..0x113): decoded so modules parse; the IC's table has no entry (cost 1).
  [0x100, 'i8x16.relaxed_swizzle', Imm.none, 1],
  [0x101, 'i32x4.relaxed_trunc_f32x4_s', Imm.none, 1],
  [0x102, 'i32x4.relaxed_trunc_f32x4_u', Imm.none, 1],
  [0x103, 'i32x4.relaxed_trunc_f64x2_s_zero', Imm.none, 1],
  [0x104, 'i32x4.relaxed_trunc_f64x2_u_zero', Imm.none, 1],
  [0x105, 'f32x4.relaxed_madd', Imm.none, 1],
  [0x106, 'f32x4.relaxed_nmadd', Imm.none, 1],
  [0x107, 'f64x2.relaxed_madd', Imm.none, 1],
  [0x108, 'f64x2.relaxed_nmadd', Imm.none, 1],
  [0x109, 'i8x16.relaxed_laneselect', Imm.none, 1],
  [0x10a, 'i16x8.relaxed_laneselect', Imm.none, 1],
  [0x10b, 'i32x4.relaxed_laneselect', Imm.none, 1],
  [0x10c, 'i64x2.relaxed_laneselect', Imm.none, 1],
  [0x10d, 'f32x4.relaxed_min', Imm.none, 1],
  [0x10e, 'f32x4.relaxed_max', Imm.none, 1],
  [0x10f, 'f64x2.relaxed_min', Imm.none, 1],
  [0x110, 'f64x2.relaxed_max', Imm.none, 1],
  [0x111, 'i16x8.relaxed_q15mulr_s', Imm.none, 1],
  [0x112, 'i16x8.relaxed_dot_i8x16_i7x16_s', Imm.none, 1],
  [0x113, 'i32x4.relaxed_dot_i8x16_i7x16_add_s', Imm.none, 1],
];
for (const [sub, name, imm, cost] of simd) {
  const isMemoryAccess = imm === Imm.memarg || imm === Imm.memargLane;
  define(0xfd, sub, name, imm, cost, isMemoryAccess ? 2 : cost);
}

// ---- 0xFE prefix: atomics (threads proposal). The IC rejects modules that use them; we decode
// them so that such a module fails with a clear message from the engine rather than here.
define(0xfe, 0x00, 'memory.atomic.notify', Imm.memarg, 1);
define(0xfe, 0x01, 'memory.atomic.wait32', Imm.memarg, 1);
define(0xfe, 0x02, 'memory.atomic.wait64', Imm.memarg, 1);
define(0xfe, 0x03, 'atomic.fence', Imm.byte, 1);
const atomicNames = [
  'i32.atomic.load',
  'i64.atomic.load',
  'i32.atomic.load8_u',
  'i32.atomic.load16_u',
  'i64.atomic.load8_u',
  'i64.atomic.load16_u',
  'i64.atomic.load32_u',
  'i32.atomic.store',
  'i64.atomic.store',
  'i32.atomic.store8',
  'i32.atomic.store16',
  'i64.atomic.store8',
  'i64.atomic.store16',
  'i64.atomic.store32',
];
atomicNames.forEach((name, i) => define(0xfe, 0x10 + i, name, Imm.memarg, 1));
const rmwOps = ['add', 'sub', 'and', 'or', 'xor', 'xchg', 'cmpxchg'];
const rmwTypes = ['i32', 'i64', 'i32.8_u', 'i32.16_u', 'i64.8_u', 'i64.16_u', 'i64.32_u'];
rmwOps.forEach((op, j) =>
  rmwTypes.forEach((t, i) => {
    const [valueType, width] = t.split('.');
    const name = width ? `${valueType}.atomic.rmw${width.replace('_u', '')}.${op}_u` : `${valueType}.atomic.rmw.${op}`;
    define(0xfe, 0x1e + j * 7 + i, name, Imm.memarg, 1);
  }),
);

/** Value type bytes (https://webassembly.github.io/spec/core/binary/types.html). */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
  funcref: 0x70,
  externref: 0x6f,
} as const;

/** Block types as their s33 values: the empty type, or a value type byte read as negative s33. */
export const BlockType = {
  empty: -64, // 0x40
  i32: -1, // 0x7f
  i64: -2, // 0x7e
  f32: -3,
  f64: -4,
  v128: -5,
  funcref: -16, // 0x70
  externref: -17, // 0x6f
} as const;

/** Every instruction the decoder knows, for tests that want to cover them all. */
export function allOpcodes(): OpInfo[] {
  return [...byKey.values()];
}
