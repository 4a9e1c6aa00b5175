// Storage faults under the state log: a full disk, EIO in the middle of a write, a failed fsync,
// a torn final record and a flipped bit in the middle of the log. The file operations are the
// real node:fs ones; a thin wrapper makes chosen calls fail the way a kernel reports it.

import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Replica } from '../src/index.ts';
import { CorruptLogError, DiskStore, StoreFatalError, StoreWriteError, type StoreFs } from '../src/store/disk-store.ts';
import { StateDirInUseError } from '../src/store/state-lock.ts';
import { counterIdl, counterWasm } from './http-support.ts';

const root = mkdtempSync(join(tmpdir(), 'replica-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `s${dirs++}`);

const errno = (code: string) => Object.assign(new Error(`${code}: simulated by the test`), { code });

/** node:fs with switchable faults. */
function faultyFs() {
  const faults = {
    write: undefined as string | undefined,
    partialWrite: false,
    fsync: undefined as string | undefined,
    truncate: undefined as string | undefined,
  };
  const wrapped: StoreFs = {
    ...fs,
    writeSync: ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
      if (faults.write) {
        if (faults.partialWrite) {
          faults.partialWrite = false;
          const half = Math.max(1, Math.floor((length ?? buffer.length) / 2));
          return fs.writeSync(fd, buffer, offset ?? 0, half); // the kernel took half, the next call fails
        }
        throw errno(faults.write);
      }
      return fs.writeSync(fd, buffer, offset, length);
    }) as typeof fs.writeSync,
    fsyncSync: (fd) => {
      if (faults.fsync) throw errno(faults.fsync);
      fs.fsyncSync(fd);
    },
    fsync: (fd, callback) => {
      if (faults.fsync) return setImmediate(() => callback(errno(faults.fsync!)));
      fs.fsync(fd, callback);
    },
    ftruncateSync: (fd, len) => {
      if (faults.truncate) throw errno(faults.truncate);
      fs.ftruncateSync(fd, len);
    },
  };
  return { fs: wrapped, faults };
}

async function counterReplica(start = 0n) {
  const pic = await Replica.create({ log: 'quiet' });
  const { actor, canisterId } = await pic.setupCanister<any>({
    idlFactory: counterIdl as any,
    wasm: await counterWasm(),
    arg: new Uint8Array(IDL.encode([IDL.Nat], [start])),
  });
  return { pic, actor, canisterId };
}

async function load(dir: string) {
  const pic = await Replica.create({ log: 'quiet' });
  const store = await DiskStore.open(dir);
  try {
    const restored = await store.restore(pic.scheduler, pic.management);
    const canister = [...pic.scheduler.canisters.values()][0];
    const value = canister ? await pic.createActor<any>(counterIdl as any, canister.principal).get() : undefined;
    return { restored, value };
  } finally {
    await store.close();
    await pic.tearDown();
  }
}

