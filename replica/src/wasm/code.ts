// Function bodies as instruction lists, both directions, plus a tiny assembler for tests and
// hand-built modules (https://webassembly.github.io/spec/core/binary/instructions.html).

import { ByteReader, ByteWriter } from './binary.ts';
import { Imm, opByName, opInfo, opcodeKey } from './opcodes.ts';

export interface MemArg {
  align: number;
  offset: number;
  memory: number;
}

export interface BrTable {
  labels: number[];
  default: number;
}

/** Two indices: call_indirect (type, table), memory.init (data, memory), copies (dst, src). */
export interface IndexPair {
  a: number;
  b: number;
}

export type Immediate = number | bigint | Uint8Array | number[] | MemArg | BrTable | IndexPair | (MemArg & { lane: number });

export interface Instr {
  op: string;
  imm?: Immediate;
}

export interface LocalDecl {
  count: number;
  type: number;
}

export interface DecodedBody {
  locals: LocalDecl[];
  instrs: Instr[];
}

function readMemArg(r: ByteReader): MemArg {
  const flags = r.u32();
  // Multi-memory: bit 6 of the alignment field says a memory index follows.
  const memory = flags & 0x40 ? r.u32() : 0;
  return { align: flags & ~0x40, offset: r.u64(), memory };
}

function writeMemArg(w: ByteWriter, m: MemArg): void {
  if (m.memory !== 0) {
    w.u32(m.align | 0x40);
    w.u32(m.memory);
  } else w.u32(m.align);
  w.u64(m.offset);
}

/** Reads one instruction's opcode; returns the opcode key (see `opcodeKey`). */
export function readOpcode(r: ByteReader): number {
  const b = r.u8();
  if (b === 0xfc || b === 0xfd || b === 0xfe) return opcodeKey(b, r.u32());
  return b;
}

/** Decodes a function body (locals and instructions, the final `end` included). */
export function decodeFunctionBody(bytes: Uint8Array, baseOffset = 0): DecodedBody {
  const r = new ByteReader(bytes, 0, bytes.length, baseOffset);
  const locals: LocalDecl[] = [];
  const groups = r.u32();
  for (let i = 0; i < groups; i++) locals.push({ count: r.u32(), type: r.u8() });
  return { locals, instrs: decodeInstructions(r) };
}

/** Decodes instructions until the reader's end. */
export function decodeInstructions(r: ByteReader): Instr[] {
  const out: Instr[] = [];
  while (!r.done) {
    const at = r.pos;
    const key = readOpcode(r);
    const info = opInfo(key);
    if (!info) {
      r.pos = at;
      r.fail(`unknown opcode ${formatKey(key)}`);
    }
    const ins: Instr = { op: info.name };
    switch (info.imm) {
      case Imm.none:
        break;
      case Imm.block:
      case Imm.heapType:
        ins.imm = r.s33();
        break;
      case Imm.label:
      case Imm.func:
      case Imm.local:
      case Imm.global:
      case Imm.table:
      case Imm.memory:
      case Imm.data:
      case Imm.elem:
        ins.imm = r.u32();
        break;
      case Imm.brTable: {
        const n = r.u32();
        const labels: number[] = new Array(n);
        for (let i = 0; i < n; i++) labels[i] = r.u32();
        ins.imm = { labels, default: r.u32() };
        break;
      }
      case Imm.callIndirect:
      case Imm.memoryInit:
      case Imm.memoryCopy:
      case Imm.tableInit:
      case Imm.tableCopy:
        ins.imm = { a: r.u32(), b: r.u32() };
        break;
      case Imm.memarg:
        ins.imm = readMemArg(r);
        break;
      case Imm.memargLane:
        ins.imm = { ...readMemArg(r), lane: r.u8() };
        break;
      case Imm.i32:
        ins.imm = r.s32();
        break;
      case Imm.i64:
        ins.imm = r.s64();
        break;
      case Imm.f32:
        ins.imm = r.take(4).slice();
        break;
      case Imm.f64:
        ins.imm = r.take(8).slice();
        break;
      case Imm.v128:
      case Imm.shuffle:
        ins.imm = r.take(16).slice();
        break;
      case Imm.selectT:
        ins.imm = Array.from(r.take(r.u32()));
        break;
      case Imm.lane:
      case Imm.byte:
        ins.imm = r.u8();
        break;
    }
    out.push(ins);
  }
  return out;
}

function formatKey(key: number): string {
  return key > 0xff ? `0x${(key >>> 16).toString(16)} ${key & 0xffff}` : `0x${key.toString(16)}`;
}

