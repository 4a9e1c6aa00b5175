// A commit taken while a call is half done (A.incPeer(B): A has run and waits on its callback, B's
// request is queued) restores to exactly that moment: the scheduler's queues, call contexts and
// callbacks come back with the canisters' memories from the same commit, execution continues, B
// counts the call once, A's callback runs and the ingress call completes with its reply.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { Replica } from '../src/index.ts';
import { DiskStore } from '../src/store/disk-store.ts';
import type { CallResponse } from '../src/ic/call-outcome.ts';
import { counterIdl, counterWasm } from './http-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'replica-inflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One thread and small rounds: a call and its reply do not fit in one round.
const limits = { instructionsPerRound: 2_000_000, executionThreads: 1 };

describe('a commit in the middle of a multi-message call', () => {
  it('continues after a restart from that commit: every effect once, the ingress call answered', async () => {
    const pic = await Replica.create({ log: 'quiet', limits, time: new Date('2026-06-01') });
    const wasm = await counterWasm();
    const setup = (start: bigint) => pic.setupCanister<any>({ idlFactory: counterIdl as any, wasm, arg: new Uint8Array(IDL.encode([IDL.Nat], [start])) });
    const a = await setup(0n);
    const b = await setup(100n);
    const store = await DiskStore.open(dir);
    store.flush(pic.scheduler, pic.management);

    // The commit is taken right after A's request to B is queued: A has run and waits on its
    // callback, B has not run. (Rounds run many messages without returning to the event loop, so
    // the test commits from inside the scheduler at that point, which lies between two message
    // executions like every point at which the CLI commits.)
    const scheduler = pic.scheduler as unknown as { enqueue: (canister: string, source: string, message: { kind: string }) => void };
    const enqueue = scheduler.enqueue.bind(pic.scheduler);
    let caught = false;
    scheduler.enqueue = (canister, source, message) => {
      enqueue(canister, source, message);
      if (!caught && message.kind === 'request' && canister === b.canisterId.toText() && source === a.canisterId.toText()) {
        caught = true;
        store.flush(pic.scheduler, pic.management); // the last commit before the "crash"
      }
    };
    const arg = new Uint8Array(IDL.encode([IDL.Principal], [b.canisterId]));
    const first = pic.scheduler.submitIngress(a.canisterId.toText(), 'incPeer', arg, Principal.anonymous().toUint8Array(), 'the-call');
    await first; // the first run finishes too; none of it after the commit reaches the disk
    expect(caught, 'a commit while the call was half done').toBe(true);
    await store.close(); // kill -9: nothing after the commit reaches the disk
    await pic.tearDown().catch(() => {});

    const again = await Replica.create({ log: 'quiet', limits, time: new Date('2026-06-01') });
    const reopened = await DiskStore.open(dir);
    const restored = await reopened.restore(again.scheduler, again.management);
    expect(restored.schedulerState?.callbacks).toHaveLength(1);
    const answered = new Promise<CallResponse>((resolve) => {
      again.scheduler.onIngressCompleted = (key, response) => {
        if (key === 'the-call') resolve(response);
      };
    });
    again.scheduler.restore(restored.schedulerState!);
    const response = await answered;
    expect(response.kind).toBe('reply');
    if (response.kind === 'reply') expect(IDL.decode([IDL.Nat], response.data)[0]).toBe(101n);
    const count = (id: Principal) => again.createActor<any>(counterIdl as any, id).get();
    expect(await count(b.canisterId)).toBe(101n); // B counted the call once
    expect(await count(a.canisterId)).toBe(0n);
    expect(again.scheduler.snapshot().callbacks).toHaveLength(0); // nothing left waiting
    await reopened.close();
    await again.tearDown();
  });

  it('runs a management operation again that was awaiting asynchronous work at the commit', async () => {
    const sub = mkdtempSync(join(tmpdir(), 'replica-inflight-mgmt-'));
    try {
      const pic = await Replica.create({ log: 'quiet', limits, time: new Date('2026-06-01') });
      const wasm = await counterWasm();
      const canisterId = await pic.createCanister();
      const store = await DiskStore.open(sub);
      store.flush(pic.scheduler, pic.management);
      // install_code awaits the compilation of its module: the commit is taken right then, while
      // the request is in no queue and its effects are not applied yet.
      const management = pic.management as unknown as { handle: (request: { method: string }, done: unknown) => Promise<void> };
      const handle = management.handle.bind(pic.management);
      let caught = false;
      management.handle = (request, done) => {
        const pending = handle(request, done);
        if (!caught && request.method === 'install_code') {
          caught = true;
          store.flush(pic.scheduler, pic.management);
        }
        return pending;
      };
      await pic.installCode({ canisterId, wasm, arg: new Uint8Array(IDL.encode([IDL.Nat], [7n])) });
      expect(caught, 'a commit while install_code was compiling').toBe(true);
      await store.close(); // kill -9: the install finished in memory only
      await pic.tearDown().catch(() => {});

      const again = await Replica.create({ log: 'quiet', limits, time: new Date('2026-06-01') });
      const reopened = await DiskStore.open(sub);
      const restored = await reopened.restore(again.scheduler, again.management);
      expect(restored.schedulerState?.subnetQueue.map((m) => m.method)).toEqual(['install_code']);
      const answered = new Promise<CallResponse>((resolve) => {
        again.scheduler.onIngressCompleted = (_key, response) => resolve(response);
      });
      again.scheduler.restore(restored.schedulerState!);
      expect((await answered).kind).toBe('reply');
      expect(await again.createActor<any>(counterIdl as any, canisterId).get()).toBe(7n);
      await reopened.close();
      await again.tearDown();
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });

  it('keeps an answer that waits for its certificate (mainnet pacing) across the restart', async () => {
    const sub = mkdtempSync(join(tmpdir(), 'replica-inflight-cert-'));
    try {
      const pic = await Replica.create({ log: 'quiet', pacing: 'mainnet', roundMs: 100 });
      const wasm = await counterWasm();
      const a = await pic.setupCanister<any>({ idlFactory: counterIdl as any, wasm, arg: new Uint8Array(IDL.encode([IDL.Nat], [5n])) });
      const store = await DiskStore.open(sub);
      let answeredBeforeCommit = false;
      pic.scheduler.onIngressCompleted = (key) => {
        if (key === 'the-call') answeredBeforeCommit = true;
      };
      void pic.scheduler.submitIngress(a.canisterId.toText(), 'inc', new Uint8Array(IDL.encode([], [])), Principal.anonymous().toUint8Array(), 'the-call');
      // The moment between the round that ran the call and the certificate that releases its
      // answer: nothing of the call is left in queues or call contexts, and no one has the answer.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const state = pic.scheduler.snapshot();
        const inState = state.ingressPool.length + state.callContexts.length + Object.values(state.queues).reduce((n, q) => n + q.size, 0);
        if (inState === 0 && !answeredBeforeCommit && pic.scheduler.round > 0) break;
        expect(Date.now(), 'never caught the answer before its certificate').toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 2));
      }
      store.flush(pic.scheduler, pic.management); // the last commit before the crash
      const releasedBeforeCommit = answeredBeforeCommit;
      await store.close();
      await pic.tearDown().catch(() => {});
      expect(releasedBeforeCommit, 'the answer was released before the commit').toBe(false);

      const again = await Replica.create({ log: 'quiet', pacing: 'mainnet', roundMs: 100 });
      const reopened = await DiskStore.open(sub);
      const restored = await reopened.restore(again.scheduler, again.management);
      const answered = new Promise<CallResponse | 'never answered'>((resolve) => {
        again.scheduler.onIngressCompleted = (key, response) => {
          if (key === 'the-call') resolve(response);
        };
        setTimeout(() => resolve('never answered'), 3_000);
      });
      again.scheduler.restore(restored.schedulerState!);
      const response = await answered;
      expect(response).not.toBe('never answered');
      if (response !== 'never answered' && response.kind === 'reply') expect(IDL.decode([IDL.Nat], response.data)[0]).toBe(6n);
      expect(await again.createActor<any>(counterIdl as any, a.canisterId).get()).toBe(6n); // once
      await reopened.close();
      await again.tearDown();
    } finally {
      rmSync(sub, { recursive: true, force: true });
    }
  });
});
