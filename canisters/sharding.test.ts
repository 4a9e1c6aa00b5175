// The sharding demo on the local replica: an index that creates buckets as they fill,
// routes keys, and guards itself against strangers.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import type { Replica } from '@scaling-wg/replica';
import type { _SERVICE as IndexService } from '../src/declarations/sharding-index/sharding-index.did.ts';
import type { _SERVICE as BucketService } from '../src/declarations/sharding-bucket/sharding-bucket.did.ts';
import { canisterModule } from '../scripts/build-canisters.ts';
import { unwrap } from '../src/lib/ic/demo-deploy.ts';
import { actorAs, alice, bob, declarationsOf, deploy, errorOf, startReplica, type Deployed } from './test-support.ts';

let pic: Replica;
let index: Deployed<IndexService>;

beforeAll(async () => {
  // Compile once up front (cached across runs) so no single test pays for it.
  await Promise.all([canisterModule('sharding-index'), canisterModule('sharding-bucket')]);
});

beforeEach(async () => {
  pic = await startReplica();
  index = await deploy<IndexService>(pic, 'sharding-index');
});

afterEach(async () => {
  await pic.tearDown();
});

async function configure(changes: Partial<{ bucketCapacity: bigint; maxBuckets: bigint; maxEntriesPerCaller: bigint }>) {
  const current = await index.actor.getConfig();
  return unwrap(await index.actor.configure({ ...current, ...changes }), 'sharding-index.configure');
}

async function bucketActor(bucketId: Principal) {
  return pic.createActor<BucketService>(await declarationsOf('sharding-bucket'), bucketId);
}

