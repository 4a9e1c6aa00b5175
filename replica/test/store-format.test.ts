// The state log's versioned encoding: a state directory written by format 1 (fixtures/state-v1)
// still loads, is rewritten in today's format by the next checkpoint, and the canister record
// stores every property of a Canister that is not rebuilt on load.

import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { decodeCbor, encodeCbor } from '../src/certification/cbor.ts';
import { Canister } from '../src/execution/canister.ts';
import { Replica } from '../src/index.ts';
import { DiskStore, STORE_FORMAT } from '../src/store/disk-store.ts';
import { ENCODED_FIELDS, REBUILT_FIELDS, applyCanisterRecord, decodeCanisterRecord, encodeCanisterRecord } from '../src/store/canister-codec.ts';
import { counterIdl } from './http-support.ts';

const root = mkdtempSync(join(tmpdir(), 'replica-format-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const FIXTURE = new URL('./fixtures/state-v1/state.log.gz', import.meta.url);
const COUNTER = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');

async function open(dir: string) {
  const pic = await Replica.create({ log: 'quiet' });
  const store = await DiskStore.open(dir);
  const restored = await store.restore(pic.scheduler, pic.management);
  return { pic, store, restored };
}

describe('the state log format', () => {
  it('loads a state directory written in format 1 and rewrites it in the current format', async () => {
    const dir = join(root, 'v1');
    mkdirSync(dir);
    writeFileSync(join(dir, 'state.log'), gunzipSync(readFileSync(FIXTURE)));
    const { pic, store, restored } = await open(dir);
    expect(restored.format).toBe(1);
    expect(restored.canisters).toBe(1);
    // Format 1 kept no replies: those calls come back without an outcome (read as done).
    expect(restored.completedCalls.length).toBeGreaterThanOrEqual(2);
    expect(restored.completedCalls.every((c) => c.outcome === undefined)).toBe(true);
    const canister = pic.scheduler.canister(COUNTER)!;
    expect(canister.status).toBe('running');
    expect(canister.settings.controllers).toHaveLength(1);
    expect(canister.settings.freezingThreshold).toBe(2_592_000n);
    expect(canister.version).toBeGreaterThan(0n);
    const actor = pic.createActor<any>(counterIdl as any, COUNTER);
    expect(await actor.get()).toBe(42n);
    expect(await actor.inc()).toBe(43n);
    expect(store.flush(pic.scheduler, pic.management)).toBe(true); // the first commit is a checkpoint
    await store.close();
    await pic.tearDown();

    const again = await open(dir);
    expect(again.restored.format).toBe(STORE_FORMAT);
    expect(await again.pic.createActor<any>(counterIdl as any, COUNTER).get()).toBe(43n);
    expect(again.pic.scheduler.canister(COUNTER)!.settings.controllers.map((p) => p.toText())).toEqual(canister.settings.controllers.map((p) => p.toText()));
    await again.store.close();
    await again.pic.tearDown();
  });

  it('stores every Canister property that is not rebuilt (a new one must be given an encoding)', () => {
    const canister = new Canister(COUNTER, [], 0n, 0n);
    const unaccounted = Object.keys(canister).filter((k) => !ENCODED_FIELDS.has(k) && !REBUILT_FIELDS.has(k));
    expect(unaccounted).toEqual([]);
  });

  it('round-trips a canister record with every setting changed', () => {
    const alice = Principal.fromText('2vxsx-fae');
    const c = new Canister(COUNTER, [alice], 123n, 7n);
    c.name = 'counter';
    c.status = 'stopped';
    c.settings = {
      ...c.settings,
      computeAllocation: 5n,
      memoryAllocation: 1n << 33n,
      freezingThreshold: 99n,
      wasmMemoryThreshold: 4n,
      logVisibility: { public: null },
      snapshotVisibility: { allowed_viewers: [alice] },
      statusVisibility: { controllers: null },
      environmentVariables: [{ name: 'A', value: 'b' }],
    };
    c.balance = 10n ** 30n;
    c.certifiedData = Uint8Array.of(1, 2);
    c.globalTimer = 17n;
    c.version = 3n;
    c.chunkStore.set('ab', Uint8Array.of(9));
    c.recordChange({ from_user: { user_id: alice } }, { creation: { controllers: [alice] } }, 8n);
    c.appendLog('hello', 9n);
    c.queryStats = { calls: 1n, instructions: 2n, requestBytes: 3n, responseBytes: 4n };
    const decoded = decodeCanisterRecord(decodeCbor(encodeCbor(encodeCanisterRecord(c))));
    const copy = new Canister(COUNTER, [], 0n, 0n);
    applyCanisterRecord(copy, decoded);
    const plain = (x: Canister) => encodeCbor(encodeCanisterRecord(x));
    expect(plain(copy)).toEqual(plain(c));
    expect(copy.settings.snapshotVisibility).toEqual({ allowed_viewers: [alice] });
    expect(copy.history[0].origin).toEqual({ from_user: { user_id: alice } });
  });
});
