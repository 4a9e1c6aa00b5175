// The Wasm reader/writer and the instrumentation on real canister modules: Motoko's wasm64
// (enhanced orthogonal persistence) and wasm32 (classic) output, and Azle's 3.5 MB module.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeFunctionBody, encodeFunctionBody } from '../src/wasm/code.ts';
import { COUNTER_EXPORT, instrumentModule } from '../src/metering/instrument.ts';
import { encodeModule, memoryLimits, parseModule } from '../src/wasm/module.ts';
import { azleWork, motokoWork } from './metering-fixtures/fixtures.ts';

const modules: Record<string, Uint8Array> = {};

beforeAll(async () => {
  modules['Motoko wasm64 (EOP)'] = (await motokoWork('eop')).wasm;
  modules['Motoko wasm32 (classic)'] = (await motokoWork('classic')).wasm;
  modules['Azle'] = azleWork();
}, 600_000);

const names = ['Motoko wasm64 (EOP)', 'Motoko wasm32 (classic)', 'Azle'];

describe.each(names)('%s', (name) => {
  it('re-encodes to the identical bytes, and every function body too', () => {
    const bytes = modules[name];
    const m = parseModule(bytes);
    expect(m.code.length).toBeGreaterThan(100);
    let instructions = 0;
    for (const [index, body] of m.code.entries()) {
      const decoded = decodeFunctionBody(body.bytes, body.offset);
      instructions += decoded.instrs.length;
      const again = encodeFunctionBody(decoded);
      if (!Buffer.from(again).equals(Buffer.from(body.bytes))) {
        throw new Error(`${name}: defined function ${index} does not re-encode to its original bytes`);
      }
    }
    expect(instructions).toBeGreaterThan(10_000);
    const out = encodeModule(m);
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
    expect(() => new WebAssembly.Module(out as BufferSource)).not.toThrow();
  });

  it('instruments into a module V8 accepts, with indices, exports and the name section kept', () => {
    const bytes = modules[name];
    const before = parseModule(bytes);
    const started = performance.now();
    const result = instrumentModule(bytes);
    const ms = performance.now() - started;
    const module = new WebAssembly.Module(result.wasm as BufferSource);
    const after = parseModule(result.wasm);

    expect(result.memory64).toBe(name.includes('wasm64'));
    expect((memoryLimits(after)[0].flags & 0x04) !== 0).toBe(result.memory64);
    // Existing exports untouched; one global export added, readable from JS as an i64.
    expect(after.exports.slice(0, before.exports.length)).toEqual(before.exports);
    expect(WebAssembly.Module.exports(module)).toContainEqual({ name: COUNTER_EXPORT, kind: 'global' });
    expect(result.counterGlobal).toBe(before.globals.length + before.imports.filter((x) => x.desc.kind === 3).length);
    // Functions keep their types and places; imports are untouched.
    expect(after.functions.slice(0, before.functions.length)).toEqual(before.functions);
    expect(after.imports).toEqual(before.imports);
    // Custom sections, the name section among them (Motoko emits one, Azle none), are carried
    // over byte for byte: no index moved, so they stay true.
    expect(after.customs.map((c) => c.name)).toEqual(before.customs.map((c) => c.name));
    after.customs.forEach((c, k) => expect(Buffer.from(c.payload).equals(Buffer.from(before.customs[k].payload))).toBe(true));
    if (name.startsWith('Motoko')) expect(after.customs.some((c) => c.name === 'name')).toBe(true);
    expect(result.stats.checks).toBeGreaterThan(result.stats.functions / 2);
    // Generous bound for a loaded CI machine; the bench reports the real figure (~0.3 s for Azle).
    expect(ms).toBeLessThan(5000);
  });
});
