// Behaviour the IC has and a local replica easily gets wrong: data certificates in queries made
// through the programmatic API, composite queries calling their own canister, the canister
// version moving with every execution that changes the canister, and canister_info's history
// recording the sender_canister_version the caller passed.
import { beforeAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { Certificate } from '@dfinity/agent';
import { Replica } from '../src/index.ts';
import { createReplica, motokoFixture, watFixture } from './fixtures/build.ts';
import { canisterSettings } from './replica-support.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('data certificates in programmatic queries', () => {
  let pic: Replica;
  let canisterId: Principal;
  beforeAll(async () => {
    pic = await createReplica({ log: 'quiet', time: new Date('2026-06-01T00:00:00Z') });
    canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('answers') });
  }, 60_000);

  for (const method of ['certificate', 'certificate_cq']) {
    it(`a ${method === 'certificate' ? 'query' : 'composite query'} reads a certificate of the canister's certified data that verifies against the root key`, async () => {
      const data = new TextEncoder().encode(`hash-${method}`);
      await pic.updateCall({ canisterId, method: 'set_certified', arg: data });
      const certificate = await pic.queryCall({ canisterId, method });
      expect(certificate.length).toBeGreaterThan(0);
      const cert = await Certificate.create({ certificate, rootKey: pic.getRootKey(), canisterId, disableTimeVerification: true });
      const found = cert.lookup_path(['canister', canisterId.toUint8Array(), 'certified_data']) as
        { status?: string; value?: Uint8Array } | Uint8Array | undefined;
      const value = found instanceof Uint8Array ? found : found?.value;
      expect(value && text(value)).toBe(`hash-${method}`);
    });
  }

  it('the same query run as an update sees no certificate (non-replicated queries only, interface spec)', async () => {
    expect((await pic.updateCall({ canisterId, method: 'certificate' })).length).toBe(0);
  });
});

describe('composite queries calling their own canister', () => {
  it('a composite query may call a query of its own canister and continue in its callback', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('answers') });
    const id = canisterId.toUint8Array();
    const name = new TextEncoder().encode('ok_query');
    const arg = new Uint8Array([id.length, ...id, name.length, ...name]);
    expect(text(await pic.queryCall({ canisterId, method: 'relay_cq', arg }))).toBe('reply:re');
    // and again: the first query left no state behind
    expect(text(await pic.queryCall({ canisterId, method: 'relay_cq', arg }))).toBe('reply:re');
  });
});

describe('canister version and history', () => {
  const u64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

  it('every successful replicated execution bumps the version; a trap or a non-replicated query does not', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('answers') });
    const version = async () => u64(await pic.queryCall({ canisterId, method: 'version' }));
    const installed = await version();
    expect(installed).toBe(1n); // create: 0, install_code: 1
    await pic.updateCall({ canisterId, method: 'ok' });
    expect(await version()).toBe(installed + 1n);
    await pic.updateCall({ canisterId, method: 'trap' }).catch(() => undefined);
    expect(await version()).toBe(installed + 1n);
    // a query method called as an update runs replicated and bumps it too (it reads the value before)
    expect(u64(await pic.updateCall({ canisterId, method: 'version' }))).toBe(installed + 1n);
    expect(await version()).toBe(installed + 2n);
  });

  it("canister_info's history records the sender_canister_version a calling canister passed, or null", async () => {
    const pic = await createReplica({ log: 'quiet' });
    const caller = await pic.createCanister();
    await pic.installCode({ canisterId: caller, wasm: await watFixture('answers') });
    const target = await pic.createCanister({ controllers: [Principal.anonymous(), caller] });
    const settingsArg = IDL.Record({
      canister_id: IDL.Principal,
      settings: IDL.Record({ controllers: IDL.Opt(IDL.Vec(IDL.Principal)) }),
      sender_canister_version: IDL.Opt(IDL.Nat64),
    });
    const third = Principal.fromUint8Array(new Uint8Array(29).fill(3));
    const relay = async (senderVersion: [] | [bigint], controllers: Principal[]) => {
      const payload = new Uint8Array(
        IDL.encode([settingsArg], [{ canister_id: target, settings: { controllers: [controllers] }, sender_canister_version: senderVersion }]),
      );
      const mgmt = Principal.managementCanister().toUint8Array();
      const name = new TextEncoder().encode('update_settings');
      const reply = text(
        await pic.updateCall({ canisterId: caller, method: 'relay', arg: new Uint8Array([mgmt.length, ...mgmt, name.length, ...name, ...payload]) }),
      );
      expect(reply.startsWith('reply:')).toBe(true);
    };
    const lastOrigin = () => pic.scheduler.canisters.get(target.toText())!.history.at(-1)!.origin;
    await relay([42n], [Principal.anonymous(), caller, third]);
    expect(lastOrigin()).toEqual({ from_canister: { canister_id: caller, canister_version: [42n] } });
    await relay([], [Principal.anonymous(), caller]);
    expect(lastOrigin()).toEqual({ from_canister: { canister_id: caller, canister_version: [] } });
  });
});

