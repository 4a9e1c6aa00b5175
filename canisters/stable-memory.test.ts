// The stable-memory demo on the local replica: three stores that keep the same records three
// ways, and the lab that upgrades them for visitors.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Replica } from '@scaling-wg/replica';
import type { _SERVICE as LabService } from '../src/declarations/lab/lab.did.ts';
import type { _SERVICE as StoreService } from '../src/declarations/stable-memory-region/stable-memory-region.did.ts';
import { canisterModule } from '../scripts/build-canisters.ts';
import { labWhich, registerStores, unwrap, type StoreName } from '../src/lib/ic/demo-deploy.ts';
import { actorAs, alice, bob, deploy, errorOf, owner, startReplica, startTime, type Deployed } from './test-support.ts';

const storeNames: StoreName[] = ['stable-memory-classic', 'stable-memory-region', 'stable-memory-eop'];

let pic: Replica;
let lab: Deployed<LabService>;
let stores: Record<StoreName, Deployed<StoreService>>;

beforeAll(async () => {
  for (const name of ['lab', ...storeNames]) await canisterModule(name);
});

/** Installs the lab and the three stores (the lab among their controllers) and wires them up. */
async function setupStableMemory(replica: Replica) {
  const labDeployed = await deploy<LabService>(replica, 'lab');
  const deployed = {} as Record<StoreName, Deployed<StoreService>>;
  for (const name of storeNames) {
    deployed[name] = await deploy<StoreService>(replica, name, { controllers: [owner, labDeployed.canisterId] });
  }
  await registerStores(labDeployed.actor, deployed);
  return { lab: labDeployed, stores: deployed };
}

beforeEach(async () => {
  pic = await startReplica();
  ({ lab, stores } = await setupStableMemory(pic));
});

afterEach(async () => {
  await pic.tearDown();
});

/** Adds `count` records to a store in batches, as a visitor (not a controller). */
async function addRecords(name: StoreName, count: number, batch = 1000, where = { pic, stores }) {
  const visitor = actorAs(where.pic, where.stores[name], alice);
  for (let added = 0; added < count; added += batch) {
    unwrap(await visitor.addRecords(BigInt(Math.min(batch, count - added))), `${name}.addRecords`);
  }
}

/** Upgrades a store through the lab as a visitor, then lets the lab's rate limit reset. */
async function upgradeThroughLab(name: StoreName) {
  const report = unwrap(await actorAs(pic, lab, alice).upgrade(labWhich[name]), `lab.upgrade(${name})`);
  await pic.advanceTime(6_000);
  return report;
}

