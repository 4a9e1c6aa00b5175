// A best-effort call's deadline survives kill -9: the caller's callback and its deadline are in
// the committed state, so after a restart from the state directory the call still times out with
// SYS_UNKNOWN, and the agent polling the same request id gets that answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pollForResponse } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { deployWasm, localAgent, startReplicaProcess, type ReplicaProcess } from './http-support.ts';
import { motokoFixture } from './fixtures/build.ts';

const dir = mkdtempSync(join(tmpdir(), 'replica-deadline-'));
let replica: ReplicaProcess | undefined;
afterAll(async () => {
  await replica?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('best-effort deadlines across kill -9', () => {
  it('a call waiting on a slow callee when the replica is killed times out with SYS_UNKNOWN after the restart', async () => {
    const subnet = await motokoFixture('subnet');
    replica = await startReplicaProcess({ stateDir: dir });
    let agent = await localAgent(replica.url);
    const a = await deployWasm(agent, subnet.wasm);
    const b = await deployWasm(agent, subnet.wasm);
    // a calls b.slow(30000) with a 20 s timeout; b keeps working (awaiting itself) for 30 s. The
    // timeout leaves a loaded machine (CI on 2 cores) room to reach the kill well before the deadline.
    const arg = new Uint8Array(IDL.encode([IDL.Principal, IDL.Nat, IDL.Nat], [b, 30_000n, 20n]));
    const calledAt = Date.now();
    const { requestId } = await agent.call(a, { methodName: 'boundedCall', arg, effectiveCanisterId: a, callSync: false });
    // Wait until a waits on b and b on itself, then for two of the replica's once-a-second commits.
    const callbacks = async () => Number(/^replica_callbacks (\d+)$/m.exec(await (await fetch(`${replica!.url}/_/metrics`)).text())?.[1] ?? 0);
    for (let i = 0; i < 100 && (await callbacks()) < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 2500));
    await replica.kill();
    expect(Date.now() - calledAt, 'killed before the deadline, or the test proves nothing').toBeLessThan(20_000);

    replica = await startReplicaProcess({ stateDir: dir });
    agent = await localAgent(replica.url);
    const { reply } = await pollForResponse(agent, a, requestId);
    const [outcome, calleeSaw] = IDL.decode([IDL.Text, IDL.Opt(IDL.Nat), IDL.Opt(IDL.Nat)], reply) as [string, [] | [bigint]];
    expect(outcome).toMatch(/system_unknown|#future 6/);
    expect(outcome).toMatch(/Call deadline has expired\./);
    expect(calleeSaw).toEqual([]);
    // b is still at work after the restart, and finishes later; its reply is dropped.
    const slowDoneCount = async () => {
      const answer = await agent.query(b, { methodName: 'slowDoneCount', arg: new Uint8Array(IDL.encode([], [])) });
      if (answer.status !== 'replied') throw new Error(`slowDoneCount was rejected: ${answer.reject_message}`);
      return IDL.decode([IDL.Nat], answer.reply.arg)[0] as bigint;
    };
    let done = 0n;
    for (let i = 0; i < 600 && done === 0n; i++) {
      done = await slowDoneCount();
      if (done === 0n) await new Promise((r) => setTimeout(r, 100));
    }
    expect(done).toBe(1n);
    const metrics = await (await fetch(`${replica.url}/_/metrics`)).text();
    expect(metrics).toMatch(/^replica_best_effort_late_responses_dropped_total 1$/m);
  }, 180_000);
});
