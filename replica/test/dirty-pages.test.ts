// Page-wise rollback (execution/dirty-pages.ts): modules record the pages they write, and a
// message copies back or forward only those. The fixtures' replicas turn on a verifier that
// compares the whole memory after every page-wise step (`dirtyPages: 'verify'`), so every
// conformance test also checks this.
import { beforeAll, describe, expect, it } from 'vitest';
import { Replica } from '../src/index.ts';
import { loadModule } from '../src/execution/module.ts';
import { createReplica, motokoFixture, watFixture, type Fixture } from './fixtures/build.ts';
import { azleFixture } from './fixtures/azle.ts';

describe('dirty-page tracking', () => {
  let eop: Fixture;
  let classic: Fixture;
  beforeAll(async () => {
    eop = await motokoFixture('counter', 'eop');
    classic = await motokoFixture('counter', 'classic');
  });

  it('Motoko (both modes), Azle and hand-written modules are rewritten to record their writes', async () => {
    const modules = [eop.wasm, classic.wasm, (await azleFixture()).wasm, await watFixture('probe')];
    for (const wasm of modules) expect((await loadModule(wasm)).dirtyTracking).toBe(true);
  });

  it('is an option of the replica, and the module cache keeps the two compilations apart', async () => {
    const tracked = await loadModule(eop.wasm);
    const untracked = await loadModule(eop.wasm, { dirtyPages: false });
    expect(untracked.dirtyTracking).toBe(false);
    expect(untracked.compiled).not.toBe(tracked.compiled);
    expect((await loadModule(eop.wasm)).compiled).toBe(tracked.compiled); // cached
    // 'verify' compiles the same module as true; it only adds the host's check.
    const verified = await loadModule(eop.wasm, { dirtyPages: 'verify' });
    expect(verified.compiled).toBe(tracked.compiled);
    expect([tracked.verifyDirtyTracking, verified.verifyDirtyTracking]).toEqual([false, true]);

    const pic = await Replica.create({ log: 'quiet', dirtyPages: false });
    try {
      const { actor, canisterId } = await pic.setupCanister<{ get(): Promise<bigint>; inc(): Promise<bigint> }>({
        idlFactory: eop.idlFactory,
        wasm: eop.wasm,
        arg: eop.encodeInit(1n),
      });
      const instance = pic.scheduler.canister(canisterId)!.instance!;
      expect(instance.module.dirtyTracking).toBe(false);
      await actor.get();
      const before = instance.copiedBytes;
      expect(await actor.inc()).toBe(2n);
      expect(instance.copiedBytes - before).toBeGreaterThanOrEqual(instance.heapBytes); // whole-heap copies
    } finally {
      await pic.tearDown();
    }
    await expect(Replica.create({ dirtyPages: 'yes' as unknown as boolean })).rejects.toThrow(/dirtyPages must be true, false or 'verify'/);
  });

  it('a query copies back only the pages it wrote, not the whole heap', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<{ get(): Promise<bigint>; inc(): Promise<bigint> }>({
      idlFactory: eop.idlFactory,
      wasm: eop.wasm,
      arg: eop.encodeInit(1n),
    });
    const instance = pic.scheduler.canister(canisterId)!.instance!;
    await actor.get();
    const before = instance.copiedBytes;
    await actor.get();
    await actor.inc();
    const copied = instance.copiedBytes - before;
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(instance.heapBytes / 4);
  });

  it('the verifier catches a write that was not recorded', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('probe') });
    const instance = pic.scheduler.canister(canisterId)!.instance!;
    expect(instance.module.verifyDirtyTracking).toBe(true);
    instance.beginMessage();
    new Uint8Array(instance.memory.buffer)[40_000] = 99; // behind the tracking's back
    expect(() => instance.commitMessage()).toThrow(/dirty-page tracking missed a write/);
  });
});
