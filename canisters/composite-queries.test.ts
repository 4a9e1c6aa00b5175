// The composite-query demo on the local replica: one search answered by a composite query
// and by an update, over partition canisters the front creates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Replica } from '@scaling-wg/replica';
import type { _SERVICE as FrontService, SearchReport } from '../src/declarations/composite-front/composite-front.did.ts';
import type { _SERVICE as PartitionService } from '../src/declarations/composite-partition/composite-partition.did.ts';
import { canisterModule } from '../scripts/build-canisters.ts';
import { setupComposite, unwrap } from '../src/lib/ic/demo-deploy.ts';
import { actorAs, alice, declarationsOf, deploy, errorOf, startReplica, type Deployed } from './test-support.ts';

// Searches do not change state, so one replica serves every test in this file.
let pic: Replica;
let front: Deployed<FrontService>;
const partitionCount = 3;
const documentsPerPartition = 400;

beforeAll(async () => {
  await Promise.all([canisterModule('composite-front'), canisterModule('composite-partition')]);
  pic = await startReplica();
  front = await deploy<FrontService>(pic, 'composite-front');
  await setupComposite(front.actor, { partitions: partitionCount, documentsPerPartition });
});

afterAll(async () => {
  await pic?.tearDown();
});

async function partitionActors() {
  const idlFactory = await declarationsOf('composite-partition');
  return (await front.actor.listPartitions()).map((p) => pic.createActor<PartitionService>(idlFactory, p.canisterId));
}

/** The report without the figures that legitimately differ between two runs of the same search. */
function comparable(report: SearchReport) {
  return {
    terms: report.terms,
    hits: report.hits,
    totalMatches: report.totalMatches,
    partitions: report.partitions.map(({ partition, canisterId, matches, returned, error }) => ({
      partition,
      canisterId: canisterId.toText(),
      matches,
      returned,
      error,
    })),
  };
}

describe('composite queries', () => {
  it('composite search equals update search', async () => {
    const visitor = actorAs(pic, front, alice);
    for (const searchText of ['canister', 'stable memory', 'QUERY subnet', 'nothing-matches-this']) {
      const viaQuery = unwrap(await visitor.search(searchText, 20n), `search "${searchText}"`);
      const viaUpdate = unwrap(await visitor.searchUpdate(searchText, 20n), `searchUpdate "${searchText}"`);
      expect(viaQuery.path).toBe('composite query');
      expect(viaUpdate.path).toBe('update');
      expect(comparable(viaQuery)).toEqual(comparable(viaUpdate));
      expect(viaQuery.partitions).toHaveLength(partitionCount);
    }
  });

  it('the merged hits are the first matches of the whole corpus, by id', async () => {
    const report = unwrap(await front.actor.search('canister', 15n), 'search canister');
    const partitions = await partitionActors();
    const direct = await Promise.all(partitions.map(async (p) => unwrap(await p.search('canister', 50n), 'partition search')));
    expect(report.totalMatches).toBe(direct.reduce((sum, d) => sum + d.matches, 0n));
    expect(report.totalMatches).toBeGreaterThan(15n);
    const expected = direct
      .flatMap((d) => d.hits)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, 15);
    expect(report.hits).toEqual(expected);
    for (const hit of report.hits) expect(`${hit.title} ${hit.body}`.toLowerCase()).toContain('canister');
    // Each partition owns a disjoint id range.
    for (const hit of report.hits) expect(hit.partition).toBe(hit.id / BigInt(documentsPerPartition));
  });

  it('every partition reports the instructions its search took', async () => {
    const report = unwrap(await front.actor.searchUpdate('state', 10n), 'searchUpdate state');
    // A full scan of the same number of documents costs about the same in every partition.
    const costs = report.partitions.map((p) => Number(p.instructions));
    expect(Math.min(...costs)).toBeGreaterThan(0);
    expect(Math.max(...costs) / Math.min(...costs)).toBeLessThan(2);
    expect(report.frontInstructions).toBeGreaterThan(0n);
  });

  it('bad queries are refused before any fan-out', async () => {
    const visitor = actorAs(pic, front, alice);
    expect(errorOf(await visitor.search('   ', 10n)).text).toContain('the query is empty');
    expect(errorOf(await visitor.search('a b c d e', 10n)).text).toContain('at most 4 words');
    expect(errorOf(await visitor.search('canister', 0n)).text).toContain('limit must be between 1 and 50');
    expect(errorOf(await visitor.searchUpdate('canister', 51n)).kind).toBe('invalidArgument');
    expect(errorOf(await visitor.search('x'.repeat(65), 10n)).text).toContain('longer than 64 bytes');
    // A partition asked directly defends itself the same way.
    const [first] = await partitionActors();
    expect(errorOf(await first.search('', 10n)).kind).toBe('invalidArgument');
  });

  it('a controller upgrades every partition and the search answers the same', async () => {
    const before = unwrap(await front.actor.search('cycles', 10n), 'search before');
    expect(errorOf(await actorAs(pic, front, alice).upgradePartitions()).kind).toBe('notAuthorized');
    const partitions = unwrap(await front.actor.upgradePartitions(), 'upgradePartitions');
    expect(partitions).toHaveLength(partitionCount);
    expect(comparable(unwrap(await front.actor.search('cycles', 10n), 'search after'))).toEqual(comparable(before));
  });

  it('only a controller sets the front up, and only once', async () => {
    const args = { partitions: 2n, documentsPerPartition: 10n, cyclesPerPartition: 10n ** 12n };
    expect(errorOf(await actorAs(pic, front, alice).setup(args)).kind).toBe('notAuthorized');
    expect(errorOf(await front.actor.setup(args)).text).toContain('exist already');
    expect(await front.actor.listPartitions()).toHaveLength(partitionCount);
  });
});

describe('composite queries before setup', () => {
  it('a front without partitions says so instead of answering empty', async () => {
    const fresh = await deploy<FrontService>(pic, 'composite-front');
    const refused = errorOf(await fresh.actor.search('canister', 10n));
    expect(refused.kind).toBe('unavailable');
    expect(refused.text).toContain('setup');
    expect(errorOf(await fresh.actor.setup({ partitions: 9n, documentsPerPartition: 10n, cyclesPerPartition: 10n ** 12n })).text).toContain('between 1 and 8');
  });
});
