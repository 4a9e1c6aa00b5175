// The asset canister on the replica, through the programmatic API (replica/src/index.ts): permissions,
// uploads, read-back, batch expiry, limits, streaming and upgrades. Certification as a gateway
// sees it is pinned in replica/test/gateway.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { Replica } from '@scaling-wg/replica';
import { buildAssetCanister } from '../../scripts/lib/asset-canister.ts';
import { idlFactory, type _SERVICE as Assets, type StreamingCallbackHttpResponse, type StreamingCallbackToken } from './assets.did.ts';

const sha = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());
const utf8 = (s: string) => new TextEncoder().encode(s);
const principalOf = () => Ed25519KeyIdentity.generate().getPrincipal() as unknown as Principal;

let pic: Replica;
let wasm: Uint8Array;
const deployer = principalOf();
const stranger = principalOf();

beforeAll(async () => {
  wasm = (await buildAssetCanister({ check: true })).wasm;
  pic = await Replica.create({ time: new Date('2026-11-28T08:00:00Z'), log: 'quiet' });
});
afterAll(async () => pic?.tearDown());

async function freshCanister() {
  const { actor, canisterId } = await pic.setupCanister<Assets>({ idlFactory, wasm, sender: deployer });
  actor.setPrincipal(deployer);
  const as = (p: Principal) => {
    const a = pic.createActor<Assets>(idlFactory, canisterId);
    a.setPrincipal(p);
    return a;
  };
  return { actor, canisterId, as };
}

test('the committed Candid and bindings match the Motoko source', async () => {
  expect((await buildAssetCanister({ check: true })).stale).toEqual([]);
});

describe('permissions', () => {
  test('an upload by a principal without permission is refused with the permission it needs', async () => {
    const { as } = await freshCanister();
    const intruder = as(stranger);
    const file = { key: '/x.html', content: utf8('x'), content_type: 'text/html', content_encoding: 'identity', sha256: [] as [] };
    await expect(intruder.store(file)).rejects.toThrow(/may not call store: it needs the Commit permission/);
    await expect(intruder.create_batch({})).rejects.toThrow(/needs the Prepare or Commit permission/);
    await expect(intruder.commit_batch({ batch_id: 0n, operations: [{ DeleteAsset: { key: '/x.html' } }] })).rejects.toThrow(/Commit permission/);
    await expect(intruder.grant_permission({ to_principal: stranger, permission: { Commit: null } })).rejects.toThrow(/ManagePermissions/);
  });

  test('the installer holds Commit; Prepare lets a principal stage but not publish', async () => {
    const { actor, as } = await freshCanister();
    expect((await actor.list_permitted({ permission: { Commit: null } })).map((p) => p.toText())).toEqual([deployer.toText()]);
    await actor.grant_permission({ to_principal: stranger, permission: { Prepare: null } });
    const preparer = as(stranger);
    const { batch_id } = await preparer.create_batch({});
    const { chunk_id } = await preparer.create_chunk({ batch_id, content: utf8('<p>staged</p>') });
    const operations = [
      { CreateAsset: { key: '/staged.html', content_type: 'text/html', headers: [] as [], max_age: [] as [] } },
      { SetAssetContent: { key: '/staged.html', content_encoding: 'identity', chunk_ids: [chunk_id], sha256: [] as [] } },
    ];
    await expect(preparer.commit_batch({ batch_id, operations })).rejects.toThrow(/Commit permission/);
    await actor.commit_batch({ batch_id, operations });
    expect((await actor.list({ start: [], length: [] })).map((a) => a.key)).toEqual(['/staged.html']);
    // Anyone may give up their own permission; revoking someone else's needs ManagePermissions.
    await preparer.revoke_permission({ of_principal: stranger, permission: { Prepare: null } });
    await expect(preparer.create_batch({})).rejects.toThrow(/Prepare or Commit/);
  });

  test('the anonymous principal cannot be granted anything', async () => {
    const { actor } = await freshCanister();
    await expect(actor.authorize(Principal.anonymous())).rejects.toThrow(/anonymous principal/);
  });
});

