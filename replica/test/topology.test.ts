// Several subnets in one replica: PocketIC's layout of canister ranges, canisters placed on the
// subnet asked for, no cycle charges on system subnets; and `/_/topology` on `npm run replica`
// read the way agent-js's end-to-end tests read it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { IDL } from '@dfinity/candid';
import { Actor, type HttpAgent } from '@dfinity/agent';
import { Topology } from '../src/index.ts';
import { counterIdl, counterWasm, localAgent, managementActor, startReplicaProcess, type ReplicaProcess } from './http-support.ts';
import { createReplica, motokoFixture, watFixture } from './fixtures/build.ts';

type Counter = { inc(): Promise<bigint>; read(): Promise<bigint> };
const incArg = new Uint8Array(IDL.encode([], []));

/** As agent-js's e2e suite does it: base64 → hex → Principal. */
async function defaultEffectiveCanisterId(url: string): Promise<Principal> {
  const data = (await (await fetch(`${url}/_/topology`)).json()) as { default_effective_canister_id: { canister_id: string } };
  return Principal.fromHex(Buffer.from(data.default_effective_canister_id.canister_id, 'base64').toString('hex'));
}

describe('Topology', () => {
  it("lays subnets out as PocketIC does and finds a canister's subnet", () => {
    const t = new Topology([{ kind: 'Application' }, { kind: 'NNS' }, { kind: 'System' }, { kind: 'II' }]);
    expect(t.subnets.map((s) => s.kind)).toEqual(['NNS', 'II', 'System', 'Application']);
    const [nns, ii, system, app] = t.subnets;
    expect(nns.ranges.length).toBe(2); // with an II subnet the NNS range is split around II's
    expect(t.subnetOf(Principal.fromText('rdmx6-jaaaa-aaaaa-aaadq-cai'))).toBe(ii);
    expect(t.subnetOf(Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai'))).toBe(nns);
    // Named subnets allocate from the top ranges first, then system, then application subnets.
    expect(t.defaultSubnet).toBe(app);
    expect(t.defaultEffectiveCanisterId.toText()).toBe('mxqf3-4h777-77775-qaaaa-cai');
    expect([system.costSchedule, app.costSchedule, nns.costSchedule]).toEqual(['Free', 'Normal', 'Free']);
    expect(() => new Topology([{ kind: 'NNS' }, { kind: 'NNS' }])).toThrow(/at most one NNS subnet/);
  });
});

describe('createReplica({ subnets })', () => {
  it('creates canisters on the subnet asked for; system subnets charge no cycles', async () => {
    const pic = await createReplica({ time: new Date('2026-01-01'), log: 'quiet', subnets: [{ kind: 'Application' }, { kind: 'System' }] });
    try {
      const [system, app] = pic.topology!.subnets;
      const wasm = await counterWasm();
      const onSystem = await pic.createCanister({ targetSubnetId: system.id, cycles: 10n ** 13n });
      const onApp = await pic.createCanister({ cycles: 10n ** 13n });
      expect(pic.topology!.subnetOf(onSystem)).toBe(system);
      expect(pic.topology!.subnetOf(onApp)).toBe(app);
      for (const canisterId of [onSystem, onApp]) await pic.installCode({ canisterId, wasm, arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])) });
      const before = [pic.getCyclesBalance(onSystem), pic.getCyclesBalance(onApp)];
      for (const canisterId of [onSystem, onApp]) await pic.updateCall({ canisterId, method: 'inc', arg: incArg });
      expect(pic.getCyclesBalance(onSystem)).toBe(before[0]);
      expect(pic.getCyclesBalance(onApp)).toBeLessThan(before[1]);
      await expect(pic.createCanister({ targetSubnetId: Principal.fromText('aaaaa-aa') })).rejects.toThrow(/no subnet aaaaa-aa/);
      // A canister creates canisters on its own subnet.
      const factory = await motokoFixture('factory');
      const { actor: onSystemFactory } = await pic.setupCanister<{ spawn(n: bigint): Promise<Principal> }>({
        idlFactory: factory.idlFactory,
        wasm: factory.wasm,
        targetSubnetId: system.id,
      });
      expect(pic.topology!.subnetOf(await onSystemFactory.spawn(1n))).toBe(system);
      // ic0.subnet_self tells each canister its own subnet.
      const probe = await watFixture('subnet-self');
      for (const subnet of [system, app]) {
        const canisterId = await pic.createCanister({ targetSubnetId: subnet.id });
        await pic.installCode({ canisterId, wasm: probe });
        expect(Principal.fromUint8Array(await pic.queryCall({ canisterId, method: 'subnet' })).toText()).toBe(subnet.id.toText());
      }
    } finally {
      await pic.tearDown();
    }
  });
});

