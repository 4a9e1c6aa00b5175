// The deploy `npm start` runs, against the real replica over HTTP (`npm run replica` in a child
// process, replica-process.ts): created once, untouched when nothing changed, upgraded with data kept when a module
// changed, and re-created under the same ids when the replica lost its state.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actor, HttpAgent } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { buildCanisters, type BuiltCanister } from '../../../scripts/build-canisters.ts';
import { deployDemoCanisters, deploySet, siteNetworkEnv } from './demo-deploy.ts';
import { startReplicaProcess, type ReplicaProcess } from '../../../scripts/lib/replica-process.ts';
import { deployedCanisters } from '../../../canisters/canisters.ts';
import { idlFactory as storeIdl, type _SERVICE as StoreService } from '../../declarations/stable-memory-eop/stable-memory-eop.did.ts';
import { idlFactory as labIdl, type _SERVICE as LabService } from '../../declarations/lab/lab.did.ts';

const replicas: ReplicaProcess[] = [];

async function startReplica(): Promise<string> {
  const replica = await startReplicaProcess();
  replicas.push(replica);
  return replica.url;
}

/** The same module with one more custom section: valid Wasm, another hash, so "the code changed". */
function changedModule(built: BuiltCanister, dir: string): BuiltCanister {
  const wasm = readFileSync(built.wasmPath);
  const name = Buffer.from('wg-test');
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(String(Date.now()))]);
  const changed = Buffer.concat([wasm, Buffer.from([0, payload.length]), payload]);
  const wasmPath = join(dir, `${built.name}.wasm`);
  writeFileSync(wasmPath, changed);
  return { ...built, wasmPath, bytes: changed.length, sha256: createHash('sha256').update(changed).digest('hex') };
}

describe('deployDemoCanisters', () => {
  let built: BuiltCanister[];
  const identity = Ed25519KeyIdentity.generate();
  const dir = mkdtempSync(join(tmpdir(), 'demo-deploy-'));

  beforeAll(async () => {
    built = await buildCanisters({ log: () => {} });
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, leaves alone, upgrades with data kept, and re-creates under the same ids', async () => {
    const host = await startReplica();
    const agent = await HttpAgent.create({ host, identity, shouldFetchRootKey: true });
    const log: string[] = [];
    const first = await deployDemoCanisters({ agent, network: 'local', built, knownIds: {}, log: (l) => log.push(l) });
    expect(Object.values(first.actions)).toEqual(Array(deployedCanisters.length).fill('created'));
    expect(log.join('\n')).toMatch(/composite-front created 4 partitions/);

    const again = await deployDemoCanisters({ agent, network: 'local', built, knownIds: first.ids, log: () => {} });
    expect(again.ids).toEqual(first.ids);
    expect(Object.values(again.actions)).toEqual(Array(deployedCanisters.length).fill('unchanged'));

    // Records in the EOP store, then a changed module: upgraded in place, records still there,
    // and the lab holds the new module (its upgrade works right after).
    const store = Actor.createActor<StoreService>(storeIdl, { agent, canisterId: first.ids['stable-memory-eop'] });
    expect('ok' in (await store.addRecords(50n))).toBe(true);
    const changed = built.map((b) => (b.name === 'stable-memory-eop' ? changedModule(b, dir) : b));
    const upgraded = await deployDemoCanisters({ agent, network: 'local', built: changed, knownIds: first.ids, log: () => {} });
    expect(upgraded.actions['stable-memory-eop']).toBe('upgraded');
    expect(upgraded.actions.lab).toBe('unchanged');
    expect((await store.stats()).records).toBe(50n);
    const lab = Actor.createActor<LabService>(labIdl, { agent, canisterId: first.ids.lab });
    const status = await lab.status();
    expect(status.stores.find((s) => 'eop' in s.which)?.moduleBytes).toBe(BigInt(changed.find((b) => b.name === 'stable-memory-eop')!.bytes));
    const viaLab = await lab.upgrade({ eop: null });
    expect('ok' in viaLab && viaLab.ok.stats.records).toBe(50n);

    // A replica that lost its state: same ids, created again.
    const fresh = await startReplica();
    const freshAgent = await HttpAgent.create({ host: fresh, identity, shouldFetchRootKey: true });
    const recreated = await deployDemoCanisters({ agent: freshAgent, network: 'local', built, knownIds: first.ids, log: () => {} });
    expect(recreated.ids).toEqual(first.ids);
    expect(Object.values(recreated.actions)).toEqual(Array(deployedCanisters.length).fill('recreated'));
    // The lab controls the snapshot and install targets again and knows the one module it may install.
    const ops = await Actor.createActor<LabService>(labIdl, { agent: freshAgent, canisterId: recreated.ids.lab }).opsStatus();
    expect([ops.snapshotTarget.moduleReady, ops.installTarget.moduleReady, ops.install.moduleHash.length]).toEqual([true, true, 1]);
  }, 300_000);

  it('hands the site the network in PUBLIC_WG_* variables', () => {
    expect(
      siteNetworkEnv({
        network: 'local',
        host: 'http://127.0.0.1:4943',
        ids: { lab: 'rkp4c-7iaaa-aaaaa-aaaca-cai' },
        identityProvider: 'http://127.0.0.1:4944/',
      }),
    ).toEqual({
      PUBLIC_WG_NETWORK: 'local',
      PUBLIC_WG_HOST: 'http://127.0.0.1:4943',
      PUBLIC_WG_CANISTER_IDS: '{"lab":"rkp4c-7iaaa-aaaaa-aaaca-cai"}',
      PUBLIC_WG_IDENTITY_PROVIDER: 'http://127.0.0.1:4944/',
    });
    expect(siteNetworkEnv({ network: 'ic', ids: { lab: 'x' } })).toEqual({ PUBLIC_WG_NETWORK: 'ic', PUBLIC_WG_CANISTER_IDS: '{"lab":"x"}' });
  });
});

describe('deploySet', () => {
  const sorted = (names: string[]) => [...deploySet(names)].sort();
  it('adds the canisters of the wiring steps a canister needs, not those of steps it only takes part in', () => {
    // A target or a store needs the lab; the lab needs neither.
    expect(sorted(['lab', 'install-target'])).toEqual(['install-target', 'lab']);
    expect(sorted(['snapshot-target'])).toEqual(['lab', 'snapshot-target']);
    expect(sorted(['lab'])).toEqual(['lab']);
    expect(sorted(['stable-memory-region'])).toEqual(['lab', 'stable-memory-classic', 'stable-memory-eop', 'stable-memory-region']);
    // A pair needs each other.
    expect(sorted(['queue-consumer'])).toEqual(['queue-consumer', 'queue-producer']);
  });
  it('is every deployed canister without a list', () => {
    expect([...deploySet(undefined)].sort()).toEqual(deployedCanisters.map((c) => c.name).sort());
  });
});