describe('uploads and read-back', () => {
  test('store, list and get return what was uploaded, with its sha256', async () => {
    const { actor } = await freshCanister();
    const content = utf8('<h1>Sessions</h1>');
    await actor.store({ key: '/sessions/index.html', content, content_type: 'text/html', content_encoding: 'identity', sha256: [sha(content)] });
    const [listed] = await actor.list({ start: [], length: [] });
    expect(listed.key).toBe('/sessions/index.html');
    expect(Buffer.from(listed.encodings[0].sha256[0]!).equals(Buffer.from(sha(content)))).toBe(true);
    const got = await actor.get({ key: '/sessions/index.html', accept_encodings: ['gzip', 'identity'] });
    expect(got.content_encoding).toBe('identity');
    expect(new TextDecoder().decode(got.content)).toBe('<h1>Sessions</h1>');
    expect(got.total_length).toBe(BigInt(content.length));
  });

  test('a wrong sha256 is refused and nothing changes', async () => {
    const { actor } = await freshCanister();
    await expect(
      actor.store({ key: '/a.txt', content: utf8('a'), content_type: 'text/plain', content_encoding: 'identity', sha256: [sha(utf8('b'))] }),
    ).rejects.toThrow(/sha256 mismatch for \/a\.txt/);
    expect(await actor.list({ start: [], length: [] })).toEqual([]);
  });

  test('one commit can create an asset twice (identity, then gzip) and keep both encodings', async () => {
    const { actor } = await freshCanister();
    const { batch_id } = await actor.create_batch({});
    const { chunk_ids } = await actor.create_chunks({ batch_id, content: [utf8('plain'), utf8('gzipped-bytes')] });
    const create = {
      CreateAsset: { key: '/p.html', content_type: 'text/html', headers: [[['cache-control', 'no-cache']]] as [[string, string][]], max_age: [] as [] },
    };
    await actor.commit_batch({
      batch_id,
      operations: [
        create,
        { SetAssetContent: { key: '/p.html', content_encoding: 'identity', chunk_ids: [chunk_ids[0]], sha256: [] } },
        create,
        { SetAssetContent: { key: '/p.html', content_encoding: 'gzip', chunk_ids: [chunk_ids[1]], sha256: [] } },
      ],
    });
    const [asset] = await actor.list({ start: [], length: [] });
    expect(asset.encodings.map((e) => e.content_encoding).sort()).toEqual(['gzip', 'identity']);
    expect(asset.headers[0]).toEqual([['cache-control', 'no-cache']]);
    expect((await actor.upload_status()).pending_chunks).toBe(0n);
  });

  test('list pages with start and length (and lists everything without them, as @dfinity/assets calls it)', async () => {
    const { actor } = await freshCanister();
    for (const name of ['a', 'b', 'c', 'd'])
      await actor.store({ key: `/${name}.txt`, content: utf8(name), content_type: 'text/plain', content_encoding: 'identity', sha256: [] });
    expect((await actor.list({ start: [], length: [] })).map((a) => a.key)).toEqual(['/a.txt', '/b.txt', '/c.txt', '/d.txt']);
    expect((await actor.list({ start: [1n], length: [2n] })).map((a) => a.key)).toEqual(['/b.txt', '/c.txt']);
  });

  test('one caller cannot hold more than 32 open batches', async () => {
    const { actor } = await freshCanister();
    for (let i = 0; i < 32; i++) await actor.create_batch({});
    await expect(actor.create_batch({})).rejects.toThrow(/already has 32 open batches \(limit 32\)/);
  });

  test('a chunk above the size limit is refused', async () => {
    const { actor } = await freshCanister();
    const { batch_id } = await actor.create_batch({});
    await expect(actor.create_chunk({ batch_id, content: new Uint8Array(2_000_001) })).rejects.toThrow(/exceeds the limit of 2000000 bytes/);
  });
});