/** Encodes instructions in canonical (minimal LEB128) form. */
export function encodeInstructions(w: ByteWriter, instrs: Instr[]): void {
  for (const ins of instrs) {
    const info = opByName(ins.op);
    const key = info.key;
    if (key > 0xff) {
      w.u8(key >>> 16);
      w.u32(key & 0xffff);
    } else w.u8(key);
    const imm = ins.imm;
    switch (info.imm) {
      case Imm.none:
        break;
      case Imm.block:
      case Imm.heapType:
        w.sNum(imm as number);
        break;
      case Imm.label:
      case Imm.func:
      case Imm.local:
      case Imm.global:
      case Imm.table:
      case Imm.memory:
      case Imm.data:
      case Imm.elem:
        w.u32((imm as number | undefined) ?? 0);
        break;
      case Imm.brTable: {
        const t = imm as BrTable;
        w.u32(t.labels.length);
        for (const l of t.labels) w.u32(l);
        w.u32(t.default);
        break;
      }
      case Imm.callIndirect:
      case Imm.memoryInit:
      case Imm.memoryCopy:
      case Imm.tableInit:
      case Imm.tableCopy: {
        const p = imm as IndexPair;
        w.u32(p.a);
        w.u32(p.b);
        break;
      }
      case Imm.memarg:
        writeMemArg(w, imm as MemArg);
        break;
      case Imm.memargLane: {
        const m = imm as MemArg & { lane: number };
        writeMemArg(w, m);
        w.u8(m.lane);
        break;
      }
      case Imm.i32:
        w.s32(imm as number);
        break;
      case Imm.i64:
        w.s64(typeof imm === 'bigint' ? imm : BigInt(imm as number));
        break;
      case Imm.f32:
      case Imm.f64:
      case Imm.v128:
      case Imm.shuffle:
        w.bytes(imm as Uint8Array);
        break;
      case Imm.selectT: {
        const types = imm as number[];
        w.u32(types.length);
        for (const t of types) w.u8(t);
        break;
      }
      case Imm.lane:
      case Imm.byte:
        w.u8(imm as number);
        break;
    }
  }
}

export function encodeFunctionBody(body: DecodedBody): Uint8Array {
  const w = new ByteWriter(64 + body.instrs.length * 3);
  w.u32(body.locals.length);
  for (const l of body.locals) {
    w.u32(l.count);
    w.u8(l.type);
  }
  encodeInstructions(w, body.instrs);
  return w.finish();
}

/**
 * Advances past one instruction's immediates (`imm`: its shape, from opcodes.ts) without decoding
 * them: the byte-level passes (metering, dirty-page marking) walk bodies with it.
 */
export function skipImmediate(r: ByteReader, imm: number): void {
  switch (imm) {
    case Imm.block:
    case Imm.heapType:
    case Imm.label:
    case Imm.func:
    case Imm.local:
    case Imm.global:
    case Imm.table:
    case Imm.memory:
    case Imm.data:
    case Imm.elem:
    case Imm.i32:
    case Imm.i64:
      r.skipLeb();
      return;
    case Imm.callIndirect:
    case Imm.memoryInit:
    case Imm.memoryCopy:
    case Imm.tableInit:
    case Imm.tableCopy:
      r.skipLeb();
      r.skipLeb();
      return;
    case Imm.brTable: {
      const n = r.u32();
      for (let k = 0; k <= n; k++) r.skipLeb();
      return;
    }
    case Imm.memarg:
    case Imm.memargLane: {
      const flags = r.u32();
      if (flags & 0x40) r.skipLeb();
      r.skipLeb();
      if (imm === Imm.memargLane) r.pos++;
      return;
    }
    case Imm.f32:
      r.pos += 4;
      return;
    case Imm.f64:
      r.pos += 8;
      return;
    case Imm.v128:
    case Imm.shuffle:
      r.pos += 16;
      return;
    case Imm.selectT: {
      const n = r.u32();
      r.pos += n;
      return;
    }
    case Imm.lane:
    case Imm.byte:
      r.pos += 1;
      return;
  }
}

// ---- Assembler helpers: `i('i32.const', 7)`, `i('f64.const', 1.5)`, `i('i32.load', { offset: 8 })`.

/** Builds one instruction, accepting friendly immediates (numbers for floats, partial memargs). */
export function i(op: string, imm?: unknown): Instr {
  const info = opByName(op);
  switch (info.imm) {
    case Imm.f32: {
      if (imm instanceof Uint8Array) return { op, imm };
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, imm as number, true);
      return { op, imm: b };
    }
    case Imm.f64: {
      if (imm instanceof Uint8Array) return { op, imm };
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, imm as number, true);
      return { op, imm: b };
    }
    case Imm.i64:
      return { op, imm: typeof imm === 'bigint' ? imm : BigInt((imm as number) ?? 0) };
    case Imm.memarg:
    case Imm.memargLane: {
      const m = (imm ?? {}) as Partial<MemArg & { lane: number }>;
      const natural = naturalAlignment(op);
      const out: MemArg & { lane?: number } = { align: m.align ?? natural, offset: m.offset ?? 0, memory: m.memory ?? 0 };
      if (info.imm === Imm.memargLane) out.lane = m.lane ?? 0;
      return { op, imm: out as MemArg };
    }
    case Imm.block:
      return { op, imm: (imm as number | undefined) ?? -64 };
    case Imm.none:
      return { op };
    default:
      return { op, imm: (imm ?? 0) as Immediate };
  }
}

/** log2 of an access's natural alignment, the usual default for the memarg's align field. */
function naturalAlignment(op: string): number {
  if (op.startsWith('v128.') && !op.includes('lane') && !op.includes('splat') && !op.includes('x') && !op.includes('zero')) return 4;
  const m = /(8|16|32|64)(?:x\d+)?(?:_[su]|_splat|_lane|_zero)?$/.exec(op.split('.').pop() ?? '');
  if (m) return Math.log2(Number(m[1]) / 8);
  if (op.startsWith('i64.') || op.startsWith('f64.')) return 3;
  return 2;
}
