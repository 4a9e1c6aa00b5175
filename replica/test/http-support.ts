// Shared by the HTTP end-to-end tests and the bench: `npm run replica` as a child process
// (scripts/lib/replica-process.ts), the fixture canister deployed through the agent's own
// management-canister calls.

import { Actor, HttpAgent, type Identity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { compileMotoko } from '../../scripts/lib/motoko.ts';
import { managementIdlFactory } from '../src/management/ic-idl.ts';

export { startReplicaProcess, type ReplicaProcess } from '../../scripts/lib/replica-process.ts';
export const COUNTER_ENTRY = 'replica/test/fixtures/http/counter.mo';

export const counterIdl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({
    get: I.Func([], [I.Nat], ['query']),
    greet: I.Func([I.Text], [I.Text], ['query']),
    whoami: I.Func([], [I.Principal], ['query']),
    inc: I.Func([], [I.Nat], []),
    getCertified: I.Func([], [I.Nat, I.Opt(I.Vec(I.Nat8))], ['query']),
    refuse: I.Func([], [], []),
    crash: I.Func([], [], []),
    crashQuery: I.Func([], [], ['query']),
    incPeer: I.Func([I.Principal], [I.Nat], []),
    sumWithPeer: I.Func([I.Principal], [I.Nat], ['composite_query']),
    getVersion: I.Func([], [I.Nat], ['query']),
  });

/**
 * A management-canister actor. The effective canister id is the canister the call is about
 * (https-interface.md#http-effective-canister-id); creation may use any id of the subnet, and
 * `createOn` picks the subnet (by default the one of rrkah-fqaaa-aaaaa-aaaaq-cai).
 */
export function managementActor(agent: HttpAgent, createOn = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai')): any {
  return Actor.createActor(managementIdlFactory, {
    agent,
    canisterId: Principal.fromText('aaaaa-aa'),
    callTransform: (_method: string, args: any[]) => ({
      effectiveCanisterId: args[0]?.canister_id ?? args[0]?.target_canister ?? createOn,
    }),
    queryTransform: (_method: string, args: any[]) => ({ effectiveCanisterId: args[0]?.canister_id }),
  } as any);
}

export async function counterWasm(): Promise<Uint8Array> {
  return (await compileMotoko({ entry: COUNTER_ENTRY })).wasm;
}

/** Creates a canister with 100T cycles and installs `wasm` in it with `arg` (default: no arguments). */
export async function deployWasm(agent: HttpAgent, wasm: Uint8Array, arg = new Uint8Array(IDL.encode([], []))): Promise<Principal> {
  const ic = managementActor(agent);
  const { canister_id } = await ic.provisional_create_canister_with_cycles({
    amount: [100_000_000_000_000n],
    settings: [],
    specified_id: [],
    sender_canister_version: [],
  });
  await ic.install_code({ mode: { install: null }, canister_id, wasm_module: wasm, arg, sender_canister_version: [] });
  return canister_id;
}

export async function deployCounter(agent: HttpAgent, start = 0n, wasm?: Uint8Array): Promise<Principal> {
  return deployWasm(agent, wasm ?? (await counterWasm()), new Uint8Array(IDL.encode([IDL.Nat], [start])));
}

export async function localAgent(url: string, identity?: Identity): Promise<HttpAgent> {
  return HttpAgent.create({ host: url, shouldFetchRootKey: true, identity });
}