describe('npm run replica: /_/topology', () => {
  let replica: ReplicaProcess;
  beforeAll(async () => {
    replica = await startReplicaProcess();
  });
  afterAll(async () => {
    await replica?.stop();
  });

  it('reports the one subnet, its range and a default effective canister id agents can use', async () => {
    const data = (await (await fetch(`${replica.url}/_/topology`)).json()) as {
      subnet_configs: Record<string, { subnet_kind: string; canister_ranges: unknown[] }>;
    };
    const [[subnetId, subnet]] = Object.entries(data.subnet_configs);
    expect(subnet.subnet_kind).toBe('Application');
    expect(subnet.canister_ranges).toHaveLength(1);
    // The subnet id is the one the root key certifies as.
    expect(replica.output()).toContain(`subnet:   ${subnetId}`);
    const ecid = await defaultEffectiveCanisterId(replica.url);
    expect(ecid.toText()).toBe('rrkah-fqaaa-aaaaa-aaaaq-cai');
    const agent = await localAgent(replica.url);
    const { canister_id } = await managementActor(agent, ecid).provisional_create_canister_with_cycles({
      amount: [10n ** 12n],
      settings: [],
      specified_id: [],
      sender_canister_version: [],
    });
    expect(canister_id.toText()).toBe('rrkah-fqaaa-aaaaa-aaaaq-cai');
    const state = await agent.readState(ecid, { paths: [[new TextEncoder().encode('time')]] });
    expect(state.certificate.byteLength).toBeGreaterThan(0);
    expect((await fetch(`${replica.url}/_/dashboard`)).status).toBe(200);
    // Addressed to a canister, /_/ paths are the canister's (here: it serves no HTTP, so the gateway refuses).
    const asCanister = await fetch(`${replica.url}/_/topology?canisterId=${canister_id.toText()}`);
    expect(await asCanister.text()).not.toContain('subnet_configs');
  });
});

describe('npm run replica -- --subnets application,system', () => {
  let replica: ReplicaProcess;
  let agent: HttpAgent;
  beforeAll(async () => {
    replica = await startReplicaProcess({ args: ['--subnets', 'application,system'] });
    agent = await localAgent(replica.url);
  });
  afterAll(async () => {
    await replica?.stop();
  });

  it('creates canisters on the subnet of the effective canister id; the system subnet charges nothing', async () => {
    const data = (await (await fetch(`${replica.url}/_/topology`)).json()) as {
      subnet_configs: Record<string, { subnet_kind: string; canister_ranges: { start: { canister_id: string } }[] }>;
    };
    const system = Object.values(data.subnet_configs).find((s) => s.subnet_kind === 'System')!;
    const systemStart = Principal.fromUint8Array(new Uint8Array(Buffer.from(system.canister_ranges[0].start.canister_id, 'base64')));
    const management = managementActor(agent, systemStart);
    const { canister_id } = await management.provisional_create_canister_with_cycles({
      amount: [10n ** 13n],
      settings: [],
      specified_id: [],
      sender_canister_version: [],
    });
    expect(canister_id.toText()).toBe(systemStart.toText());
    await management.install_code({
      mode: { install: null },
      canister_id,
      wasm_module: await counterWasm(),
      arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])),
      sender_canister_version: [],
    });
    const cycles = async () => ((await management.canister_status({ canister_id })) as { cycles: bigint }).cycles;
    const before = await cycles();
    const counter = Actor.createActor(counterIdl, { agent, canisterId: canister_id }) as unknown as Counter;
    await counter.inc();
    expect(await cycles()).toBe(before);
  });
});
