// The prepared modules the site build emits for the page replica (demo-wasm.ts) are exactly what
// the engine prepares, under the key the engine looks them up by, and a module loaded from them
// keeps the original module's hash.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodePreparedModule, prepareModule, usePreparedModuleStore, type PreparedModule } from '@scaling-wg/replica';
import { loadModule } from '@scaling-wg/replica';
import { motokoFixture } from '../../replica/test/fixtures/build.ts';
import { engineVersion, preparedFile } from './demo-wasm.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('prepared modules of the site build', () => {
  let raw: Uint8Array;
  beforeAll(async () => {
    raw = (await motokoFixture('counter', 'eop')).wasm;
  });
  afterEach(() => usePreparedModuleStore(undefined));

  it('are byte for byte what the engine prepares, and carry the key they were made under', () => {
    const engine = engineVersion(root);
    expect(engine).toMatch(/^engine-[0-9a-f]{16}$/);
    expect(engineVersion(root)).toBe(engine);
    const { key, moduleKey, file } = preparedFile(engine, raw);
    expect(key).toBe(`${engine} ${moduleKey}`);
    const built = decodePreparedModule(file, key);
    const own = prepareModule(raw, 'block', true);
    expect(built.bytes).toEqual(own.bytes);
    expect(built).toEqual(own);
    // Another engine version (or module, or options) never reads these bytes.
    expect(() => decodePreparedModule(file, `engine-0000000000000000 ${moduleKey}`)).toThrow(/prepared module file for/);
    expect(() => decodePreparedModule(file.subarray(0, file.length - 1), key)).toThrow(/truncated/);
  });

  it('are looked up by the engine under their key, and the module keeps its own hash', async () => {
    const engine = engineVersion(root);
    const { key, moduleKey, file } = preparedFile(engine, raw);
    const asked: string[] = [];
    let served: PreparedModule | undefined;
    usePreparedModuleStore({
      get: async (k) => {
        asked.push(k);
        served = decodePreparedModule(file, `${engine} ${k}`);
        return served;
      },
      put: async () => {
        throw new Error('a module served by the store is not stored again');
      },
    });
    const loaded = await loadModule(raw);
    expect(asked).toEqual([moduleKey]);
    expect(key).toBe(`${engine} ${asked[0]}`);
    expect(served).toBeDefined();
    expect(loaded.info).toEqual(served!.info);
    expect(Buffer.from(loaded.hash).toString('hex')).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(loaded.bytes).toEqual(raw);
  });
});
