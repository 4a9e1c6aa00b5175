// kill -9 between slices of a time-sliced install_code, through `npm run replica --
// --state-dir`: an upgrade long enough to span many rounds (small install slices, 100 ms mainnet
// rounds) is paused when the replica commits; that commit holds the install_code request back
// in the subnet queue and the canister with the code it is replacing. After kill -9 and a restart
// the canister still runs its old code, the install runs again from the start and ends with the
// new code exactly once (one version step, one history entry, the state carried over once), and
// the request's status, polled as an agent polls it, is replied.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { pollForResponse, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { deployCounter, localAgent, managementActor, startReplicaProcess, type ReplicaProcess } from './http-support.ts';
import { motokoFixture } from './fixtures/build.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'replica-install-crash-'));
const running: ReplicaProcess[] = [];
afterAll(async () => {
  for (const r of running) await r.kill().catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});

// Install slices of 5,000 instructions, one per 100 ms round: installing a Motoko canister
// takes seconds, long enough to commit and kill in the middle.
const start = async () => {
  const r = await startReplicaProcess({ stateDir, limits: ['instructionsPerInstallSlice=5K'], args: ['--pacing', 'mainnet', '--round-ms', '100'] });
  running.push(r);
  return r;
};

const metric = async (r: ReplicaProcess, name: string) =>
  Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${r.url}/_/metrics`)).text())?.[1] ?? NaN);

async function query(
  agent: HttpAgent,
  canister: Principal,
  method: string,
): Promise<{ status: 'replied'; value: bigint } | { status: 'rejected'; message: string }> {
  const answer = await agent.query(canister, { methodName: method, arg: new Uint8Array(IDL.encode([], [])) });
  if (answer.status !== 'replied') return { status: 'rejected', message: answer.reject_message };
  return { status: 'replied', value: IDL.decode([IDL.Nat], answer.reply.arg)[0] as bigint };
}

const status = (agent: HttpAgent, canister: Principal) =>
  managementActor(agent).canister_status({ canister_id: canister }) as Promise<{
    version: bigint;
    module_hash: [] | [Uint8Array];
    memory_metrics: { canister_history_size: bigint };
  }>;

describe('kill -9 while an install_code is paused between slices', () => {
  it('the commit shows the old code; after the restart the install runs again from the start and ends with the new code exactly once', async () => {
    const subnet = await motokoFixture('subnet');
    let replica = await start();
    let agent = await localAgent(replica.url);
    const canister = await deployCounter(agent, 5n);
    const inc = await agent.call(canister, { methodName: 'inc', arg: new Uint8Array(IDL.encode([], [])), effectiveCanisterId: canister });
    await pollForResponse(agent, canister, inc.requestId);
    const before = await status(agent, canister);
    expect(await query(agent, canister, 'get')).toEqual({ status: 'replied', value: 6n });

    // Upgrade to the subnet fixture (its `count` carries over), sent without waiting.
    const arg = IDL.encode(
      [
        IDL.Record({
          mode: IDL.Variant({
            upgrade: IDL.Opt(
              IDL.Record({ skip_pre_upgrade: IDL.Opt(IDL.Bool), wasm_memory_persistence: IDL.Opt(IDL.Variant({ keep: IDL.Null, replace: IDL.Null })) }),
            ),
          }),
          canister_id: IDL.Principal,
          wasm_module: IDL.Vec(IDL.Nat8),
          arg: IDL.Vec(IDL.Nat8),
          sender_canister_version: IDL.Opt(IDL.Nat64),
        }),
      ],
      [
        {
          mode: { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [{ keep: null }] }] },
          canister_id: canister,
          wasm_module: subnet.wasm,
          arg: new Uint8Array(IDL.encode([], [])),
          sender_canister_version: [],
        },
      ],
    );
    const management = Principal.fromText('aaaaa-aa');
    const install = await agent.call(management, { methodName: 'install_code', arg: new Uint8Array(arg), effectiveCanisterId: canister, callSync: false });
    for (let i = 0; i < 200 && (await metric(replica, 'replica_paused_executions')) < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await metric(replica, 'replica_paused_executions')).toBe(1);
    // While paused the canister answers with its old code and state.
    expect(await query(agent, canister, 'getVersion')).toEqual({ status: 'replied', value: 1n });
    // One of the replica's once-a-second commits at least, then kill -9 while the install is still paused.
    await new Promise((r) => setTimeout(r, 1300));
    expect(await metric(replica, 'replica_paused_executions'), 'the install ended before the kill: the test proves nothing').toBe(1);
    await replica.kill();

    replica = await start();
    agent = await localAgent(replica.url);
    // The commit had the old code: right after the restart the canister still runs it.
    expect(await query(agent, canister, 'getVersion')).toEqual({ status: 'replied', value: 1n });
    const { reply } = await pollForResponse(agent, canister, install.requestId);
    expect(IDL.decode([], reply)).toEqual([]);
    const after = await status(agent, canister);
    expect(after.module_hash).toEqual([new Uint8Array(createHash('sha256').update(subnet.wasm).digest())]);
    expect(after.version).toBe(before.version + 1n);
    expect(after.memory_metrics.canister_history_size - before.memory_metrics.canister_history_size).toBe(64n);
    expect(await query(agent, canister, 'get')).toEqual({ status: 'replied', value: 6n });
    expect(await query(agent, canister, 'getVersion')).toMatchObject({ status: 'rejected' });
  }, 180_000);
});
