import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { compileMotoko, collectSources, MotokoCompileError } from '../../scripts/lib/motoko.ts';

const dir = `.cache/test-motoko/${process.pid}`;
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/Util.mo`, 'module { public func one() : Nat { 1 } }\n');
writeFileSync(`${dir}/Main.mo`, 'import Util "Util";\npersistent actor { var n = 0; public func inc() : async Nat { n += Util.one(); n } }\n');
writeFileSync(`${dir}/Broken.mo`, 'persistent actor {\n  public func f() : async Nat { missing }\n}\n');

describe('the Motoko build', () => {
  it('follows relative imports transitively', () => {
    expect(collectSources(`${dir}/Main.mo`).map((f) => f.split('/').pop())).toEqual(['Main.mo', 'Util.mo']);
  });

  it('compiles wasm64 by default and wasm32 in classic mode, then serves both from cache', async () => {
    const eop = await compileMotoko({ entry: `${dir}/Main.mo` });
    const classic = await compileMotoko({ entry: `${dir}/Main.mo`, mode: 'classic' });
    expect(eop.candid).toContain('inc: () -> (nat)');
    expect(eop.hash).not.toBe(classic.hash);
    // Memory64 modules declare their memory with limits flag 0x04; easiest check: V8 accepts both.
    const memory = (bytes: Uint8Array<ArrayBuffer>) => WebAssembly.Module.exports(new WebAssembly.Module(bytes)).some((e) => e.kind === 'memory');
    expect(memory(eop.wasm) && memory(classic.wasm)).toBe(true);
    const again = await compileMotoko({ entry: `${dir}/Main.mo` });
    expect(again.cached).toBe(true);
    expect(again.wasm).toEqual(eop.wasm);
  });

  it('reports a type error with file, line and code', async () => {
    const failure = compileMotoko({ entry: `${dir}/Broken.mo` });
    await expect(failure).rejects.toBeInstanceOf(MotokoCompileError);
    await expect(failure).rejects.toThrow(/Broken\.mo:2:\d+ M0057: unbound variable missing/);
  });
});
