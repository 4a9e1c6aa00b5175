// A PocketIC instance created from a state_dir continues what was in flight at the commit it
// restores, as `npm run replica --state-dir` does: a call half done (A.incPeer(B): A waits on its
// callback, B's request is queued) finishes, B counts it once and nothing is left waiting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { PocketIcInstance } from '../src/pocket-ic/instance.ts';
import { DiskStore } from '../src/store/disk-store.ts';
import { counterIdl, counterWasm } from './http-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'pocket-ic-restore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a PocketIC instance restored from a state_dir', () => {
  it('continues the calls in flight at the commit', async () => {
    const subnets = [{ kind: 'Application' as const }];
    // The same deterministic instance, writing its state the way any commit does, taken while
    // the call is half done (a commit between two message executions).
    const first = await PocketIcInstance.create({ id: 1, subnets });
    const wasm = await counterWasm();
    const setup = (start: bigint) =>
      first.replica.setupCanister<any>({ idlFactory: counterIdl as any, wasm, arg: new Uint8Array(IDL.encode([IDL.Nat], [start])) });
    const a = await setup(0n);
    const b = await setup(100n);
    const store = await DiskStore.open(dir);
    store.flush(first.replica.scheduler, first.replica.management);
    const scheduler = first.replica.scheduler as unknown as { enqueue: (canister: string, source: string, message: { kind: string }) => void };
    const enqueue = scheduler.enqueue.bind(first.replica.scheduler);
    let caught = false;
    scheduler.enqueue = (canister, source, message) => {
      enqueue(canister, source, message);
      if (!caught && message.kind === 'request' && canister === b.canisterId.toText() && source === a.canisterId.toText()) {
        caught = true;
        store.flush(first.replica.scheduler, first.replica.management);
      }
    };
    const arg = new Uint8Array(IDL.encode([IDL.Principal], [b.canisterId]));
    await first.replica.scheduler.submitIngress(a.canisterId.toText(), 'incPeer', arg, Principal.anonymous().toUint8Array(), 'the-call');
    expect(caught, 'a commit while the call was half done').toBe(true);
    await store.close(); // nothing after the commit reaches the disk
    await first.replica.tearDown().catch(() => {});

    const second = await PocketIcInstance.create({ id: 2, subnets, stateDir: dir });
    await second.replica.tick();
    await second.replica.tick();
    const count = (id: Principal) => second.replica.createActor<any>(counterIdl as any, id).get();
    expect(await count(b.canisterId)).toBe(101n); // B counted the call once
    expect(second.replica.scheduler.snapshot().callbacks).toHaveLength(0); // A is not left waiting
    await second.delete();
  });
});