describe('storage faults', () => {
  it('a full disk fails the commit, cuts the log back, and the next commit is a checkpoint', async () => {
    const dir = freshDir();
    const { fs: faulty, faults } = faultyFs();
    const { pic, actor } = await counterReplica();
    const store = await DiskStore.open(dir, { fs: faulty });
    expect(store.flush(pic.scheduler, pic.management)).toBe(true);
    await actor.inc();
    expect(store.flush(pic.scheduler, pic.management)).toBe(true);
    const good = statSync(join(dir, 'state.log')).size;

    await actor.inc();
    faults.write = 'ENOSPC';
    expect(() => store.flush(pic.scheduler, pic.management)).toThrow(StoreWriteError);
    expect(statSync(join(dir, 'state.log')).size).toBe(good);
    // Nothing was recorded as written: a later commit still carries the change.
    faults.write = undefined;
    await actor.inc();
    expect(store.flush(pic.scheduler, pic.management)).toBe(true);
    await store.close();
    await pic.tearDown();
    expect((await load(dir)).value).toBe(3n);
  });

  it('EIO in the middle of a record: the half-written record is cut off, later commits load', async () => {
    const dir = freshDir();
    const { fs: faulty, faults } = faultyFs();
    const { pic, actor } = await counterReplica(10n);
    const store = await DiskStore.open(dir, { fs: faulty });
    store.flush(pic.scheduler, pic.management);
    const good = statSync(join(dir, 'state.log')).size;
    await actor.inc();
    faults.write = 'EIO';
    faults.partialWrite = true;
    expect(() => store.flush(pic.scheduler, pic.management)).toThrow(/EIO.*cut back/);
    expect(statSync(join(dir, 'state.log')).size).toBe(good);
    faults.write = undefined;
    await actor.inc();
    store.flush(pic.scheduler, pic.management);
    await actor.inc();
    store.flush(pic.scheduler, pic.management); // an incremental commit after the checkpoint
    await store.close();
    await pic.tearDown();
    const { restored, value } = await load(dir);
    expect(value).toBe(13n);
    expect(restored.droppedTailBytes).toBe(0);
  });

  it('when even the truncation fails, the file is replaced by the next checkpoint', async () => {
    const dir = freshDir();
    const { fs: faulty, faults } = faultyFs();
    const { pic, actor } = await counterReplica(20n);
    const store = await DiskStore.open(dir, { fs: faulty });
    store.flush(pic.scheduler, pic.management);
    await actor.inc();
    Object.assign(faults, { write: 'EIO', partialWrite: true, truncate: 'EIO' });
    expect(() => store.flush(pic.scheduler, pic.management)).toThrow(StoreWriteError);
    Object.assign(faults, { write: undefined, truncate: undefined });
    await actor.inc();
    store.flush(pic.scheduler, pic.management);
    await store.close();
    await pic.tearDown();
    const { restored, value } = await load(dir);
    expect(value).toBe(22n);
    expect(restored.droppedTailBytes).toBe(0); // the torn record went with the old file
  });

  it('a failed fsync is fatal: reported once, and no later commit is accepted', async () => {
    const dir = freshDir();
    const { fs: faulty, faults } = faultyFs();
    const { pic, actor } = await counterReplica();
    const fatal: StoreFatalError[] = [];
    const store = await DiskStore.open(dir, { fs: faulty, onFatal: (e) => fatal.push(e) });
    store.flush(pic.scheduler, pic.management);
    await actor.inc();
    faults.fsync = 'EIO';
    expect(() => store.flush(pic.scheduler, pic.management)).toThrow(/fsync of .* failed: EIO.*stops/);
    expect(fatal).toHaveLength(1);
    faults.fsync = undefined;
    await actor.inc();
    expect(() => store.flush(pic.scheduler, pic.management)).toThrow(StoreFatalError);
    expect(fatal).toHaveLength(1);
    await store.close();
    await pic.tearDown();

    // The same through the asynchronous fsync the HTTP interface waits for.
    const dir2 = freshDir();
    const second = faultyFs();
    const again = await counterReplica();
    const store2 = await DiskStore.open(dir2, { fs: second.fs, onFatal: (e) => fatal.push(e) });
    store2.flush(again.pic.scheduler, again.pic.management);
    await again.actor.inc();
    second.faults.fsync = 'EIO';
    await expect(store2.flushDurable(again.pic.scheduler, again.pic.management)!).rejects.toThrow(StoreFatalError);
    expect(fatal).toHaveLength(2);
    await store2.close();
    await again.pic.tearDown();
  });

  it('a torn final record is dropped; a flipped bit in the middle refuses to load', async () => {
    const dir = freshDir();
    const { pic, actor } = await counterReplica(5n);
    const store = await DiskStore.open(dir);
    store.flush(pic.scheduler, pic.management);
    const afterCheckpoint = statSync(join(dir, 'state.log')).size;
    await actor.inc();
    store.flush(pic.scheduler, pic.management);
    const afterSecond = statSync(join(dir, 'state.log')).size;
    await actor.inc();
    store.flush(pic.scheduler, pic.management);
    await store.close();
    await pic.tearDown();
    const log = readFileSync(join(dir, 'state.log'));

    writeFileSync(join(dir, 'state.log'), log.subarray(0, log.length - 5));
    const torn = await load(dir);
    expect(torn.value).toBe(6n);
    expect(torn.restored.droppedTailBytes).toBe(log.length - 5 - afterSecond);

    // One bit of the second record's payload: the third record is intact, so this is no crash.
    const flipped = Buffer.from(log);
    flipped[afterCheckpoint + 8 + Math.floor((afterSecond - afterCheckpoint - 8) / 2)] ^= 0x10;
    writeFileSync(join(dir, 'state.log'), flipped);
    await expect(load(dir)).rejects.toThrow(CorruptLogError);
    await expect(load(dir)).rejects.toThrow(
      new RegExp(`record at byte ${afterCheckpoint} is unreadable \\(its checksum does not match\\) but a valid record follows at byte ${afterSecond}`),
    );

    // A flipped bit in a length field reads as a record running past the end: still refused.
    const badLength = Buffer.from(log);
    badLength[afterCheckpoint] ^= 0x40;
    writeFileSync(join(dir, 'state.log'), badLength);
    await expect(load(dir)).rejects.toThrow(CorruptLogError);
  });

  it('the lock is held by the process, not by a file: a stale LOCK never blocks, a live holder always does', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'LOCK'), '1\n'); // pid 1 runs, but holds nothing
    const first = await DiskStore.open(dir);
    await expect(DiskStore.open(dir)).rejects.toThrow(StateDirInUseError);
    await expect(DiskStore.open(dir)).rejects.toThrow(`in use by another replica (pid ${process.pid})`);
    await first.close();
    const second = await DiskStore.open(dir);
    await second.close();
  });
});