describe('stable memory stores', () => {
  it('upgrade keeps the Region data and drops nothing', async () => {
    const region = stores['stable-memory-region'].actor;
    await addRecords('stable-memory-region', 2500);
    const before = await region.verify();
    expect(before).toMatchObject({ records: 2500n, mismatches: 0n, firstMismatch: [] });
    const pageBefore = unwrap(await region.getRecords(1200n, 50n), 'getRecords before');
    const statsBefore = await region.stats();

    const report = await upgradeThroughLab('stable-memory-region');
    expect(report.stats.records).toBe(2500n);
    expect(report.stats.upgrades).toBe(1n);

    const after = await region.verify();
    expect(after).toMatchObject({ records: 2500n, mismatches: 0n, firstMismatch: [] });
    expect(unwrap(await region.getRecords(1200n, 50n), 'getRecords after')).toEqual(pageBefore);
    const statsAfter = await region.stats();
    expect(statsAfter.recordBytes).toBe(statsBefore.recordBytes);
    expect(statsAfter.regionPages).toBe(statsBefore.regionPages);
    // The store keeps adding after the upgrade, continuing the id sequence.
    await addRecords('stable-memory-region', 10);
    expect(await region.verify()).toMatchObject({ records: 2510n, mismatches: 0n });
  });

  it('the classic and EOP stores keep every record across an upgrade too', async () => {
    for (const name of ['stable-memory-classic', 'stable-memory-eop'] as const) {
      await addRecords(name, 1500);
      const first = unwrap(await stores[name].actor.getRecords(0n, 3n), `${name}.getRecords`);
      await upgradeThroughLab(name);
      expect(await stores[name].actor.verify()).toMatchObject({ records: 1500n, mismatches: 0n });
      expect(unwrap(await stores[name].actor.getRecords(0n, 3n), `${name}.getRecords`)).toEqual(first);
      expect((await stores[name].actor.stats()).upgrades).toBe(1n);
    }
  });

  it('all three stores hold identical records for identical adds', async () => {
    for (const name of storeNames) await addRecords(name, 300);
    const pages = await Promise.all(storeNames.map(async (name) => unwrap(await stores[name].actor.getRecords(250n, 50n), name)));
    expect(pages[1]).toEqual(pages[0]);
    expect(pages[2]).toEqual(pages[0]);
    expect(pages[0]).toHaveLength(50);
    expect(pages[0][0].id).toBe(250n);
    const stats = await Promise.all(storeNames.map((name) => stores[name].actor.stats()));
    expect(new Set(stats.map((s) => s.recordBytes)).size).toBe(1);
    expect(stats.map((s) => s.store)).toEqual(['classic', 'region', 'eop']);
  });

  it("classic upgrade cost grows with data while the Region's stays flat", async () => {
    const costs: Record<StoreName, bigint[]> = { 'stable-memory-classic': [], 'stable-memory-region': [], 'stable-memory-eop': [] };
    for (const size of [200, 5000]) {
      for (const name of storeNames) {
        const held = Number((await stores[name].actor.stats()).records);
        await addRecords(name, size - held);
        const report = await upgradeThroughLab(name);
        const [cost] = report.stats.lastUpgrade;
        expect(cost?.records).toBe(BigInt(size));
        costs[name].push(cost!.totalInstructions);
      }
    }
    expect([...costs['stable-memory-classic'], ...costs['stable-memory-region']]).not.toContain(0n);
    const [classicSmall, classicLarge] = costs['stable-memory-classic'];
    const [regionSmall, regionLarge] = costs['stable-memory-region'];
    // 25x the records: the classic store serialises all of them, so its cost must scale.
    expect(classicLarge).toBeGreaterThan(classicSmall * 10n);
    // The Region store moves no data on upgrade. Its cost still creeps up by one entry of the
    // upgrade history (classic persistence writes out that small stable variable), hence 2x,
    // not 25x; in absolute terms it stays a few hundred thousand instructions.
    expect(regionLarge).toBeLessThan(regionSmall * 2n);
    expect(classicLarge).toBeGreaterThan(regionLarge * 100n);
    // Enhanced orthogonal persistence keeps the heap: nothing is written out or read back at all.
    const [eopSmall, eopLarge] = costs['stable-memory-eop'];
    expect(eopLarge).toBeLessThan((eopSmall * 11n) / 10n);
    expect(classicLarge).toBeGreaterThan(eopLarge * 100n);
    // The history the page charts has both upgrades, in order.
    const history = await stores['stable-memory-classic'].actor.upgradeHistory();
    expect(history.map((h) => h.records)).toEqual([200n, 5000n]);
  });

  it('every add reports the instructions it took', async () => {
    const store = actorAs(pic, stores['stable-memory-eop'], alice);
    const small = unwrap(await store.addRecords(10n), 'add 10');
    const large = unwrap(await store.addRecords(1000n), 'add 1000');
    expect(small.instructions).toBeGreaterThan(0n);
    expect(large.instructions).toBeGreaterThan(small.instructions * 20n);
    const [last] = (await store.stats()).lastOperation;
    expect(last).toMatchObject({ kind: 'add', records: 1000n, instructions: large.instructions });
  });

  it('batches are bounded and the store is capped', async () => {
    const store = actorAs(pic, stores['stable-memory-region'], alice);
    expect(errorOf(await store.addRecords(0n)).kind).toBe('invalidArgument');
    const tooMany = errorOf(await store.addRecords(5001n));
    expect(tooMany.kind).toBe('invalidArgument');
    expect(tooMany.text).toContain('batch limit of 5000');
    unwrap(await stores['stable-memory-region'].actor.configure({ maxRecords: [100n], maxBatch: [] }), 'configure');
    unwrap(await store.addRecords(80n), 'add 80');
    const full = errorOf(await store.addRecords(30n));
    expect(full.kind).toBe('limitReached');
    expect(full.text).toContain('add at most 20');
    expect((await store.stats()).records).toBe(80n);
    expect(errorOf(await store.getRecords(0n, 101n)).kind).toBe('invalidArgument');
    // A number thousands of bits long is no batch size: inspect_message drops it unexecuted.
    await expect(store.addRecords(2n ** 4000n)).rejects.toThrow();
    expect((await store.stats()).records).toBe(80n);
  });

  it('visitors cannot refill a store without bound', async () => {
    unwrap(await stores['stable-memory-eop'].actor.configure({ maxRecords: [100n], maxBatch: [] }), 'configure');
    const visitorLab = actorAs(pic, lab, alice);
    // Four fills per hour are allowed (4 x maxRecords records), however often the lab resets.
    for (let fill = 0; fill < 4; fill++) {
      await addRecords('stable-memory-eop', 100, 100);
      unwrap(await visitorLab.reset({ eop: null }), `reset ${fill}`);
      await pic.advanceTime(5_000);
    }
    const refused = errorOf(await actorAs(pic, stores['stable-memory-eop'], alice).addRecords(1n));
    expect(refused.kind).toBe('rateLimited');
    expect(refused.text).toContain('400 records');
    await pic.advanceTime(3_600_000);
    await addRecords('stable-memory-eop', 1);
  });

  it('strangers can neither clear nor reconfigure a store, nor feed the lab code', async () => {
    const stranger = actorAs(pic, stores['stable-memory-eop'], alice);
    expect(errorOf(await stranger.clear()).kind).toBe('notAuthorized');
    expect(errorOf(await stranger.configure({ maxRecords: [1n], maxBatch: [] })).kind).toBe('notAuthorized');
    const labStranger = actorAs(pic, lab, alice);
    expect(errorOf(await labStranger.beginModuleUpload({ eop: null }, 10n)).kind).toBe('notAuthorized');
    expect(errorOf(await labStranger.appendModuleChunk({ eop: null }, new Uint8Array(10))).kind).toBe('notAuthorized');
    expect(errorOf(await labStranger.uploadModule({ eop: null }, new Uint8Array(10))).kind).toBe('notAuthorized');
    expect(errorOf(await labStranger.register({ eop: null }, lab.canisterId)).kind).toBe('notAuthorized');
  });

  it('lab upgrades are rate-limited per store', async () => {
    const visitor = actorAs(pic, lab, alice);
    unwrap(await visitor.upgrade({ eop: null }), 'first upgrade');
    const again = errorOf(await visitor.upgrade({ eop: null }));
    expect(again.kind).toBe('rateLimited');
    expect(again.text).toContain('"retryAfterSeconds":"5"');
    // Another store is not held back by this one's limit.
    unwrap(await visitor.upgrade({ region: null }), 'upgrade of another store');
    await pic.advanceTime(5_000);
    const later = unwrap(await visitor.upgrade({ eop: null }), 'upgrade after the interval');
    expect(later.stats.upgrades).toBe(2n);
  });

  it("no caller spends the lab's hourly budget alone", async () => {
    unwrap(await lab.actor.configure({ storeIntervalSeconds: 5n, upgradesPerHour: 8n }), 'lab.configure');
    const visitor = actorAs(pic, lab, alice);
    unwrap(await visitor.upgrade({ eop: null }), 'first upgrade');
    unwrap(await visitor.upgrade({ region: null }), 'second upgrade');
    const refused = errorOf(await visitor.upgrade({ classic: null }));
    expect(refused.kind).toBe('rateLimited');
    expect(refused.text).toContain('your share of the lab');
    // The rest of the hour's budget is still there for someone else.
    unwrap(await actorAs(pic, lab, bob).upgrade({ classic: null }), 'another visitor upgrades');
  });

  it('the lab resets a store for anyone and logs what it did', async () => {
    await addRecords('stable-memory-classic', 100);
    const operation = unwrap(await actorAs(pic, lab, alice).reset({ classic: null }), 'reset');
    expect(operation).toMatchObject({ kind: 'clear', records: 100n });
    expect((await stores['stable-memory-classic'].actor.stats()).records).toBe(0n);
    const [classicInfo] = (await lab.actor.status()).stores;
    expect(classicInfo.lastEvent[0]?.outcome).toBe('dropped 100 records');
  });

  it('the lab refuses to register a canister it does not control', async () => {
    const outsider = await deploy<StoreService>(pic, 'stable-memory-eop');
    const refused = errorOf(await lab.actor.register({ eop: null }, outsider.canisterId));
    expect(refused.kind).toBe('notAuthorized');
    expect(refused.text).toContain('--add-controller');
  });

  it('a classic upgrade that needs more instructions than the limit fails and keeps every record', async () => {
    // The 2022 failure mode, on a replica whose install limit is lowered from the IC's 300B.
    const limited = await Replica.create({ time: startTime, seed: 7, log: 'quiet', limits: { instructionsPerInstall: 50_000_000 } });
    try {
      const demo = await setupStableMemory(limited);
      for (const name of ['stable-memory-classic', 'stable-memory-region'] as const) {
        await addRecords(name, 20_000, 5000, { pic: limited, stores: demo.stores });
      }
      const sizing = await demo.stores['stable-memory-classic'].actor.addRecords(1n);
      expect('ok' in sizing && sizing.ok.instructions).toBeGreaterThan(0n);
      const visitor = actorAs(limited, demo.lab, alice);
      const failed = errorOf(await visitor.upgrade({ classic: null }));
      expect(failed.kind).toBe('unavailable');
      expect(failed.text).toContain('keeps running its previous state');
      expect(failed.text.toLowerCase()).toContain('instruction');
      // Rolled back: same records, same code, no upgrade counted.
      expect(await demo.stores['stable-memory-classic'].actor.verify()).toMatchObject({ records: 20_001n, mismatches: 0n });
      expect((await demo.stores['stable-memory-classic'].actor.stats()).upgrades).toBe(0n);
      // The Region store holds as much data and upgrades well within the same limit.
      const region = unwrap(await visitor.upgrade({ region: null }), 'upgrade of the region store');
      expect(region.stats.records).toBe(20_000n);
      expect(await demo.stores['stable-memory-region'].actor.verify()).toMatchObject({ records: 20_000n, mismatches: 0n });
    } finally {
      await limited.tearDown();
    }
  });

  it('a module upload must match its announced size', async () => {
    unwrap(await lab.actor.beginModuleUpload({ region: null }, 10n), 'begin');
    expect(errorOf(await lab.actor.appendModuleChunk({ region: null }, new Uint8Array(11))).text).toContain('more than the 10 announced');
    const info = unwrap(await lab.actor.appendModuleChunk({ region: null }, new Uint8Array(4)), 'append 4');
    expect(info).toMatchObject({ moduleBytes: 4n, moduleReady: false });
    const refused = errorOf(await actorAs(pic, lab, alice).upgrade({ region: null }));
    expect(refused.kind).toBe('unavailable');
    expect(refused.text).toContain('no module');
  });

  it('a module sent in several chunks is assembled in order and upgrades the store', async () => {
    const { wasm } = await canisterModule('stable-memory-region');
    const cuts = [0, 1000, 70_001, wasm.byteLength];
    unwrap(await lab.actor.beginModuleUpload({ region: null }, BigInt(wasm.byteLength)), 'begin');
    for (let i = 0; i + 1 < cuts.length; i++) {
      const info = unwrap(await lab.actor.appendModuleChunk({ region: null }, wasm.subarray(cuts[i], cuts[i + 1])), `chunk ${i}`);
      expect(info.moduleReady).toBe(i + 2 === cuts.length);
    }
    await addRecords('stable-memory-region', 10);
    // The lab upgrades the store to the module it assembled (bytes out of order would not decode).
    expect(unwrap(await actorAs(pic, lab, alice).upgrade({ region: null }), 'upgrade').stats.records).toBe(10n);
  });
});