describe('sharding index', () => {
  it('anonymous callers cannot write', async () => {
    const anonymous = actorAs(pic, index, Principal.anonymous());
    expect(errorOf(await anonymous.put('k', 'v'))).toMatchObject({ kind: 'notAuthorized' });
    expect(errorOf(await anonymous.delete('k')).kind).toBe('notAuthorized');
    expect(await index.actor.listBuckets()).toEqual([]);
  });

  it('no caller takes more than a third of the slots, and fresh principals together add 60 keys an hour', async () => {
    await configure({ bucketCapacity: 10n, maxBuckets: 3n, maxEntriesPerCaller: 30n });
    const user = actorAs(pic, index, alice);
    for (let i = 0; i < 10; i++) unwrap(await user.put(`a${i}`, 'v'), `put a${i}`);
    const refused = errorOf(await user.put('a10', 'v'));
    expect(refused.kind).toBe('limitReached');
    expect(refused.text).toContain('no more than a third');
    // A swarm of fresh principals, two keys each, on an index with 500 slots: together with
    // alice's 10 they get 60 new keys in this hour, then wait for the next.
    await configure({ bucketCapacity: 50n, maxBuckets: 10n, maxEntriesPerCaller: 30n });
    let added = 10;
    let limited: { kind: string; text: string } | undefined;
    for (let p = 0; p < 40 && !limited; p++) {
      const fresh = actorAs(pic, index, Ed25519KeyIdentity.generate().getPrincipal() as unknown as Principal);
      for (let k = 0; k < 2 && !limited; k++) {
        const result = await fresh.put(`p${p}-${k}`, 'v');
        if ('ok' in result) added++;
        else limited = errorOf(result);
      }
    }
    expect(added).toBe(60);
    expect(limited?.kind).toBe('rateLimited');
    expect(limited?.text).toContain('60 new keys an hour');
    await pic.advanceTime(3_600_000);
    unwrap(await actorAs(pic, index, bob).put('later', 'v'), 'put after an hour');
  });

  it('index creates a second bucket after capacity and routes old keys to the first', async () => {
    await configure({ bucketCapacity: 3n });
    const user = actorAs(pic, index, alice);
    for (const key of ['apple', 'banana', 'cherry']) unwrap(await user.put(key, `${key} value`), `put ${key}`);
    let buckets = await user.listBuckets();
    expect(buckets.map((b) => b.keys)).toEqual([3n]);

    const fourth = unwrap(await user.put('damson', 'damson value'), 'put damson');
    expect(fourth.bucket).toBe(1n);
    buckets = await user.listBuckets();
    expect(buckets.map((b) => [b.bucket, b.keys])).toEqual([
      [0n, 3n],
      [1n, 1n],
    ]);
    expect(buckets[0].bucketId.toText()).not.toBe(buckets[1].bucketId.toText());

    // Old keys stay where they were: the index routes them to the first bucket...
    const located = unwrap(await user.locate('banana'), 'locate banana');
    expect(located.bucket).toBe(0n);
    expect(located.bucketId.toText()).toBe(buckets[0].bucketId.toText());
    // ...and both ways of reading reach the same entry.
    const viaIndex = unwrap(await user.get('banana'), 'get banana via index');
    const direct = unwrap(await (await bucketActor(located.bucketId)).get('banana'), 'get banana from bucket');
    expect(viaIndex).toEqual(direct);
    expect(direct.value).toBe('banana value');
    expect(direct.owner.toText()).toBe(alice.toText());
    expect(unwrap(await user.locate('damson'), 'locate damson').bucket).toBe(1n);

    // The first bucket does not hold the new key.
    expect(errorOf(await (await bucketActor(buckets[0].bucketId)).get('damson')).kind).toBe('notFound');
  });

  it('updating a key keeps it in its bucket and does not count twice', async () => {
    await configure({ bucketCapacity: 2n, maxEntriesPerCaller: 3n });
    const user = actorAs(pic, index, alice);
    unwrap(await user.put('k1', 'one'), 'put k1');
    unwrap(await user.put('k2', 'two'), 'put k2');
    const again = unwrap(await user.put('k1', 'one, changed'), 'put k1 again');
    expect(again).toMatchObject({ bucket: 0n, created: false });
    expect((await user.listBuckets()).map((b) => b.keys)).toEqual([2n]);
    expect(unwrap(await user.get('k1'), 'get k1').value).toBe('one, changed');
    expect((await user.myKeys()).map((l) => l.key).sort()).toEqual(['k1', 'k2']);
  });

  it('oversized value is refused', async () => {
    const user = actorAs(pic, index, alice);
    const refused = errorOf(await user.put('big', 'x'.repeat(1025)));
    expect(refused.kind).toBe('invalidArgument');
    expect(refused.text).toContain('1025 bytes');
    expect(refused.text).toContain('at most 1024 bytes');
    // Multi-byte text is measured in bytes, not characters.
    expect(errorOf(await user.put('big', 'é'.repeat(513))).kind).toBe('invalidArgument');
    // Nothing was stored or created for the refused puts.
    expect(await user.listBuckets()).toEqual([]);
    expect(errorOf(await user.locate('big')).kind).toBe('notFound');
    // The largest allowed value goes through.
    unwrap(await user.put('big', 'x'.repeat(1024)), 'put a 1024-byte value');
  });

  it('keys must be 1 to 64 bytes', async () => {
    const user = actorAs(pic, index, alice);
    expect(errorOf(await user.put('', 'v'))).toMatchObject({ kind: 'invalidArgument', text: 'the key is empty' });
    expect(errorOf(await user.put('k'.repeat(65), 'v')).text).toContain('at most 64 bytes');
    expect(errorOf(await user.locate('k'.repeat(65))).kind).toBe('invalidArgument');
  });

  it('ingress far above any valid put is dropped before the canister runs it', async () => {
    const user = actorAs(pic, index, alice);
    // 8 KiB: twice the inspect_message bound; a rejected call, not a Result.
    await expect(user.put('k', 'x'.repeat(8 * 1024))).rejects.toThrow();
    expect(await user.listBuckets()).toEqual([]);
  });

  it('a caller cannot hold more keys than the cap, and deleting frees room', async () => {
    await configure({ maxEntriesPerCaller: 2n });
    const user = actorAs(pic, index, alice);
    unwrap(await user.put('a1', 'v'), 'put a1');
    unwrap(await user.put('a2', 'v'), 'put a2');
    const refused = errorOf(await user.put('a3', 'v'));
    expect(refused.kind).toBe('limitReached');
    expect(refused.text).toContain('delete some first');
    // The cap is per caller: someone else still has room.
    unwrap(await actorAs(pic, index, bob).put('b1', 'v'), 'put b1 as bob');
    unwrap(await user.delete('a1'), 'delete a1');
    unwrap(await user.put('a3', 'v'), 'put a3 after deleting a1');
    expect(errorOf(await user.locate('a1')).kind).toBe('notFound');
  });

  it('another caller can neither overwrite nor delete my key', async () => {
    unwrap(await actorAs(pic, index, alice).put('mine', 'alice wrote this'), 'put mine');
    const stranger = actorAs(pic, index, bob);
    expect(errorOf(await stranger.put('mine', 'bob was here')).kind).toBe('notAuthorized');
    expect(errorOf(await stranger.delete('mine')).kind).toBe('notAuthorized');
    expect(unwrap(await stranger.get('mine'), 'get mine').value).toBe('alice wrote this');
  });

  it('buckets accept writes only from their index', async () => {
    const user = actorAs(pic, index, alice);
    unwrap(await user.put('k', 'v'), 'put k');
    const [first] = await user.listBuckets();
    const bucket = await bucketActor(first.bucketId);
    bucket.setPrincipal(alice);
    const refused = errorOf(await bucket.put('k', 'forged', alice));
    expect(refused.kind).toBe('notAuthorized');
    expect(refused.text).toContain(index.canisterId.toText());
    expect(errorOf(await bucket.remove('k')).kind).toBe('notAuthorized');
    expect(unwrap(await bucket.get('k'), 'direct get').value).toBe('v');
  });

  it('the index stops creating buckets at maxBuckets', async () => {
    await configure({ bucketCapacity: 1n, maxBuckets: 2n });
    const user = actorAs(pic, index, alice);
    unwrap(await user.put('k1', 'v'), 'put k1');
    unwrap(await actorAs(pic, index, bob).put('k2', 'v'), 'put k2'); // one caller may hold a third of the slots
    const refused = errorOf(await user.put('k3', 'v'));
    expect(refused.kind).toBe('limitReached');
    expect(refused.text).toContain('all 2 buckets are full');
    expect(await user.listBuckets()).toHaveLength(2);
  });

  it('the index refuses to create a bucket it cannot pay for', async () => {
    const poor = await deploy<IndexService>(pic, 'sharding-index', { cycles: 1_200_000_000_000n });
    const refused = errorOf(await actorAs(pic, poor, alice).put('k', 'v'));
    expect(refused.kind).toBe('limitReached');
    expect(refused.text).toContain('too few to give a new bucket');
    expect(await poor.actor.listBuckets()).toEqual([]);
  });

  it('only controllers configure the index, within its ceilings', async () => {
    const current = await index.actor.getConfig();
    expect(errorOf(await actorAs(pic, index, alice).configure({ ...current, bucketCapacity: 1n })).kind).toBe('notAuthorized');
    expect(errorOf(await index.actor.configure({ ...current, maxBuckets: 51n })).text).toContain('between 1 and 50');
    expect(await index.actor.getConfig()).toEqual(current);
  });

  it('a burst of puts at the capacity boundary creates one bucket and asks the rest to retry', async () => {
    await configure({ bucketCapacity: 1n });
    const user = actorAs(pic, index, alice);
    const burst = await Promise.all(['k1', 'k2', 'k3'].map((key) => user.put(key, 'v')));
    const refused = burst.filter((r) => 'err' in r).map((r) => errorOf(r));
    expect(burst.filter((r) => 'ok' in r)).toHaveLength(1);
    expect(refused.map((e) => e.kind)).toEqual(['rateLimited', 'rateLimited']);
    expect(refused[0].text).toContain('"retryAfterSeconds":"1"');
    expect(await user.listBuckets()).toHaveLength(1);
    // Retried one by one, each key gets a bucket of its own (capacity 1).
    for (const [i, result] of burst.entries()) if ('err' in result) unwrap(await user.put(`k${i + 1}`, 'v'), `retry k${i + 1}`);
    expect((await user.listBuckets()).map((b) => b.keys)).toEqual([1n, 1n, 1n]);
  });

  it('puts told to retry while a bucket is created give back the new key they took from the hour', async () => {
    // Capacity 1: every burst of three creates a bucket for one key and asks the other two to
    // retry. Were the refusals counted, three a burst would spend alice's share of the hour's 60
    // new keys (20) in seven bursts, and the eighth would place nothing. (50 one-key buckets: a
    // third of them, 16, is what one caller may hold, so holding is not what stops her.)
    await configure({ bucketCapacity: 1n, maxBuckets: 50n });
    const user = actorAs(pic, index, alice);
    for (let burst = 0; burst < 8; burst++) {
      const results = await Promise.all([0, 1, 2].map((i) => user.put(`b${burst}-${i}`, 'v')));
      const refused = results.filter((r) => 'err' in r).map((r) => errorOf(r));
      expect(
        results.filter((r) => 'ok' in r),
        `burst ${burst}`,
      ).toHaveLength(1);
      for (const error of refused) expect(error.text, `burst ${burst}`).toContain('a new bucket is being created');
    }
    expect(await user.myKeys()).toHaveLength(8);
  });

  it('writes from all callers together are rate-limited', async () => {
    const user = actorAs(pic, index, alice);
    unwrap(await user.put('busy', 'first write'), 'first put');
    // Updates of an existing key, all at once: the limit counts them however they arrive.
    const accepted = await Promise.all(Array.from({ length: 299 }, (_, i) => user.put('busy', `write ${i}`)));
    expect(accepted.filter((r) => 'ok' in r)).toHaveLength(299);
    const refused = errorOf(await actorAs(pic, index, bob).put('other', 'v'));
    expect(refused.kind).toBe('rateLimited');
    expect(refused.text).toContain('300 writes a minute');
    await pic.advanceTime(60_000);
    unwrap(await actorAs(pic, index, bob).put('other', 'v'), 'put after a minute');
  });

  it('a controller upgrades every bucket and the keys stay', async () => {
    await configure({ bucketCapacity: 2n });
    const user = actorAs(pic, index, alice);
    for (const key of ['a', 'b', 'c']) unwrap(await user.put(key, `value ${key}`), `put ${key}`);
    expect(errorOf(await user.upgradeBuckets()).kind).toBe('notAuthorized');
    const upgraded = unwrap(await index.actor.upgradeBuckets(), 'upgradeBuckets');
    expect(upgraded.map((b) => b.keys)).toEqual([2n, 1n]);
    for (const key of ['a', 'b', 'c']) expect(unwrap(await user.get(key), `get ${key}`).value).toBe(`value ${key}`);
    // Still only the index may write after the upgrade.
    const bucket = await bucketActor(upgraded[0].bucketId);
    expect(errorOf(await bucket.put('a', 'forged', alice)).kind).toBe('notAuthorized');
    unwrap(await user.put('d', 'value d'), 'put d after the upgrade');
  });

  it('bucketStats reports every bucket with its keys and memory', async () => {
    await configure({ bucketCapacity: 2n });
    const user = actorAs(pic, index, alice);
    for (const key of ['a', 'b', 'c']) unwrap(await user.put(key, 'value'), `put ${key}`);
    const report = await user.bucketStats();
    expect(report.index.keys).toBe(3n);
    expect(report.buckets.map((row) => row.info.keys)).toEqual([2n, 1n]);
    for (const row of report.buckets) {
      expect(row.error).toEqual([]);
      const [stats] = row.stats;
      expect(stats?.keys).toBe(row.info.keys);
      expect(stats?.bucketId.toText()).toBe(row.info.bucketId.toText());
      expect(stats!.memory.wasmMemoryBytes).toBeGreaterThan(0n);
    }
  });
});