describe('batch expiry', () => {
  test('a batch that never commits is swept 5 minutes after its last activity, freeing its chunks', async () => {
    const { actor } = await freshCanister();
    const { batch_id } = await actor.create_batch({});
    await actor.create_chunk({ batch_id, content: new Uint8Array(100_000) });
    expect(await actor.upload_status()).toEqual({ open_batches: 1n, pending_chunks: 1n, pending_bytes: 100_000n });
    await pic.advanceTime(4 * 60 * 1000);
    await actor.create_chunk({ batch_id, content: new Uint8Array(10) }); // activity extends it
    await pic.advanceTime(4 * 60 * 1000);
    await actor.create_batch({}); // sweeps; the first batch is 4 minutes idle: kept
    expect((await actor.upload_status()).open_batches).toBe(2n);
    await pic.advanceTime(6 * 60 * 1000);
    await actor.create_batch({});
    expect(await actor.upload_status()).toEqual({ open_batches: 1n, pending_chunks: 0n, pending_bytes: 0n });
    await expect(actor.commit_batch({ batch_id, operations: [] })).rejects.toThrow(/batch \d+ does not exist .*expired/);
  });
});

describe('serving', () => {
  test('a large asset streams: http_request returns chunk 0 and a callback token for the rest', async () => {
    const { actor, canisterId } = await freshCanister();
    const content = new Uint8Array(4_500_000).map((_, i) => (i * 7) & 255);
    const { batch_id } = await actor.create_batch({});
    const ids: bigint[] = [];
    for (let at = 0; at < content.length; at += 1_900_000)
      ids.push((await actor.create_chunk({ batch_id, content: content.subarray(at, at + 1_900_000) })).chunk_id);
    await actor.commit_batch({
      batch_id,
      operations: [
        { CreateAsset: { key: '/big.bin', content_type: 'application/octet-stream', headers: [], max_age: [] } },
        { SetAssetContent: { key: '/big.bin', content_encoding: 'identity', chunk_ids: ids, sha256: [sha(content)] } },
      ],
    });
    const response = await actor.http_request({ url: '/big.bin', method: 'GET', body: new Uint8Array(), headers: [], certificate_version: [2] });
    expect(response.status_code).toBe(200);
    const parts = [response.body];
    const strategy = response.streaming_strategy[0];
    expect(strategy).toBeDefined();
    const [callbackCanister, method] = strategy!.Callback.callback;
    expect(callbackCanister.toText()).toBe(canisterId.toText());
    expect(method).toBe('http_request_streaming_callback');
    let token: StreamingCallbackToken | undefined = strategy!.Callback.token;
    while (token) {
      const next: StreamingCallbackHttpResponse = (await actor.http_request_streaming_callback(token))[0]!;
      parts.push(next.body);
      token = next.token[0];
    }
    expect(Buffer.concat(parts).equals(Buffer.from(content))).toBe(true);
  });

  test('an upgrade keeps the assets and their certification', async () => {
    const { actor, canisterId } = await freshCanister();
    await actor.store({ key: '/index.html', content: utf8('<p>kept</p>'), content_type: 'text/html', content_encoding: 'identity', sha256: [] });
    const before = await actor.http_request({ url: '/', method: 'GET', body: new Uint8Array(), headers: [], certificate_version: [2] });
    await pic.upgradeCanister({ canisterId, wasm, sender: deployer, upgradeModeOptions: { wasm_memory_persistence: 'keep' } });
    const after = await actor.http_request({ url: '/', method: 'GET', body: new Uint8Array(), headers: [], certificate_version: [2] });
    expect(new TextDecoder().decode(after.body)).toBe('<p>kept</p>');
    expect(after.headers).toEqual(before.headers);
  });

  test('a missing path without 404.html or index.html gets the plain-text 404', async () => {
    const { actor } = await freshCanister();
    const response = await actor.http_request({ url: '/nothing', method: 'GET', body: new Uint8Array(), headers: [], certificate_version: [2] });
    expect(response.status_code).toBe(404);
    expect(new TextDecoder().decode(response.body)).toBe('not found');
  });
});
