// The state log itself: each flush is one durable commit; a commit torn by a crash mid-write is
// ignored on load (the state before it comes back), and an idle flush writes nothing.

import { mkdtempSync, rmSync, statSync, truncateSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Replica } from '../src/index.ts';
import { DiskStore } from '../src/store/disk-store.ts';
import { managementIdlFactory } from '../src/management/ic-idl.ts';
import { Principal } from '@dfinity/principal';
import { counterIdl, counterWasm } from './http-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'replica-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the state log', () => {
  it('commits per flush, skips idle flushes and survives a torn last commit', async () => {
    const pic = await Replica.create({ log: 'quiet' });
    const store = await DiskStore.open(dir);
    const { actor, canisterId } = await pic.setupCanister<any>({
      idlFactory: counterIdl as any,
      wasm: await counterWasm(),
      arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])),
    });
    expect(store.flush(pic.scheduler, pic.management)).toBe(true); // the checkpoint
    expect(store.flush(pic.scheduler, pic.management)).toBe(false); // nothing changed
    await actor.inc();
    expect(store.flush(pic.scheduler, pic.management)).toBe(true);
    const sizeAfterTwo = statSync(join(dir, 'state.log')).size;
    await actor.inc();
    expect(store.flush(pic.scheduler, pic.management)).toBe(true);
    const sizeAfterThree = statSync(join(dir, 'state.log')).size;
    // A commit holds changed pages only: far smaller than the 5 MB heap.
    expect(sizeAfterThree - sizeAfterTwo).toBeLessThan(1024 * 1024);
    await store.close();
    await pic.tearDown();

    const load = async () => {
      const again = await Replica.create({ log: 'quiet' });
      const store = await DiskStore.open(dir);
      const restored = await store.restore(again.scheduler, again.management);
      await store.close();
      expect(restored.canisters).toBe(1);
      const value = await again.createActor<any>(counterIdl as any, canisterId).get();
      await again.tearDown();
      return value;
    };
    expect(await load()).toBe(2n);
    // A crash in the middle of writing the last commit: it is ignored, the one before stands.
    truncateSync(join(dir, 'state.log'), sizeAfterThree - 7);
    expect(await load()).toBe(1n);
    appendFileSync(join(dir, 'state.log'), new Uint8Array([0, 0, 0, 9, 1, 2, 3, 4, 5]));
    expect(await load()).toBe(1n);
  });

  it('keeps canister snapshots, which can be restored after the restart', async () => {
    const snapDir = mkdtempSync(join(tmpdir(), 'replica-snap-'));
    try {
      const pic = await Replica.create({ log: 'quiet', stateDir: snapDir });
      const { actor, canisterId } = await pic.setupCanister<any>({
        idlFactory: counterIdl as any,
        wasm: await counterWasm(),
        arg: new Uint8Array(IDL.encode([IDL.Nat], [5n])),
      });
      const ic = pic.createActor<any>(managementIdlFactory as any, Principal.fromText('aaaaa-aa'));
      await ic.take_canister_snapshot({ canister_id: canisterId, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] });
      await actor.inc();
      await actor.inc();
      expect(await actor.get()).toBe(7n);
      await pic.tearDown();

      const again = await Replica.create({ log: 'quiet', stateDir: snapDir });
      const restored = again.createActor<any>(counterIdl as any, canisterId);
      expect(await restored.get()).toBe(7n);
      const canister = again.scheduler.canister(canisterId)!;
      expect(canister.snapshots.size).toBe(1);
      const [snapshot] = canister.snapshots.values();
      const { restoreSnapshot } = await import('../src/management/snapshots.ts');
      restoreSnapshot(canister, snapshot);
      expect(await restored.get()).toBe(5n);
      await again.tearDown();
    } finally {
      rmSync(snapDir, { recursive: true, force: true });
    }
  });
});
