// Conformance against an Azle (TypeScript CDK, Rust CDK underneath) canister: a 3.5 MB module
// installed through the chunk store, a module without an exported table, stable structures,
// and the Rust CDK's single reply/reject callback.
import { beforeAll, describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Replica, ErrorCode, RejectCode } from '../src/index.ts';
import { azleFixture } from './fixtures/azle.ts';
import { createReplica, motokoFixture, type Fixture } from './fixtures/build.ts';
import { rejection } from './replica-support.ts';

type AzleProbe = {
  inc(): Promise<bigint>;
  get(): Promise<bigint>;
  putNote(k: string, v: string): Promise<void>;
  getNote(k: string): Promise<[] | [string]>;
  putNoteThenTrap(k: string, v: string): Promise<void>;
  whoami(): Promise<Principal>;
  now(): Promise<bigint>;
  callInc(p: Principal): Promise<bigint>;
  callAndCatch(p: Principal): Promise<string>;
};

describe('Azle canister', () => {
  let azle: Fixture;
  let counter: Fixture;
  let pic: Replica;
  let actor: AzleProbe & { setIdentity(i: { getPrincipal(): Principal }): void };
  let canisterId: Principal;
  const start = Date.UTC(2026, 2, 1);

  beforeAll(async () => {
    azle = await azleFixture();
    counter = await motokoFixture('counter');
    pic = await createReplica({ log: 'quiet', time: start });
    ({ actor, canisterId } = await pic.setupCanister<AzleProbe>({ idlFactory: azle.idlFactory, wasm: azle.wasm, name: 'azle' }));
  });

  it('a module larger than one ingress message installs through the chunk store', async () => {
    expect(azle.wasm.length).toBeGreaterThan(pic.scheduler.limits.maxIngressBytes);
    const status = (await pic.callManagement('canister_status', { canister_id: canisterId })) as { module_hash: [Uint8Array] | [] };
    expect(status.module_hash.length).toBe(1);
  });

  it('update persists and query reads it', async () => {
    const before = await actor.get();
    expect(await actor.inc()).toBe(before + 1n);
    expect(await actor.get()).toBe(before + 1n);
  });

  it('trap in update rolls back the heap and a StableBTreeMap', async () => {
    await actor.putNote('kept', 'yes');
    const count = await actor.get();
    const e = await rejection(actor.putNoteThenTrap('lost', 'no'));
    expect(e.errorCode).toBe(ErrorCode.CanisterCalledTrap);
    expect(e.message).toContain('azle canister refuses after writing');
    expect(await actor.getNote('lost')).toEqual([]);
    expect(await actor.getNote('kept')).toEqual(['yes']);
    expect(await actor.get()).toBe(count);
  });

  it('msg_caller is the sender', async () => {
    const identity = Ed25519KeyIdentity.generate();
    actor.setIdentity(identity);
    expect((await actor.whoami()).toText()).toBe(identity.getPrincipal().toText());
    actor.setIdentity({ getPrincipal: () => Principal.anonymous() });
    expect((await actor.whoami()).toText()).toBe('2vxsx-fae');
  });

  it('ic0.time follows the replica clock', async () => {
    expect(await actor.now()).toBe(BigInt(pic.getTime()) * 1_000_000n);
  });

  it('inter-canister reply reaches the single Rust CDK callback with reject code 0', async () => {
    const { canisterId: motoko } = await pic.setupCanister({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(41n) });
    expect(await actor.callInc(motoko)).toBe(42n);
  });

  it('inter-canister reject reaches the Azle caller with its reject code', async () => {
    const { canisterId: motoko } = await pic.setupCanister({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(0n) });
    expect(await actor.callAndCatch(motoko)).toBe(`rejected ${RejectCode.CANISTER_ERROR}`);
  });

  it('upgrade keeps the StableBTreeMap and resets heap fields', async () => {
    await actor.putNote('across', 'upgrade');
    await actor.inc();
    await pic.upgradeCanister({ canisterId, wasm: azle.wasm });
    expect(await actor.getNote('across')).toEqual(['upgrade']);
    expect(await actor.get()).toBe(0n);
  });
});
