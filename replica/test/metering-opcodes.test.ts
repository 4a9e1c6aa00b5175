// The codec on every instruction it knows, and the instrumentation on a hand-built module that
// uses the features the real canisters do not: SIMD, multi-value blocks with parameters,
// reference types and tables, memory64 bulk operations, passive data, tail calls, br_table.
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../src/wasm/binary.ts';
import { decodeFunctionBody, decodeInstructions, encodeFunctionBody, encodeInstructions, i, type Instr } from '../src/wasm/code.ts';
import { COUNTER_EXPORT, instrumentModule } from '../src/metering/instrument.ts';
import { emptyModule, encodeModule, ExternalKind, parseModule } from '../src/wasm/module.ts';
import { allOpcodes, BlockType, Imm, ValType } from '../src/wasm/opcodes.ts';

const { i32, i64, v128, funcref } = ValType;

/** A representative immediate for each shape, with values that exercise multi-byte LEB128. */
function sample(imm: number, name: string): Instr {
  const bytes16 = Uint8Array.from({ length: 16 }, (_, k) => (k * 17) & 0xff);
  switch (imm) {
    case Imm.none:
      return { op: name };
    case Imm.block:
      return { op: name, imm: 300 }; // a type index, not a value type
    case Imm.heapType:
      return { op: name, imm: -16 };
    case Imm.brTable:
      return { op: name, imm: { labels: [0, 200, 70000], default: 3 } };
    case Imm.callIndirect:
    case Imm.memoryInit:
    case Imm.memoryCopy:
    case Imm.tableInit:
    case Imm.tableCopy:
      return { op: name, imm: { a: 130, b: 2 } };
    case Imm.memarg:
      return { op: name, imm: { align: 3, offset: 2 ** 40 + 5, memory: 1 } };
    case Imm.memargLane:
      return { op: name, imm: { align: 0, offset: 1234, memory: 0, lane: 15 } };
    case Imm.i32:
      return { op: name, imm: -(2 ** 31) };
    case Imm.i64:
      return { op: name, imm: -(2n ** 63n) };
    case Imm.f32:
      return { op: name, imm: Uint8Array.of(0x01, 0x00, 0xc0, 0x7f) }; // a NaN with payload
    case Imm.f64:
      return { op: name, imm: Uint8Array.of(1, 2, 3, 4, 5, 6, 0xf8, 0x7f) };
    case Imm.v128:
    case Imm.shuffle:
      return { op: name, imm: bytes16 };
    case Imm.selectT:
      return { op: name, imm: [v128] };
    case Imm.lane:
    case Imm.byte:
      return { op: name, imm: 7 };
    default:
      return { op: name, imm: 70000 };
  }
}

describe('the instruction codec', () => {
  it('encodes and decodes every known instruction with its immediates unchanged', () => {
    const ops = allOpcodes();
    expect(ops.length).toBeGreaterThan(500); // MVP, extensions, ~250 SIMD, atomics
    const instrs = ops.map((o) => sample(o.imm, o.name));
    const w = new ByteWriter(16);
    encodeInstructions(w, instrs);
    const bytes = w.finish();
    const decoded = decodeInstructions(new ByteReader(bytes));
    expect(decoded).toEqual(instrs);
    // and once more through the bytes: the encoding is canonical
    const again = new ByteWriter(16);
    encodeInstructions(again, decoded);
    expect(Buffer.from(again.finish()).equals(Buffer.from(bytes))).toBe(true);
  });
});

