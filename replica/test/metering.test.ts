// Instruction metering on hand-assembled modules whose cost we can work out by hand from the
// IC's rules (replica/src/metering/instrument.ts explains them).
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../src/wasm/binary.ts';
import { assemble } from '../src/wasm/assemble.ts';
import { i } from '../src/wasm/code.ts';
import { COUNTER_EXPORT, instrumentModule, WASM_MEMORY_LIMIT_EXPORT, WASM_MEMORY_REFUSED_EXPORT } from '../src/metering/instrument.ts';
import { BlockType, ValType } from '../src/wasm/opcodes.ts';
import { encodeModule, parseModule } from '../src/wasm/module.ts';

const { i32, i64 } = ValType;

interface Metered {
  exports: WebAssembly.Exports;
  counter: WebAssembly.Global;
  run<T>(budget: bigint, f: () => T): { result?: T; used: bigint; left: bigint; trap?: unknown };
}

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}): Metered {
  const { wasm, counterExport } = instrumentModule(bytes);
  expect(counterExport).toBe(COUNTER_EXPORT);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as BufferSource), imports);
  const counter = instance.exports[counterExport] as WebAssembly.Global;
  return {
    exports: instance.exports,
    counter,
    run(budget, f) {
      counter.value = budget;
      try {
        const result = f();
        const left = counter.value as bigint;
        return { result, left, used: budget - left };
      } catch (trap) {
        const left = counter.value as bigint;
        return { trap, left, used: budget - left };
      }
    },
  };
}

/**
 * sum(n) = 0 + 1 + ... + (n-1), a block around a loop. By the IC's rules:
 *   entry block (function start .. `loop`):        1 (function) + block 0 + loop 0     = 1
 *   loop head (.. `br_if`): local.get, local.get, i32.ge_u, br_if = 1+1+1+2           = 5
 *   loop rest (.. `br`): 8 simple instructions + br 2                                 = 10
 *   after the loop's and the block's `end`s: 0 each (skipped)
 *   exit (local.get, end)                                                             = 1
 * so sum(n) costs 1 + 15n + 5 + 1 = 15n + 7.
 */
const sumLoop = assemble({
  functions: [
    {
      params: [i32],
      results: [i32],
      locals: [{ count: 2, type: i32 }], // $i = 1, $acc = 2
      export: 'sum',
      body: [
        i('block', BlockType.empty),
        i('loop', BlockType.empty),
        i('local.get', 1),
        i('local.get', 0),
        i('i32.ge_u'),
        i('br_if', 1),
        i('local.get', 2),
        i('local.get', 1),
        i('i32.add'),
        i('local.set', 2),
        i('local.get', 1),
        i('i32.const', 1),
        i('i32.add'),
        i('local.set', 1),
        i('br', 0),
        i('end'),
        i('end'),
        i('local.get', 2),
      ],
    },
  ],
});
const sumCost = (n: number) => BigInt(15 * n + 7);

describe('LEB128', () => {
  it('round-trips the edges of every width', () => {
    const u32s = [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1];
    const s32s = [0, 1, -1, 63, 64, -64, -65, 2 ** 31 - 1, -(2 ** 31)];
    const s64s = [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1234567890123n];
    const w = new ByteWriter(4);
    for (const v of u32s) w.u32(v);
    for (const v of s32s) w.s32(v);
    for (const v of s64s) w.s64(v);
    const r = new ByteReader(w.finish());
    expect(u32s.map(() => r.u32())).toEqual(u32s);
    expect(s32s.map(() => r.s32())).toEqual(s32s);
    expect(s64s.map(() => r.s64())).toEqual(s64s);
    expect(r.done).toBe(true);
  });

  it('rejects a u32 that overflows 32 bits, naming the offset', () => {
    expect(() => new ByteReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f])).u32()).toThrow(/u32 LEB128 out of range \(at byte offset 4\)/);
  });
});

