// Behaviour the IC has and a local replica easily gets wrong: data certificates in queries made
// through the programmatic API, composite queries calling their own canister, the canister
// version moving with every execution that changes the canister, and canister_info's history
// recording the sender_canister_version the caller passed.
import { beforeAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { Certificate } from '@dfinity/agent';
import { Replica } from '../src/index.ts';
import { watFixture } from './fixtures/build.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('data certificates in programmatic queries', () => {
  let pic: Replica;
  let canisterId: Principal;
  beforeAll(async () => {
    pic = await Replica.create({ log: 'quiet', time: new Date('2026-06-01T00:00:00Z') });
    canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('answers') });
  }, 60_000);

  for (const method of ['certificate', 'certificate_cq']) {
    it(`a ${method === 'certificate' ? 'query' : 'composite query'} reads a certificate of the canister's certified data that verifies against the root key`, async () => {
      const data = new TextEncoder().encode(`hash-${method}`);
      await pic.updateCall({ canisterId, method: 'set_certified', arg: data });
      const certificate = await pic.queryCall({ canisterId, method });
      expect(certificate.length).toBeGreaterThan(0);
      const cert = await Certificate.create({ certificate, rootKey: pic.rootKey, canisterId, disableTimeVerification: true });
      const found = cert.lookup_path(['canister', canisterId.toUint8Array(), 'certified_data']) as { status?: string; value?: Uint8Array } | Uint8Array | undefined;
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
    const pic = await Replica.create({ log: 'quiet' });
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
    const pic = await Replica.create({ log: 'quiet' });
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
    const pic = await Replica.create({ log: 'quiet' });
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
      const payload = new Uint8Array(IDL.encode([settingsArg], [{ canister_id: target, settings: { controllers: [controllers] }, sender_canister_version: senderVersion }]));
      const mgmt = Principal.managementCanister().toUint8Array();
      const name = new TextEncoder().encode('update_settings');
      const reply = text(await pic.updateCall({ canisterId: caller, method: 'relay', arg: new Uint8Array([mgmt.length, ...mgmt, name.length, ...name, ...payload]) }));
      expect(reply.startsWith('reply:')).toBe(true);
    };
    const lastOrigin = () => pic.scheduler.canisters.get(target.toText())!.history.at(-1)!.origin;
    await relay([42n], [Principal.anonymous(), caller, third]);
    expect(lastOrigin()).toEqual({ from_canister: { canister_id: caller, canister_version: [42n] } });
    await relay([], [Principal.anonymous(), caller]);
    expect(lastOrigin()).toEqual({ from_canister: { canister_id: caller, canister_version: [] } });
  });
});
