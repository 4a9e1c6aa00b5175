// The demo canisters under PicJS (@dfinity/pic), unchanged, against the replica's PocketIC-
// compatible server: PicJS starts `node_modules/.bin/pocket-ic` exactly as it starts the real
// binary (POCKET_IC_BIN, --port-file, --ttl) and speaks PocketIC's REST API to it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcpFeaturesConfig, PocketIc, PocketIcServer, SubnetStateType, createIdentity } from '@dfinity/pic';
import { Actor as AgentActor, HttpAgent } from '@dfinity/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactory as storeIdlFactory } from '../src/declarations/stable-memory-region/stable-memory-region.did.ts';
import type { _SERVICE as StoreService } from '../src/declarations/stable-memory-region/stable-memory-region.did.ts';
import { canisterModule } from '../scripts/build-canisters.ts';

// PicJS brings its own copy of @icp-sdk/core (5.x), so its Principal and IDL types are distinct
// from the project's (same classes at run time, where PicJS checks them by shape).
type PicPrincipal = Awaited<ReturnType<PocketIc['getControllers']>>[number];
type PicIdlFactory = Parameters<PocketIc['createActor']>[0];
const idlFactory = storeIdlFactory as unknown as PicIdlFactory;
const principal = (text: string) => Principal.fromText(text) as unknown as PicPrincipal;
const alice = createIdentity('alice').getPrincipal();
const bob = createIdentity('bob').getPrincipal();

/** PocketIC's genesis: a new instance's time (2021-05-06 19:17:10 UTC). */
const GENESIS_MS = Date.UTC(2021, 4, 6, 19, 17, 10);

let server: PocketIcServer;
let wasm: Uint8Array;

let portFileDir: string;