describe('instruction metering', () => {
  it('charges a loop of known shape exactly 15n + 7 instructions', () => {
    const m = instantiate(sumLoop);
    const sum = m.exports.sum as (n: number) => number;
    for (const n of [0, 1, 10, 1000, 123456]) {
      const r = m.run(10n ** 12n, () => sum(n));
      expect(r.trap).toBeUndefined();
      expect(r.result).toBe(Number(((BigInt(n) * BigInt(n - 1)) / 2n) & 0xffffffffn) | 0);
      expect(r.used).toBe(sumCost(n));
    }
  });

  it('stops a loop that exceeds a lowered budget, with the counter negative', () => {
    const m = instantiate(sumLoop);
    const sum = m.exports.sum as (n: number) => number;
    // Budget 1000: 999 left after the entry block; each iteration checks after paying 5 and then
    // pays 10, so the check of iteration 68 sees 999 - 67 * 15 - 5 = -11 and stops there.
    const r = m.run(1000n, () => sum(1_000_000));
    expect(r.trap).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(String(r.trap)).toMatch(/unreachable/);
    expect(r.left).toBe(-11n);
  });

  it('lets a budget of exactly the cost finish with nothing left', () => {
    const m = instantiate(sumLoop);
    const sum = m.exports.sum as (n: number) => number;
    const r = m.run(sumCost(500), () => sum(500));
    expect(r.trap).toBeUndefined();
    expect(r.left).toBe(0n);
  });

  it('checks only at function entries and loop heads, so the last block may overshoot', () => {
    // The IC's rule: blocks that cannot be re-entered only decrement. One instruction short of
    // the cost, sum(500) still returns and leaves the counter at -1; the host reports the
    // message as having used its whole budget.
    const m = instantiate(sumLoop);
    const sum = m.exports.sum as (n: number) => number;
    const r = m.run(sumCost(500) - 1n, () => sum(500));
    expect(r.trap).toBeUndefined();
    expect(r.left).toBe(-1n);
  });

  it('charges both arms of an if/else by what they contain', () => {
    // entry: local.get 1 + if 2 + function 1 = 4; then-arm: i32.const = 1;
    // else-arm: 2 consts + i32.add = 3.
    const m = instantiate(
      assemble({
        functions: [
          {
            params: [i32],
            results: [i32],
            export: 'pick',
            body: [i('local.get', 0), i('if', BlockType.i32), i('i32.const', 10), i('else'), i('i32.const', 20), i('i32.const', 1), i('i32.add'), i('end')],
          },
        ],
      }),
    );
    const pick = m.exports.pick as (x: number) => number;
    expect(m.run(1000n, () => pick(1))).toMatchObject({ result: 10, used: 5n });
    expect(m.run(1000n, () => pick(0))).toMatchObject({ result: 21, used: 7n });
  });

  it('charges calls 5, division 10, and each function its entry', () => {
    // callee: 1 + local.get 1 + local.get 1 + i32.div_u 10 = 13; caller: 1 + 2 consts + call 5 = 8
    const m = instantiate(
      assemble({
        functions: [
          { params: [i32, i32], results: [i32], body: [i('local.get', 0), i('local.get', 1), i('i32.div_u')] },
          { params: [], results: [i32], export: 'run', body: [i('i32.const', 100), i('i32.const', 7), i('call', 0)] },
        ],
      }),
    );
    expect(m.run(1000n, () => (m.exports.run as () => number)())).toMatchObject({ result: 14, used: 21n });
  });

  it('charges loads 1 in a wasm32 module and 2 in a wasm64 module', () => {
    const load = (memory64: boolean) =>
      instantiate(
        assemble({
          memory: { flags: memory64 ? 0x04 : 0, min: 1 },
          functions: [
            {
              params: [memory64 ? i64 : i32],
              results: [i64],
              export: 'load',
              body: [i('local.get', 0), i('i64.load', { offset: 8 })],
            },
          ],
        }),
      );
    const m32 = load(false);
    const m64 = load(true);
    expect(m32.run(100n, () => (m32.exports.load as (a: number) => bigint)(0)).used).toBe(3n); // 1 + 1 + 1
    expect(m64.run(100n, () => (m64.exports.load as (a: bigint) => bigint)(0n)).used).toBe(4n); // 1 + 1 + 2
  });

  it('charges memory.fill 100 plus its size, before it runs, in wasm32 and wasm64', () => {
    for (const memory64 of [false, true]) {
      const addr = memory64 ? i64 : i32;
      const c = memory64 ? 'i64.const' : 'i32.const';
      const m = instantiate(
        assemble({
          memory: { flags: memory64 ? 0x04 : 0, min: 1 },
          memoryExport: 'memory',
          functions: [
            {
              params: [addr],
              results: [],
              export: 'fill',
              // entry 1 + const 1 + const 1 + local.get 1 + memory.fill 100 = 104, then the size
              body: [i(c, 16), i('i32.const', 0xab), i('local.get', 0), i('memory.fill', 0)],
            },
          ],
        }),
      );
      const fill = m.exports.fill as (n: number | bigint) => void;
      const size = memory64 ? 1000n : 1000;
      const ok = m.run(10_000n, () => fill(size));
      expect(ok.trap).toBeUndefined();
      expect(ok.used).toBe(1104n);
      expect(new Uint8Array((m.exports.memory as WebAssembly.Memory).buffer)[16 + 999]).toBe(0xab);
      // A budget that covers the static part but not the size stops before any byte is written.
      new Uint8Array((m.exports.memory as WebAssembly.Memory).buffer).fill(0);
      const r = m.run(600n, () => fill(size));
      expect(r.trap).toBeInstanceOf(WebAssembly.RuntimeError);
      expect(r.left).toBe(600n - 104n - 1000n);
      expect(new Uint8Array((m.exports.memory as WebAssembly.Memory).buffer)[16]).toBe(0);
    }
  });

  it('keeps every function, global, table and memory index and the start function', () => {
    const bytes = assemble({
      memory: { flags: 0, min: 1 },
      functions: [
        { params: [], results: [i32], export: 'a', body: [i('i32.const', 1)] },
        { params: [], results: [i32], export: 'b', body: [i('call', 0)] },
      ],
    });
    const before = parseModule(bytes);
    const { wasm, counterGlobal, helperFunction } = instrumentModule(bytes);
    const after = parseModule(wasm);
    expect(after.exports.filter((e) => !e.name.startsWith('__ic_'))).toEqual(before.exports);
    expect(counterGlobal).toBe(before.globals.length);
    expect(helperFunction).toBe(before.functions.length);
    expect(after.exports.find((e) => e.name === COUNTER_EXPORT)).toEqual({ name: COUNTER_EXPORT, kind: 3, index: counterGlobal });
    expect(after.functions.slice(0, before.functions.length)).toEqual(before.functions);
  });

  it('runs a start function metered from the initial budget', () => {
    const m = parseModule(
      assemble({
        functions: [{ params: [], results: [], body: [i('i32.const', 1), i('drop')] }],
      }),
    );
    m.start = 0;
    const bytes = encodeModule(m);
    const { wasm } = instrumentModule(bytes, { initialBudget: 1000n });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as BufferSource));
    expect((instance.exports[COUNTER_EXPORT] as WebAssembly.Global).value).toBe(1000n - 3n);
    const exported = instrumentModule(bytes, { startFunction: 'export' });
    expect(parseModule(exported.wasm).start).toBeUndefined();
    expect(exported.startExport).toBe('canister_start');
  });

  it('can export table 0 and every mutable global for the host (callbacks, rollback)', () => {
    const m = parseModule(assemble({ functions: [{ params: [], results: [], body: [i('nop')] }] }));
    m.tables.push({ refType: ValType.funcref, limits: { flags: 0, min: 1 } });
    const init = Uint8Array.of(0x41, 0x05, 0x0b);
    m.globals.push({ type: { valType: i32, mutable: true }, init }, { type: { valType: i32, mutable: false }, init });
    const bytes = encodeModule(m);
    const r = instrumentModule(bytes, { exportTable: '__table', exportMutableGlobalsPrefix: '__global_' });
    expect(r.tableExport).toBe('__table');
    expect([...r.mutableGlobalExports]).toEqual([[0, '__global_0']]); // not the immutable one, not the counter
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(r.wasm as BufferSource)).map((e) => `${e.kind}:${e.name}`);
    expect(exports).toEqual(expect.arrayContaining(['table:__table', 'global:__global_0', `global:${COUNTER_EXPORT}`]));
  });

  it('stops a memory.grow past a Wasm memory limit the host sets, and records the size asked for', () => {
    for (const memory64 of [false, true]) {
      const addr = memory64 ? i64 : i32;
      const bytes = assemble({
        memory: { flags: memory64 ? 0x04 : 0, min: 1 },
        functions: [{ params: [addr], results: [addr], export: 'grow', body: [i('local.get', 0), i('memory.grow', 0)] }],
      });
      const r = instrumentModule(bytes);
      expect(r.wasmMemoryLimit).toEqual({ limitExport: WASM_MEMORY_LIMIT_EXPORT, refusedExport: WASM_MEMORY_REFUSED_EXPORT });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(r.wasm as BufferSource));
      const grow = instance.exports.grow as (pages: number | bigint) => number | bigint;
      const page = (n: number) => (memory64 ? BigInt(n) : n);
      (instance.exports[COUNTER_EXPORT] as WebAssembly.Global).value = 10_000n;
      expect(grow(page(2))).toBe(page(1)); // unlimited until the host sets a limit
      (instance.exports[WASM_MEMORY_LIMIT_EXPORT] as WebAssembly.Global).value = 4n;
      expect(grow(page(1))).toBe(page(3)); // 4 pages: at the limit
      expect(() => grow(page(1))).toThrow(WebAssembly.RuntimeError);
      expect((instance.exports[WASM_MEMORY_REFUSED_EXPORT] as WebAssembly.Global).value).toBe(5n);
      expect((instance.exports[COUNTER_EXPORT] as WebAssembly.Global).value).toBeGreaterThan(0n); // not an instruction-limit stop
    }
  });

  it('reports the compilation charge the IC would deduct at install', () => {
    // sum(n) has 19 instructions; the IC's instrumentation adds 10 per checked block (entry,
    // loop head), 4 per other charged block (2 of them), a ~20-instruction helper; globals count
    // 2 each (only its counter here). (19 + 28 + 20 + 2) x 6,000.
    const r = instrumentModule(sumLoop);
    expect(r.stats.wasmInstructions).toBe(19);
    expect(r.compilationInstructions).toBe(69n * 6_000n);
  });

  it('refuses to instrument a module twice', () => {
    const { wasm } = instrumentModule(sumLoop);
    expect(() => instrumentModule(wasm)).toThrow(/already exports `__ic_instructions_left`/);
  });

  it('reports the function and offset of an unknown opcode', () => {
    const bytes = assemble({ functions: [{ params: [], results: [], body: [i('nop')] }] });
    const m = parseModule(bytes);
    const body = m.code[0].bytes;
    const broken = bytes.slice();
    broken[m.code[0].offset + body.length - 2] = 0xf0; // the `nop` becomes an unassigned opcode
    expect(() => instrumentModule(broken)).toThrow(/function 0: unknown opcode 0xf0 \(at byte offset \d+\)/);
  });
});