describe('System API added from the current interface spec', () => {
  it("ic0.env_var_* read the environment variables set through the settings; a missing one traps with the IC's text", async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('answers') });
    await pic.callManagement('update_settings', {
      canister_id: canisterId,
      settings: canisterSettings({
        environment_variables: [
          [
            { name: 'NETWORK', value: 'local' },
            { name: 'API', value: 'v2' },
          ],
        ],
      }),
      sender_canister_version: [],
    });
    const env = (name: string) => pic.queryCall({ canisterId, method: 'env', arg: new TextEncoder().encode(name) });
    // sorted by name, as the IC keeps them: API comes first
    expect(text(await env('NETWORK'))).toBe('2:API=local');
    const e = await env('MISSING').catch((x: { rejectMessage?: string; errorCode?: string }) => x);
    expect(e).toMatchObject({ errorCode: 'IC0504', rejectMessage: `Error from Canister ${canisterId.toText()}: Environment variable MISSING not found.` });
  });

  it("too many environment variables are refused with the IC's text", async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    const vars = Array.from({ length: 21 }, (_, i) => ({ name: `V${i}`, value: 'x' }));
    const e = await pic
      .callManagement('update_settings', {
        canister_id: canisterId,
        settings: canisterSettings({ environment_variables: [vars] }),
        sender_canister_version: [],
      })
      .catch((x: { rejectMessage?: string; errorCode?: string }) => x);
    expect(e).toMatchObject({ errorCode: 'IC0408', rejectMessage: 'Too many environment variables: 21 (max: 20)' });
  });

  it('canister_on_low_wasm_memory runs once when the memory left under wasm_memory_limit falls below wasm_memory_threshold', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('answers') });
    const runs = async () => new DataView((await pic.queryCall({ canisterId, method: 'low_runs' })).buffer).getUint32(0, true);
    // 1 page now; limit 4 MiB, threshold 2 MiB: the hook is due after growing by 2 MiB or more
    await pic.callManagement('update_settings', {
      canister_id: canisterId,
      settings: canisterSettings({ wasm_memory_limit: [4n << 20n], wasm_memory_threshold: [2n << 20n] }),
      sender_canister_version: [],
    });
    await pic.updateCall({ canisterId, method: 'grow' });
    await pic.tick();
    expect(await runs()).toBe(0);
    await pic.updateCall({ canisterId, method: 'grow' });
    await pic.tick();
    expect(await runs()).toBe(1);
    await pic.tick();
    expect(await runs()).toBe(1); // once per episode
  });

  it("ic0.cost_sign_with_* and cost_vetkd_derive_key quote the fee of the key's subnet (34 nodes, as PocketIC's II and Fiduciary subnets), not the caller's", async () => {
    const costs = async (pic: Replica, canisterId: Principal, method: string, key: string) => {
      const reply = await pic.updateCall({ canisterId, method, arg: new TextEncoder().encode(key) });
      const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
      return { code: view.getUint32(0, true), cycles: view.getBigUint64(4, true) + (view.getBigUint64(12, true) << 64n) };
    };
    const wasm = await watFixture('threshold-costs');
    const pic = await Replica.create({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm });
    // 10B cycles (ECDSA_SIGNATURE_FEE, SCHNORR_SIGNATURE_FEE, VETKD_FEE) * 34 / 13, for a caller on a 13-node subnet
    for (const [method, key] of [
      ['ecdsa', 'key_1'],
      ['schnorr', 'test_key_1'],
      ['vetkd', 'dfx_test_key'],
    ])
      expect(await costs(pic, canisterId, method, key)).toEqual({ code: 0, cycles: 26_153_846_153n });
    expect((await costs(pic, canisterId, 'ecdsa', 'no_such_key')).code).toBe(2);
    await pic.tearDown();

    const free = await Replica.create({ log: 'quiet', subnets: [{ kind: 'Application', costSchedule: 'Free' }] });
    const onFree = await free.createCanister();
    await free.installCode({ canisterId: onFree, wasm });
    expect(await costs(free, onFree, 'ecdsa', 'key_1')).toEqual({ code: 0, cycles: 0n });
    await free.tearDown();
  });

  it("a module importing a System API function that does not exist is refused at install with the IC's message", async () => {
    const { default: binaryen } = await import('binaryen');
    const m = binaryen.parseText('(module (import "ic0" "no_such_call" (func)) (memory 1) (export "memory" (memory 0)))');
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    const e = await pic.installCode({ canisterId, wasm: m.emitBinary() }).catch((x: { rejectMessage?: string; errorCode?: string }) => x);
    expect(e).toMatchObject({
      errorCode: 'IC0505',
      rejectMessage:
        `Error from Canister ${canisterId.toText()}: Canister's Wasm module is not valid: Wasm module has an invalid import section. ` +
        "Module imports function 'no_such_call' from 'ic0' that is not exported by the runtime..\nThis is likely an error with the compiler/CDK toolchain being used to build the canister. Please report the error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister.",
    });
  });
});

describe('time passes while a canister waits', () => {
  type Waiter = { waitForTimer(): Promise<bigint>; waitForHeartbeats(n: bigint): Promise<bigint>; spin(n: bigint): Promise<void> };

  it('a canister awaiting raw_rand in a loop sees its timer fire and heartbeats run (raw_rand answers in a later round)', async () => {
    const fx = await motokoFixture('waiter');
    const pic = await createReplica({ log: 'quiet' }); // real time, as a local replica runs
    const { actor } = await pic.setupCanister<Waiter>({ idlFactory: fx.idlFactory, wasm: fx.wasm });
    const started = Date.now();
    const awaits = await actor.waitForTimer();
    expect(awaits).toBeGreaterThan(1n);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the timer's second went by
    expect(await actor.waitForHeartbeats(2n)).toBeGreaterThan(0n);
    await pic.tearDown();
  }, 60_000);

  it('each raw_rand answer takes a round', async () => {
    const fx = await motokoFixture('waiter');
    const pic = await createReplica({ log: 'quiet', time: new Date('2026-06-01T00:00:00Z') });
    const { actor } = await pic.setupCanister<Waiter>({ idlFactory: fx.idlFactory, wasm: fx.wasm });
    const before = pic.scheduler.round;
    await actor.spin(10n);
    expect(pic.scheduler.round - before).toBeGreaterThanOrEqual(10);
    await pic.tearDown();
  }, 60_000);
});