beforeAll(async () => {
  process.env.POCKET_IC_BIN = resolve('node_modules/.bin/pocket-ic');
  ({ wasm } = await canisterModule('stable-memory-region'));
  // PicJS names its port file after the parent process id, in the temporary directory: a fresh
  // directory keeps a file left by an earlier run (with a recycled pid) from being "reused".
  const previous = process.env.TMPDIR;
  portFileDir = mkdtempSync(join(tmpdir(), 'picjs-'));
  process.env.TMPDIR = portFileDir;
  try {
    server = await PocketIcServer.start({ ttl: 120 });
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
});

afterAll(async () => {
  await server?.stop();
  rmSync(portFileDir, { recursive: true, force: true });
});

async function withPic<T>(run: (pic: PocketIc) => Promise<T>, options?: Parameters<typeof PocketIc.create>[1]): Promise<T> {
  const pic = await PocketIc.create(server.getUrl(), options);
  try {
    return await run(pic);
  } finally {
    await pic.tearDown();
  }
}

const addArg = (n: bigint) => new Uint8Array(IDL.encode([IDL.Nat], [n]));
const actorStats = (pic: PocketIc, canisterId: PicPrincipal) => pic.createActor<StoreService>(idlFactory, canisterId).stats();

describe('PicJS against the replica', () => {
  it('sets up a canister and calls it as different senders, update and query', async () => {
    await withPic(async (pic) => {
      const { actor, canisterId } = await pic.setupCanister<StoreService>({ idlFactory, wasm });
      // PocketIC's first canister id on its first application subnet.
      expect(canisterId.toText()).toBe('lxzze-o7777-77777-aaaaa-cai');
      actor.setPrincipal(alice);
      const added = await actor.addRecords(25n);
      expect('ok' in added && added.ok.records).toBe(25n);
      actor.setPrincipal(bob);
      expect((await actor.stats()).records).toBe(25n);
      // clear is for controllers only (the anonymous creator): bob is refused.
      const refused = await actor.clear();
      expect('err' in refused && Object.keys(refused.err)[0]).toBe('notAuthorized');
      expect((await pic.getControllers(canisterId)).map((p) => p.toText())).toEqual(['2vxsx-fae']);
    });
  });

  it('upgrades, reinstalls and reads and writes stable memory', async () => {
    await withPic(async (pic) => {
      const { actor, canisterId } = await pic.setupCanister<StoreService>({ idlFactory, wasm });
      await actor.addRecords(40n);
      await pic.upgradeCanister({ canisterId, wasm });
      expect((await actor.stats()).records).toBe(40n);
      await pic.reinstallCode({ canisterId, wasm });
      expect((await actor.stats()).records).toBe(0n);
      // Stable memory in and out (through the blob store): grown to whole 64 KiB pages, bytes kept.
      const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 251);
      await pic.setStableMemory(canisterId, bytes);
      const back = await pic.getStableMemory(canisterId);
      expect(back.length).toBe(2 * 65536);
      expect(back.subarray(0, bytes.length)).toEqual(bytes);
      expect(back.subarray(bytes.length).every((b) => b === 0)).toBe(true);
    });
  });

  it('controls time and ticks', async () => {
    await withPic(async (pic) => {
      expect(await pic.getTime()).toBe(GENESIS_MS);
      const { actor } = await pic.setupCanister<StoreService>({ idlFactory, wasm });
      await pic.setTime(new Date('2030-01-01T00:00:00Z'));
      await pic.tick();
      await actor.addRecords(1n);
      const [op] = (await actor.stats()).lastOperation;
      expect(Number(op!.at / 1_000_000n)).toBe(Date.parse('2030-01-01T00:00:00Z'));
      await pic.advanceTime(90_000);
      expect(await pic.getTime()).toBe(Date.parse('2030-01-01T00:01:30Z'));
      await expect(pic.setTime(GENESIS_MS)).rejects.toThrow(/SettingTimeIntoPast/);
    });
  });

  it('reports and adds cycles; an update costs cycles on an application subnet', async () => {
    await withPic(async (pic) => {
      const { canisterId } = await pic.setupCanister({ idlFactory, wasm, cycles: 10n ** 13n });
      // PicJS parses with json-with-bigint: small balances come back as numbers, large ones as bigints.
      const before = BigInt(await pic.getCyclesBalance(canisterId));
      await pic.updateCall({ canisterId, method: 'addRecords', arg: addArg(5n) });
      const after = BigInt(await pic.getCyclesBalance(canisterId));
      expect(after).toBeLessThan(before);
      expect(BigInt(await pic.addCycles(canisterId, 1_000n))).toBe(after + 1_000n);
    });
  });

  it('submits calls and awaits them later (deferred actor)', async () => {
    await withPic(async (pic) => {
      const { canisterId } = await pic.setupCanister({ idlFactory, wasm });
      const deferred = pic.createDeferredActor<StoreService>(idlFactory, canisterId);
      const first = await deferred.addRecords(3n);
      const second = await deferred.addRecords(4n);
      // Submitted, not yet run: PocketIC runs the ingress pool in the next round.
      expect((await actorStats(pic, canisterId)).records).toBe(0n);
      const a = await first();
      const b = await second();
      expect('ok' in a && a.ok.records).toBe(3n);
      expect('ok' in b && b.ok.records).toBe(7n);
    });
  });

  it('turns rejects into the errors PicJS throws, with PocketIC reject and error codes', async () => {
    await withPic(async (pic) => {
      const { canisterId } = await pic.setupCanister({ idlFactory, wasm });
      await expect(pic.updateCall({ canisterId, method: 'noSuchMethod' })).rejects.toThrow(/Reject code: CanisterError\. Error code: CanisterMethodNotFound/);
      // An id in the subnet's range that no canister has: the IC's CanisterNotFound.
      await expect(pic.queryCall({ canisterId: principal('lz3um-vp777-77777-aaaba-cai'), method: 'stats' })).rejects.toThrow(
        /Reject code: DestinationInvalid\. Error code: CanisterNotFound/,
      );
      // An id outside every subnet: PocketIC refuses to route it (a server error, not a reject).
      await expect(pic.queryCall({ canisterId: principal('ryjl3-tyaaa-aaaaa-aaaba-cai'), method: 'stats' })).rejects.toThrow(/does not belong to any subnet/);
    });
  });
});

describe('live mode', () => {
  it('makeLive starts auto progress and an HTTP gateway that agents call with verification', async () => {
    await withPic(async (pic) => {
      // The agent is the project's @dfinity/agent; the same key calls through PicJS and through the gateway.
      const identity = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(7));
      const sender = principal(identity.getPrincipal().toText());
      const { canisterId } = await pic.setupCanister<StoreService>({ idlFactory, wasm, sender });
      const port = await pic.makeLive();
      const agent = await HttpAgent.create({ host: `http://127.0.0.1:${port}`, shouldFetchRootKey: true, identity });
      const store = AgentActor.createActor<StoreService>(storeIdlFactory, { agent, canisterId: canisterId.toText() });
      const added = await store.addRecords(2n);
      expect('ok' in added && added.ok.records).toBe(2n);
      expect((await store.stats()).records).toBe(2n);
      const before = await pic.getTime();
      await new Promise((r) => setTimeout(r, 300));
      expect(await pic.getTime()).toBeGreaterThan(before);
      await pic.stopLive();
    });
  });
});

