// `npm run replica -- --limit name=value`: the IC's limits lowered for a whole replica, so a demo or
// a test can hit one with little data, through the public HTTP interface and the real agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Actor, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { deployWasm, localAgent, startReplicaProcess, type ReplicaProcess } from './http-support.ts';
import { motokoWork } from './metering-fixtures/fixtures.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const workIdl: IDL.InterfaceFactory = ({ IDL: I }) => I.Service({ spin: I.Func([I.Nat64], [I.Nat64], ['query']) });

describe('replica CLI --limit', () => {
  let replica: ReplicaProcess;
  let agent: HttpAgent;
  let work: { spin(n: bigint): Promise<bigint> };

  beforeAll(async () => {
    replica = await startReplicaProcess({ log: 'normal', limits: ['instructionsPerQuery=2M'] });
    agent = await localAgent(replica.url);
    const canisterId = await deployWasm(agent, (await motokoWork('eop')).wasm);
    work = Actor.createActor(workIdl, { agent, canisterId }) as any;
  });
  afterAll(async () => {
    await replica?.stop();
  });

  it('says which limits it lowered and enforces them with the IC error', async () => {
    expect(replica.output()).toMatch(/limit: instructionsPerQuery = 2000000/);
    await expect(work.spin(100n)).resolves.toBeTypeOf('bigint');
    await expect(work.spin(1_000_000n)).rejects.toThrow(/IC0522|instruction limit/i);
    // The replica keeps answering after the refused query.
    await expect(work.spin(100n)).resolves.toBeTypeOf('bigint');
  });

  it('caps request bodies at a lowered maxIngressBytes', async () => {
    const small = await startReplicaProcess({ log: 'normal', limits: ['maxIngressBytes=64KiB'] });
    try {
      expect(small.output()).toMatch(/limit: maxIngressBytes = 65536/);
      const post = (bytes: number) =>
        fetch(`${small.url}/api/v3/canister/aaaaa-aa/call`, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: new Uint8Array(bytes) });
      const refused = await post(65_537);
      expect(refused.status).toBe(413);
      expect(await refused.text()).toMatch(/ingress limit of 65536 bytes/);
      // Under the cap the body reaches the interface, which reads it as (bad) CBOR instead.
      expect((await post(1000)).status).toBe(400);
    } finally {
      await small.stop();
    }
  });

  it('--metering off charges nothing, so the lowered limit no longer stops the same query', async () => {
    const unmetered = await startReplicaProcess({ log: 'normal', limits: ['instructionsPerQuery=2M'], args: ['--metering', 'off'] });
    try {
      const unmeteredAgent = await localAgent(unmetered.url);
      const canisterId = await deployWasm(unmeteredAgent, (await motokoWork('eop')).wasm);
      const actor = Actor.createActor(workIdl, { agent: unmeteredAgent, canisterId }) as any;
      await expect(actor.spin(1_000_000n)).resolves.toBeTypeOf('bigint');
    } finally {
      await unmetered.stop();
    }
    const bad = spawnSync(process.execPath, [CLI, '--port', '0', '--metering', 'sometimes'], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--metering must be block, instruction or off, got "sometimes"/);
  });

  it('refuses an unknown limit name with the list of known ones', () => {
    const result = spawnSync(process.execPath, [CLI, '--port', '0', '--limit', 'instructionsPerLunch=5'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown limit "instructionsPerLunch"; known limits: .*instructionsPerQuery/);
  });
});
