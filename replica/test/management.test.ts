// Conformance: the management canister against ic.did — ids, controllers, chunked install,
// status, settings, history, snapshots, stop/start/delete — plus the programmatic snapshots.
import { beforeAll, describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { sha256 } from '@noble/hashes/sha2.js';
import { Replica, RejectCode, ErrorCode } from '../src/index.ts';
import { createReplica, motokoFixture, watFixture, type Fixture } from './fixtures/build.ts';
import { canisterSettings, rejection } from './replica-support.ts';

type Counter = { inc(): Promise<bigint>; get(): Promise<bigint>; writeStable(v: bigint): Promise<void>; readStable(): Promise<bigint> };

const alice = Ed25519KeyIdentity.generate().getPrincipal();
const bob = Ed25519KeyIdentity.generate().getPrincipal();

describe('management canister', () => {
  let counter: Fixture;
  let probe: Uint8Array;
  beforeAll(async () => {
    counter = await motokoFixture('counter');
    probe = await watFixture('probe');
  });

  async function counterOn(pic: Replica, sender = alice) {
    return pic.setupCanister<Counter>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(1n), sender });
  }

  it('canister ids start at rrkah-fqaaa-aaaaa-aaaaq-cai and increase', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const ids = [await pic.createCanister(), await pic.createCanister(), await pic.createCanister()];
    expect(ids.map((p) => p.toText())).toEqual(['rrkah-fqaaa-aaaaa-aaaaq-cai', 'ryjl3-tyaaa-aaaaa-aaaba-cai', 'r7inp-6aaaa-aaaaa-aaabq-cai']);
  });

  it('provisional creation with a specified id, refused when taken', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const wanted = Principal.fromText('r7inp-6aaaa-aaaaa-aaabq-cai');
    expect((await pic.createCanister({ targetCanisterId: wanted })).toText()).toBe(wanted.toText());
    const e = await rejection(pic.createCanister({ targetCanisterId: wanted }));
    expect(e.errorCode).toBe(ErrorCode.CanisterIdAlreadyExists);
    // automatic ids skip the taken one later on
    expect((await pic.createCanister()).toText()).toBe('rrkah-fqaaa-aaaaa-aaaaq-cai');
  });

  it('controllers are checked on install, stop and status', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister({ sender: alice });
    const e = await rejection(pic.installCode({ canisterId, wasm: probe, sender: bob }));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    expect(e.errorCode).toBe(ErrorCode.CanisterInvalidController);
    expect(e.rejectMessage).toBe(`Only controllers of canister ${canisterId.toText()} can call ic00 method install_code`);
    expect((await rejection(pic.stopCanister({ canisterId, sender: bob }))).errorCode).toBe(ErrorCode.CanisterInvalidController);
    // refused by the ingress filter, before the message is inducted (no certificate on the HTTP side)
    const { IDL } = await import('@dfinity/candid');
    const stopArg = new Uint8Array(IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: canisterId }]));
    expect(pic.scheduler.inspectIngress('aaaaa-aa', 'stop_canister', stopArg, bob.toUint8Array())).toMatchObject({
      kind: 'reject',
      errorCode: ErrorCode.CanisterInvalidController,
    });
    expect(pic.scheduler.inspectIngress('aaaaa-aa', 'stop_canister', stopArg, alice.toUint8Array())).toBeUndefined();
    expect((await rejection(pic.callManagement('canister_status', { canister_id: canisterId }, bob))).errorCode).toBe(ErrorCode.CanisterInvalidController);
    await pic.installCode({ canisterId, wasm: probe, sender: alice });
  });

  it('update_settings replaces the controllers', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister({ sender: alice });
    await pic.callManagement(
      'update_settings',
      { canister_id: canisterId, settings: canisterSettings({ controllers: [[bob]], freezing_threshold: [1000n] }), sender_canister_version: [] },
      alice,
    );
    await rejection(pic.installCode({ canisterId, wasm: probe, sender: alice }));
    await pic.installCode({ canisterId, wasm: probe, sender: bob });
    const status = (await pic.callManagement('canister_status', { canister_id: canisterId }, bob)) as {
      settings: { freezing_threshold: bigint; controllers: Principal[] };
    };
    expect(status.settings.freezing_threshold).toBe(1000n);
    expect(status.settings.controllers.map((p) => p.toText())).toEqual([bob.toText()]);
  });

  it('canister_status reports status, module hash, memory and cycles', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { canisterId } = await counterOn(pic);
    const status = (await pic.callManagement('canister_status', { canister_id: canisterId }, alice)) as any;
    expect(Object.keys(status.status)).toEqual(['running']);
    expect(Buffer.from(status.module_hash[0]).toString('hex')).toBe(Buffer.from(sha256(counter.wasm)).toString('hex'));
    expect(status.memory_metrics.wasm_memory_size).toBeGreaterThan(0n);
    // 100T by default, less the execution fees of install and init
    expect(status.cycles).toBeLessThan(100_000_000_000_000n);
    expect(status.cycles).toBeGreaterThan(99_900_000_000_000n);
    expect(status.idle_cycles_burned_per_day).toBeGreaterThan(0n);
    expect(status.version).toBeGreaterThan(0n);
    expect(status.query_stats.num_calls_total).toBe(0n);
  });

  it('canister_status counts the queries a canister answered', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await counterOn(pic);
    await actor.get();
    await actor.get();
    const stats = ((await pic.callManagement('canister_status', { canister_id: canisterId }, alice)) as any).query_stats;
    expect(stats.num_calls_total).toBe(2n);
    expect(stats.num_instructions_total).toBeGreaterThan(0n);
    expect(stats.request_payload_bytes_total).toBeGreaterThan(0n);
    expect(stats.response_payload_bytes_total).toBeGreaterThan(0n);
  });

  it('uninstall_code empties the canister and calls get IC0537', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await counterOn(pic);
    await pic.callManagement('uninstall_code', { canister_id: canisterId, sender_canister_version: [] }, alice);
    expect((await rejection(actor.get())).errorCode).toBe(ErrorCode.CanisterWasmModuleNotFound);
    const status = (await pic.callManagement('canister_status', { canister_id: canisterId }, alice)) as any;
    expect(status.module_hash).toEqual([]);
  });

  it('installing on a non-empty canister is refused with IC0514', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { canisterId } = await counterOn(pic);
    const e = await rejection(pic.installCode({ canisterId, wasm: counter.wasm, arg: counter.encodeInit(0n), sender: alice }));
    expect(e.errorCode).toBe(ErrorCode.CanisterNonEmpty);
  });

  it('chunk store: upload, list, install_chunked_code, clear', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister({ sender: alice });
    const wasm = counter.wasm;
    const chunks = [wasm.slice(0, 100_000), wasm.slice(100_000, 200_000), wasm.slice(200_000)];
    const hashes: Uint8Array[] = [];
    for (const chunk of chunks) {
      const { hash } = (await pic.callManagement('upload_chunk', { canister_id: canisterId, chunk }, alice)) as { hash: Uint8Array };
      expect(Buffer.from(hash).equals(Buffer.from(sha256(chunk)))).toBe(true);
      hashes.push(hash);
    }
    const stored = (await pic.callManagement('stored_chunks', { canister_id: canisterId }, alice)) as { hash: Uint8Array }[];
    expect(stored.length).toBe(3);
    const args = (moduleHash: Uint8Array) => ({
      mode: { install: null },
      target_canister: canisterId,
      store_canister: [],
      chunk_hashes_list: hashes.map((hash) => ({ hash })),
      wasm_module_hash: moduleHash,
      arg: counter.encodeInit(9n),
      sender_canister_version: [],
    });
    const wrong = await rejection(pic.callManagement('install_chunked_code', args(new Uint8Array(32)), alice));
    expect(wrong.message).toContain('does not match given hash WasmHash([0, 0,');
    await pic.callManagement('install_chunked_code', args(sha256(wasm)), alice);
    expect(await pic.createActor<Counter>(counter.idlFactory, canisterId).get()).toBe(9n);
    await pic.callManagement('clear_chunk_store', { canister_id: canisterId }, alice);
    expect(((await pic.callManagement('stored_chunks', { canister_id: canisterId }, alice)) as unknown[]).length).toBe(0);
  });

  it('canister_info history records creation, deployments and controller changes', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { canisterId } = await counterOn(pic);
    await pic.upgradeCanister({ canisterId, wasm: counter.wasm, arg: counter.encodeInit(0n), sender: alice });
    await pic.callManagement(
      'update_settings',
      { canister_id: canisterId, settings: canisterSettings({ controllers: [[alice, bob]] }), sender_canister_version: [] },
      alice,
    );
    // canister_info is for canisters only; read the same history through the engine
    const ingress = await rejection(pic.callManagement('canister_info', { canister_id: canisterId, num_requested_changes: [10n] }, alice));
    expect(ingress.message).toContain('Only canisters');
    const c = pic.scheduler.canister(canisterId)!;
    expect(c.history.map((h) => Object.keys(h.details)[0])).toEqual(['creation', 'code_deployment', 'code_deployment', 'controllers_change']);
    expect(c.totalChanges).toBe(4n);
  });

  it('stop_canister waits for open call contexts while the canister keeps answering responses', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const a = await counterOn(pic);
    const b = await counterOn(pic);
    const order: string[] = [];
    const call = (a.actor as unknown as { callInc(p: Principal): Promise<bigint> }).callInc(b.canisterId).then((v) => order.push(`call ${v}`));
    const stop = pic.stopCanister({ canisterId: a.canisterId, sender: alice }).then(() => order.push('stopped'));
    await Promise.all([call, stop]);
    expect(order).toEqual(['call 2', 'stopped']);
    expect((await rejection(a.actor.inc())).errorCode).toBe(ErrorCode.CanisterStopped);
  });

  it('canister_info called by a canister reports changes, module hash and controllers', async () => {
    const inspector = await motokoFixture('inspector');
    const pic = await createReplica({ log: 'quiet' });
    const { canisterId } = await counterOn(pic);
    await pic.upgradeCanister({ canisterId, wasm: counter.wasm, arg: counter.encodeInit(0n), sender: alice });
    const { actor } = await pic.setupCanister<{
      info(p: Principal): Promise<[bigint, [] | [Uint8Array], Principal[]]>;
      deposit(p: Principal, n: bigint): Promise<void>;
    }>({ idlFactory: inspector.idlFactory, wasm: inspector.wasm });
    const [changes, hash, controllers] = await actor.info(canisterId);
    expect(changes).toBe(3n);
    expect(Buffer.from(hash[0]!).equals(Buffer.from(sha256(counter.wasm)))).toBe(true);
    expect(controllers.map((p) => p.toText())).toEqual([alice.toText()]);

    const before = pic.getCyclesBalance(canisterId);
    await actor.deposit(canisterId, 5_000_000n);
    expect(pic.getCyclesBalance(canisterId) - before).toBe(5_000_000n);
  });

  it('start_canister cancels a pending stop_canister with IC0511', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const a = await counterOn(pic);
    const b = await counterOn(pic);
    const call = (a.actor as unknown as { callInc(p: Principal): Promise<bigint> }).callInc(b.canisterId);
    const stop = rejection(pic.stopCanister({ canisterId: a.canisterId, sender: alice }));
    await pic.startCanister({ canisterId: a.canisterId, sender: alice });
    expect((await stop).errorCode).toBe(ErrorCode.CanisterStoppingCancelled);
    expect(await call).toBe(2n);
    expect(await a.actor.inc()).toBe(2n);
  });

  it('delete_canister refuses a running canister', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { canisterId } = await counterOn(pic);
    const e = await rejection(pic.deleteCanister({ canisterId, sender: alice }));
    expect(e.errorCode).toBe(ErrorCode.CanisterNotStopped);
  });

  it('raw_rand cannot be called by ingress', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const e = await rejection(pic.callManagement('raw_rand', undefined));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_REJECT);
  });

  it('unknown management method is rejected naming it', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const e = await rejection(pic.updateCall({ canisterId: Principal.managementCanister(), method: 'make_coffee' }));
    // The IC's ingress filter refuses any method users may not call, unknown ones included.
    expect(e.errorCode).toBe(ErrorCode.CanisterRejectedMessage);
    expect(e.rejectMessage).toBe('Only canisters can call ic00 method make_coffee');
  });

  it('snapshots: take, change, load, list, delete', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await counterOn(pic);
    await actor.inc();
    await actor.writeStable(5n);
    const snap = (await pic.callManagement(
      'take_canister_snapshot',
      { canister_id: canisterId, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] },
      alice,
    )) as { id: Uint8Array; total_size: bigint };
    expect(snap.total_size).toBeGreaterThan(0n);
    await actor.inc();
    await actor.writeStable(6n);
    await pic.callManagement('load_canister_snapshot', { canister_id: canisterId, snapshot_id: snap.id, sender_canister_version: [] }, alice);
    expect(await actor.get()).toBe(2n);
    expect(await actor.readStable()).toBe(5n);
    const list = (await pic.callManagement('list_canister_snapshots', { canister_id: canisterId }, alice)) as unknown[];
    expect(list.length).toBe(1);
    await pic.callManagement('delete_canister_snapshot', { canister_id: canisterId, snapshot_id: snap.id }, alice);
    const e = await rejection(
      pic.callManagement('load_canister_snapshot', { canister_id: canisterId, snapshot_id: snap.id, sender_canister_version: [] }, alice),
    );
    expect(e.errorCode).toBe(ErrorCode.CanisterSnapshotNotFound);
    expect(e.rejectCode).toBe(RejectCode.DESTINATION_INVALID);
  });

  it('snapshot limit per canister is enforced', async () => {
    const pic = await createReplica({ log: 'quiet', limits: { maxSnapshotsPerCanister: 2 } });
    const canisterId = await pic.createCanister({ sender: alice });
    const take = () =>
      pic.callManagement('take_canister_snapshot', { canister_id: canisterId, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] }, alice);
    await take();
    await take();
    const e = await rejection(take());
    expect(e.message).toContain('maximum number of snapshots');
  });

  it('takeSnapshot().restore() puts a canister back, more than once', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await counterOn(pic);
    await actor.inc();
    const snap = await pic.takeSnapshot(canisterId);
    await actor.inc();
    await actor.inc();
    await snap.restore();
    expect(await actor.get()).toBe(2n);
    await actor.inc();
    await snap.restore();
    expect(await actor.get()).toBe(2n);
  });

  it('fetch_canister_logs returns debug_print lines and traps to controllers', async () => {
    const pic = await createReplica({ log: 'quiet', time: Date.UTC(2026, 0, 1) });
    const { actor, canisterId } = await counterOn(pic);
    await (actor as unknown as { print(t: string): Promise<void> }).print('first line');
    await rejection((actor as unknown as { incThenTrap(): Promise<void> }).incThenTrap());
    const records = await pic.fetchCanisterLogs({ canisterId, sender: alice });
    const texts = records.map((r) => new TextDecoder().decode(r.content));
    expect(texts).toContain('first line');
    expect(texts.some((t) => t.startsWith('[TRAP]:') && t.includes('deliberate trap after writing'))).toBe(true);
    expect(records.map((r) => r.idx)).toEqual(records.map((_, k) => records[0].idx + BigInt(k)));
    expect(records[0].timestamp_nanos).toBe(BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n);
    const e = await rejection(pic.fetchCanisterLogs({ canisterId, sender: bob }));
    expect(e.errorCode).toBe(ErrorCode.CanisterInvalidController);
  });

  it('provisional_top_up_canister adds cycles', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister({ cycles: 1000n });
    await pic.addCycles(canisterId, 500n);
    expect(pic.getCyclesBalance(canisterId)).toBe(1500n);
  });
});

describe('management arguments', () => {
  it('are decoded once per bytes object and method (routing, the ingress filter and the call share it)', async () => {
    const { IDL } = await import('@dfinity/candid');
    const { decodeManagementArg, managementMethods } = await import('../src/management/ic-idl.ts');
    const types = [...managementMethods.install_code[0]];
    const value = {
      mode: { install: null },
      canister_id: alice,
      wasm_module: new Uint8Array(300_000).fill(7),
      arg: new Uint8Array([1]),
      sender_canister_version: [],
    };
    const bytes = new Uint8Array(IDL.encode(types, [value]));
    const first = decodeManagementArg('install_code', bytes);
    expect((first[0] as { canister_id: Principal }).canister_id.toText()).toBe(alice.toText());
    expect(decodeManagementArg('install_code', bytes)).toBe(first);
    // Equal bytes in another object, or the same bytes read as another method's argument: decoded again.
    expect(decodeManagementArg('install_code', bytes.slice())).not.toBe(first);
    const status = decodeManagementArg('canister_status', bytes);
    expect(status).not.toBe(first);
    expect(Object.keys(status[0] as object)).toEqual(['canister_id']);
  });
});