/** A module V8 validates whose functions use every feature listed at the top. */
function kitchenSink(): Uint8Array {
  const m = emptyModule();
  m.types.push(
    { params: [i64], results: [i64] }, // 0: main, tail
    { params: [], results: [i32, i64] }, // 1: multi-value function
    { params: [i32], results: [i32, i32] }, // 2: block type with a parameter
  );
  m.functions.push(0, 1, 0); // 0 main, 1 pair, 2 tail
  m.memories.push({ flags: 0x04 | 0x01, min: 1, max: 4 }); // memory64 with a maximum
  m.tables.push({ refType: funcref, limits: { flags: 0, min: 4 } });
  m.exports.push({ name: 'main', kind: ExternalKind.func, index: 0 }, { name: 'memory', kind: ExternalKind.memory, index: 0 });
  const offset0 = Uint8Array.of(0x41, 0x00, 0x0b); // i32.const 0; end
  m.elements.push({ flags: 0, tableIndex: 0, offset: offset0, funcIndices: [2] }); // table[0] = tail
  m.elements.push({ flags: 3, tableIndex: 0, kindOrType: 0, funcIndices: [2] }); // declares ref.func 2
  m.data.push({ flags: 1, memoryIndex: 0, bytes: new TextEncoder().encode('metering') }); // passive
  m.dataCount = 1;
  const tmp = 1; // local i64
  const idx = 2; // local i32
  const main: Instr[] = [
    // memory64 store/load with a large-ish offset
    i('i64.const', 0),
    i('local.get', 0),
    i('i64.store', { offset: 1000 }),
    // bulk memory: init from the passive segment (i64 address, i32 source and size), copy, fill
    i('i64.const', 100),
    i('i32.const', 0),
    i('i32.const', 8),
    i('memory.init', { a: 0, b: 0 }),
    i('i64.const', 200),
    i('i64.const', 100),
    i('i64.const', 8),
    i('memory.copy', { a: 0, b: 0 }),
    i('i64.const', 300),
    i('i32.const', 7),
    i('i64.const', 16),
    i('memory.fill', 0),
    i('data.drop', 0),
    // SIMD: load, lane access, constants, shuffle, lane loads
    i('i64.const', 300),
    i('v128.load'),
    i('i8x16.extract_lane_u', 3), // 7
    i(
      'v128.const',
      Uint8Array.from({ length: 16 }, (_, k) => k),
    ),
    i(
      'v128.const',
      Uint8Array.from({ length: 16 }, (_, k) => 16 + k),
    ),
    i(
      'i8x16.shuffle',
      Uint8Array.from({ length: 16 }, (_, k) => 31 - k),
    ),
    i('i32x4.extract_lane', 3), // bytes 19..16 little-endian
    i('i32.add'),
    i('i64.const', 200),
    i('v128.const', new Uint8Array(16)),
    i('v128.load8_lane', { lane: 5 }),
    i('i8x16.extract_lane_s', 5),
    i('i32.add'),
    // multi-value: a function returning two values, and a block taking one and giving two
    i('call', 1),
    i('local.set', tmp),
    i('i32.add'),
    i('i32.const', 6),
    i('block', 2),
    i('local.tee', idx),
    i('local.get', idx),
    i('end'),
    i('i32.mul'),
    i('i32.add'),
    // br_table over three nested blocks
    i('block', BlockType.empty),
    i('block', BlockType.empty),
    i('block', BlockType.empty),
    i('local.get', idx),
    i('i32.const', 3),
    i('i32.rem_u'),
    i('br_table', { labels: [0, 1], default: 2 }),
    i('end'),
    i('local.get', idx),
    i('i32.const', 10),
    i('i32.add'),
    i('local.set', idx),
    i('end'),
    i('local.get', idx),
    i('i32.const', 100),
    i('i32.add'),
    i('local.set', idx),
    i('end'),
    i('local.get', idx),
    i('i32.add'),
    // reference types and tables
    i('ref.func', 2),
    i('ref.is_null'),
    i('i32.add'),
    i('ref.null', BlockType.funcref),
    i('i32.const', 2),
    i('table.grow', 0),
    i('i32.add'), // old size 4
    i('table.size', 0),
    i('i32.add'),
    i('i32.const', 4),
    i('ref.func', 2),
    i('i32.const', 2),
    i('table.fill', 0),
    i('i32.const', 11),
    i('i32.const', 22),
    i('i32.const', 0),
    i('select_t', [i32]),
    i('i32.add'),
    // saturating truncation and sign extension
    i('f64.const', 1e300),
    i('i32.trunc_sat_f64_s'),
    i('i32.const', 0x7fffffff),
    i('i32.sub'),
    i('i32.add'),
    i('i32.const', 0x80),
    i('i32.extend8_s'),
    i('i32.add'),
    // into i64, plus the multi-value i64, plus what call_indirect through the table returns
    i('i64.extend_i32_u'),
    i('local.get', tmp),
    i('i64.add'),
    i('i64.const', 1),
    i('i32.const', 0),
    i('call_indirect', { a: 0, b: 0 }),
    i('i64.add'),
    // and leave through a tail call
    i('return_call', 2),
  ];
  const pair: Instr[] = [i('i32.const', 40), i('i64.const', 2n)];
  const tail: Instr[] = [i('local.get', 0), i('i64.const', 1000), i('i64.mul')];
  m.code.push(
    {
      bytes: encodeFunctionBody({
        locals: [
          { count: 1, type: i64 },
          { count: 1, type: i32 },
        ],
        instrs: [...main, i('end')],
      }),
      offset: 0,
    },
    { bytes: encodeFunctionBody({ locals: [], instrs: [...pair, i('end')] }), offset: 0 },
    { bytes: encodeFunctionBody({ locals: [], instrs: [...tail, i('end')] }), offset: 0 },
  );
  return encodeModule(m);
}

describe('a module using SIMD, multi-value, reference types, memory64 bulk operations and tail calls', () => {
  const bytes = kitchenSink();

  it('validates, round-trips, and gives the same result instrumented as not', () => {
    const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource));
    const expected = (plain.exports.main as (x: bigint) => bigint)(5n);
    expect(Buffer.from(encodeModule(parseModule(bytes))).equals(Buffer.from(bytes))).toBe(true);
    for (const body of parseModule(bytes).code) {
      expect(Buffer.from(encodeFunctionBody(decodeFunctionBody(body.bytes))).equals(Buffer.from(body.bytes))).toBe(true);
    }
    const { wasm } = instrumentModule(bytes);
    const metered = new WebAssembly.Instance(new WebAssembly.Module(wasm as BufferSource));
    (metered.exports[COUNTER_EXPORT] as WebAssembly.Global).value = 1_000_000n;
    expect((metered.exports.main as (x: bigint) => bigint)(5n)).toBe(expected);
    expect(new Uint8Array((metered.exports.memory as WebAssembly.Memory).buffer, 200, 8)).toEqual(new TextEncoder().encode('metering'));
  });

  it('charges exactly what charging each instruction separately charges', () => {
    const run = (granularity: 'block' | 'instruction') => {
      const { wasm } = instrumentModule(bytes, { granularity });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as BufferSource));
      const counter = instance.exports[COUNTER_EXPORT] as WebAssembly.Global;
      counter.value = 1_000_000n;
      (instance.exports.main as (x: bigint) => bigint)(5n);
      return 1_000_000n - (counter.value as bigint);
    };
    const blocks = run('block');
    expect(blocks).toBe(run('instruction'));
    // Dynamic charges are in there: 8 (memory.init) + 8 (memory.copy) + 16 (memory.fill) + 2 (table.fill).
    expect(blocks).toBeGreaterThan(34n + 4n * 100n);
  });
});