describe('topology', () => {
  it('creates NNS, system and application subnets with PocketIC ranges; system subnets charge no cycles', async () => {
    await withPic(
      async (pic) => {
        const subnets = await pic.getTopology();
        expect(subnets.map((s) => s.type).sort()).toEqual(['Application', 'NNS', 'System']);
        const nns = (await pic.getNnsSubnet())!;
        expect(nns.canisterRanges[0].start.toText()).toBe('rwlgt-iiaaa-aaaaa-aaaaa-cai');
        const [system] = await pic.getSystemSubnets();
        const [app] = await pic.getApplicationSubnets();
        expect(app.canisterRanges[0].start.toText()).toBe('tqzl2-p7777-77776-aaaaa-cai');
        expect((await pic.getDefaultEffectiveCanisterId()).toText()).toBe('tqzl2-p7777-77776-aaaaa-cai');

        const onSystem = await pic.createCanister({ targetSubnetId: system.id, cycles: 10n ** 13n });
        expect(onSystem.toText()).toBe(system.canisterRanges[0].start.toText());
        expect((await pic.getCanisterSubnetId(onSystem))?.toText()).toBe(system.id.toText());
        await pic.installCode({ canisterId: onSystem, wasm, targetSubnetId: system.id });
        const before = await pic.getCyclesBalance(onSystem);
        await pic.updateCall({ canisterId: onSystem, method: 'addRecords', arg: addArg(5n) });
        expect(await pic.getCyclesBalance(onSystem)).toBe(before);

        const onApp = await pic.createCanister({ cycles: 10n ** 13n });
        expect((await pic.getCanisterSubnetId(onApp))?.toText()).toBe(app.id.toText());
        expect(await pic.getCanisterSubnetId(principal('ryjl3-tyaaa-aaaaa-aaaba-cai'))).toBeNull();
      },
      {
        nns: { state: { type: SubnetStateType.New } },
        system: [{ state: { type: SubnetStateType.New } }],
        application: [{ state: { type: SubnetStateType.New } }],
      },
    );
  });

  it('adds the NNS subnet when a canister is created at one of its mainnet ids, as PocketIC does', async () => {
    await withPic(async (pic) => {
      expect((await pic.getTopology()).map((s) => s.type)).toEqual(['Application']);
      const ledger = principal('ryjl3-tyaaa-aaaaa-aaaba-cai');
      const { canisterId } = await pic.setupCanister<StoreService>({ idlFactory, wasm, targetCanisterId: ledger });
      expect(canisterId.toText()).toBe('ryjl3-tyaaa-aaaaa-aaaba-cai');
      const nns = (await pic.getNnsSubnet())!;
      expect((await pic.getCanisterSubnetId(canisterId))?.toText()).toBe(nns.id.toText());
      // Not a named subnet's mainnet id: refused, with the reason.
      await expect(pic.createCanister({ targetCanisterId: principal('2vxsx-fae') })).rejects.toThrow(/not in the canister range of any subnet/);
    });
  });

  it('keeps instances isolated and deterministic', async () => {
    const run = () =>
      withPic(async (pic) => {
        const { actor, canisterId } = await pic.setupCanister<StoreService>({ idlFactory, wasm });
        await actor.addRecords(12n);
        const page = await actor.getRecords(0n, 3n);
        return {
          id: canisterId.toText(),
          time: await pic.getTime(),
          page: JSON.stringify(page, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
          cycles: await pic.getCyclesBalance(canisterId),
        };
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(b).toEqual(a);
  });

  it('reports benchmarking subnets and refuses them mixed with production ones', async () => {
    await withPic(
      async (pic) => {
        // PicJS drops instruction_config from its topology: read PocketIC's JSON (this is the newest instance).
        const instances = (await (await fetch(`${server.getUrl()}/instances`)).json()) as string[];
        const topology = (await (await fetch(`${server.getUrl()}/instances/${instances.length - 1}/_/topology`)).json()) as {
          subnet_configs: Record<string, { instruction_config: string }>;
        };
        expect(Object.values(topology.subnet_configs).map((s) => s.instruction_config)).toEqual(['Benchmarking']);
        const { actor } = await pic.setupCanister<StoreService>({ idlFactory, wasm });
        expect('ok' in (await actor.addRecords(10n))).toBe(true);
      },
      { application: [{ state: { type: SubnetStateType.New }, enableBenchmarkingInstructionLimits: true }] },
    );
    await expect(
      PocketIc.create(server.getUrl(), {
        application: [{ state: { type: SubnetStateType.New }, enableBenchmarkingInstructionLimits: true }, { state: { type: SubnetStateType.New } }],
      }),
    ).rejects.toThrow(/Benchmarking on some subnets of an instance only is not supported/);
  });

  it('names what it does not support', async () => {
    await expect(PocketIc.create(server.getUrl(), { icpFeatures: { icpToken: IcpFeaturesConfig.DefaultConfig } })).rejects.toThrow(
      /`icp_token` is not supported/,
    );
    await expect(PocketIc.create(server.getUrl(), { nns: { state: { type: SubnetStateType.FromPath, path: '/nonexistent' } } })).rejects.toThrow(
      /FromPath.*not supported/,
    );
    const unknown = await fetch(`${server.getUrl()}/instances/0/read/no_such_thing`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/No such endpoint/);
    const malformed = await fetch(`${server.getUrl()}/instances`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"subnet_config_set": ',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { message: string }).message).toMatch(/^Failed to parse the request body as JSON/);
  });
});
