// End to end: `npm run replica` (the CLI, in a child process) with the real execution engine,
// a Motoko canister deployed through the agent's own management-canister calls, and both agent
// generations with default verification (certificates and query signatures checked).

import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actor, CanisterStatus, Certificate, HttpAgent, lookupResultToBuffer } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { DelegationChain, DelegationIdentity, ECDSAKeyIdentity, Ed25519KeyIdentity } from '@dfinity/identity';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { Principal } from '@dfinity/principal';
import { Actor as CoreActor, HttpAgent as CoreAgent } from '@icp-sdk/core/agent';
import { Principal as CorePrincipal } from '@icp-sdk/core/principal';
import { compileMotoko } from '../../scripts/lib/motoko.ts';
import { decodeCbor, encodeCbor } from '../src/certification/cbor.ts';
import { canisterIdFromNumber } from '../src/ic/principal.ts';
import { requestIdOf } from '../src/certification/representation-independent-hash.ts';
import {
  COUNTER_ENTRY,
  counterIdl,
  counterWasm,
  deployCounter,
  localAgent,
  managementActor,
  startReplicaProcess,
  type ReplicaProcess,
} from './http-support.ts';

let replica: ReplicaProcess;
let agent: HttpAgent;
let canisterId: Principal;
let peerId: Principal;
let actor: any;

beforeAll(async () => {
  replica = await startReplicaProcess();
  agent = await localAgent(replica.url);
  const wasm = await counterWasm();
  canisterId = await deployCounter(agent, 0n, wasm);
  peerId = await deployCounter(agent, 100n, wasm);
  actor = Actor.createActor(counterIdl, { agent, canisterId });
});
afterAll(async () => {
  expect(await replica.stop()).toBe(0); // Ctrl-C stops cleanly
});

const coreActor = async (id = canisterId) => {
  const core = await CoreAgent.create({ host: replica.url, shouldFetchRootKey: true });
  return CoreActor.createActor(counterIdl as any, { agent: core, canisterId: CorePrincipal.fromText(id.toText()) }) as any;
};

describe('a Motoko canister through @dfinity/agent 3.4.3', () => {
  it('answers a verified query', async () => {
    expect(await actor.greet('replica')).toBe('Hello, replica!');
  });

  it('runs an update and shows it to later queries', async () => {
    const before = await actor.get();
    expect(await actor.inc()).toBe(before + 1n);
    expect(await actor.get()).toBe(before + 1n);
  });

  it('reports a canister reject with reject code 4', async () => {
    await expect(actor.refuse()).rejects.toThrow(/refused on purpose[\s\S]*|Reject code: 4/);
    try {
      await actor.refuse();
    } catch (error: any) {
      expect(String(error.message)).toMatch(/refused on purpose/);
      expect(String(error.message)).toMatch(/4|CanisterReject/);
    }
  });

  it('reports a trap in an update and in a query, naming the message', async () => {
    await expect(actor.crash()).rejects.toThrow(/crashed on purpose/);
    await expect(actor.crashQuery()).rejects.toThrow(/query crashed on purpose/);
    expect(await actor.greet('after traps')).toBe('Hello, after traps!');
  });

  it('calls another canister (inter-canister update) and composes queries', async () => {
    const peer = Actor.createActor(counterIdl, { agent, canisterId: peerId }) as any;
    const before = await peer.get();
    expect(await actor.incPeer(peerId)).toBe(before + 1n);
    expect(await actor.sumWithPeer(peerId)).toBe((await actor.get()) + before + 1n);
  });

  it('serves a certified variable whose certificate the agent verifies', async () => {
    const count = await actor.inc();
    const [seen, certificate] = await actor.getCertified();
    expect(seen).toBe(count);
    expect(certificate).toHaveLength(1);
    const cert = await Certificate.create({ certificate: new Uint8Array(certificate[0]), rootKey: agent.rootKey!, canisterId });
    const data = lookupResultToBuffer(cert.lookup_path(['canister', canisterId.toUint8Array(), 'certified_data']));
    expect(Array.from(data!)).toEqual([Number(count % 256n)]);
  });

  it('authenticates Ed25519, secp256k1, P-256 and delegation identities', async () => {
    const user = Ed25519KeyIdentity.generate();
    const session = await ECDSAKeyIdentity.generate();
    const chain = await DelegationChain.create(user, session.getPublicKey(), new Date(Date.now() + 600_000), { targets: [canisterId] });
    const identities = [
      [Ed25519KeyIdentity.generate(), undefined],
      [Secp256k1KeyIdentity.generate(), undefined],
      [session, undefined],
      [DelegationIdentity.fromDelegation(session, chain), user.getPrincipal()],
    ] as const;
    for (const [identity, expected] of identities) {
      const a = Actor.createActor(counterIdl, { agent: await localAgent(replica.url, identity as any), canisterId }) as any;
      expect((await a.whoami()).toText()).toBe((expected ?? identity.getPrincipal()).toText());
      expect(typeof (await a.inc())).toBe('bigint');
    }
  });

  it('refuses a delegation whose targets exclude the canister', async () => {
    const user = Ed25519KeyIdentity.generate();
    const session = Ed25519KeyIdentity.generate();
    const chain = await DelegationChain.create(user, session.getPublicKey(), new Date(Date.now() + 600_000), { targets: [peerId] });
    const a = Actor.createActor(counterIdl, { agent: await localAgent(replica.url, DelegationIdentity.fromDelegation(session, chain)), canisterId }) as any;
    await expect(a.inc()).rejects.toThrow(/not among the delegation targets/);
  });

  it('upgrades a canister through install_code and keeps its state', async () => {
    const dir = '.cache/http-fixtures';
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/counter-v2.mo`, readFileSync(COUNTER_ENTRY, 'utf8').replace('getVersion() : async Nat { 1 }', 'getVersion() : async Nat { 2 }'));
    const v2 = await compileMotoko({ entry: `${dir}/counter-v2.mo` });
    const before = await actor.get();
    expect(await actor.getVersion()).toBe(1n);
    await managementActor(agent).install_code({
      mode: { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [{ keep: null }] }] },
      canister_id: canisterId,
      wasm_module: v2.wasm,
      arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])),
      sender_canister_version: [],
    });
    expect(await actor.getVersion()).toBe(2n);
    expect(await actor.get()).toBe(before);
  });

  it('installs through the chunk store (upload_chunk + install_chunked_code)', async () => {
    const ic = managementActor(agent);
    const wasm = await counterWasm();
    const { canister_id } = await ic.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] });
    const half = Math.ceil(wasm.length / 2);
    const hashes = [];
    for (const chunk of [wasm.slice(0, half), wasm.slice(half)]) hashes.push(await ic.upload_chunk({ canister_id, chunk }));
    const { sha256 } = await import('@noble/hashes/sha2.js');
    await ic.install_chunked_code({
      mode: { install: null },
      target_canister: canister_id,
      store_canister: [],
      chunk_hashes_list: hashes,
      wasm_module_hash: sha256(wasm),
      arg: new Uint8Array(IDL.encode([IDL.Nat], [42n])),
      sender_canister_version: [],
    });
    expect(await (Actor.createActor(counterIdl, { agent, canisterId: canister_id }) as any).get()).toBe(42n);
  });

  it('stops and starts a canister from the agent; a stopped canister rejects calls', async () => {
    const ic = managementActor(agent);
    await ic.stop_canister({ canister_id: peerId });
    const peer = Actor.createActor(counterIdl, { agent, canisterId: peerId }) as any;
    await expect(peer.inc()).rejects.toThrow(/stopped/);
    await ic.start_canister({ canister_id: peerId });
    expect(typeof (await peer.inc())).toBe('bigint');
  });
});

describe('the same canister through @icp-sdk/core 6.1.0 (v4 call, v3 query)', () => {
  it('queries, updates, rejects and composes', async () => {
    const core = await coreActor();
    expect(await core.greet('core')).toBe('Hello, core!');
    const before = await core.get();
    expect(await core.inc()).toBe(before + 1n);
    await expect(core.refuse()).rejects.toThrow(/refused on purpose/);
    await expect(core.crash()).rejects.toThrow(/crashed on purpose/);
    expect(typeof (await core.sumWithPeer(CorePrincipal.fromText(peerId.toText())))).toBe('bigint');
  });
});

describe('read_state and ingress rules', () => {
  const expiry = () => (BigInt(Date.now()) + 120_000n) * 1_000_000n;
  const incBody = (nonce: number) =>
    encodeCbor({
      content: {
        request_type: 'call',
        canister_id: canisterId.toUint8Array(),
        method_name: 'inc',
        arg: new Uint8Array([68, 73, 68, 76, 0, 0]),
        sender: Uint8Array.of(4),
        ingress_expiry: expiry(),
        nonce: Uint8Array.of(nonce, 1, 2, 3),
      },
    });
  const postCbor = (path: string, body: Uint8Array<ArrayBuffer>) =>
    fetch(replica.url + path, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body });

  it('reveals module hash, controllers and Candid metadata to CanisterStatus', async () => {
    const status = await CanisterStatus.request({ canisterId, agent, paths: ['time', 'controllers', 'module_hash', 'candid'] });
    expect((status.get('controllers') as Principal[]).map((p) => p.toText())).toEqual([(await agent.getPrincipal()).toText()]);
    expect(status.get('module_hash')).toMatch(/^[0-9a-f]{64}$/);
    expect(String(status.get('candid'))).toMatch(/sumWithPeer/);
    expect((status.get('time') as Date).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('executes a replayed call once (v2: 202 twice, one increment)', async () => {
    const body = incBody(7);
    const before = await actor.get();
    expect((await postCbor(`/api/v2/canister/${canisterId.toText()}/call`, body)).status).toBe(202);
    expect((await postCbor(`/api/v2/canister/${canisterId.toText()}/call`, body)).status).toBe(202);
    const synced = await postCbor(`/api/v3/canister/${canisterId.toText()}/call`, body);
    expect(synced.status).toBe(200);
    expect(await actor.get()).toBe(before + 1n);
  });

  it('lets only the original sender read a request status', async () => {
    const body = incBody(9);
    await postCbor(`/api/v3/canister/${canisterId.toText()}/call`, body);
    const requestId = requestIdOf((decodeCbor(body) as any).content);
    const other = Ed25519KeyIdentity.generate();
    const otherAgent = await localAgent(replica.url, other);
    await expect(otherAgent.readState(canisterId, { paths: [[new TextEncoder().encode('request_status'), requestId]] })).rejects.toThrow(
      /was sent by 2vxsx-fae/,
    );
    const own = await agent.readState(canisterId, { paths: [[new TextEncoder().encode('request_status'), requestId]] });
    const cert = await Certificate.create({ certificate: own.certificate, rootKey: agent.rootKey!, canisterId });
    expect(new TextDecoder().decode(lookupResultToBuffer(cert.lookup_path(['request_status', requestId, 'status'])))).toBe('replied');
  });
});

describe('bad input: a 4xx with a sentence, and the replica keeps answering', () => {
  const post = (path: string, body: BodyInit, contentType = 'application/cbor') =>
    fetch(replica.url + path, { method: 'POST', headers: { 'content-type': contentType }, body });
  const id = () => canisterId.toText();
  const stillAnswers = async () => expect(await actor.greet('again')).toBe('Hello, again!');

  it.each([
    ['malformed CBOR', () => post(`/api/v3/canister/${id()}/call`, new Uint8Array([0xa1, 0x61])), 400, /not valid CBOR/],
    ['a JSON body', () => post(`/api/v2/canister/${id()}/query`, '{"content":{}}', 'application/json'), 415, /application\/cbor/],
    ['an oversized body', () => post(`/api/v4/canister/${id()}/call`, new Uint8Array(3 * 1024 * 1024)), 413, /ingress limit/],
    ['an unknown path', () => post('/api/v2/canister/nope', ''), 404, /no such endpoint/],
    ['an unknown canister id', () => post('/api/v3/canister/aaaaa-aaaaa-aaaaa/query', encodeCbor({})), 400, /not valid/],
    [
      'a forged signature',
      async () => {
        const identity = Ed25519KeyIdentity.generate();
        const content = {
          request_type: 'call',
          canister_id: canisterId.toUint8Array(),
          method_name: 'inc',
          arg: new Uint8Array([68, 73, 68, 76, 0, 0]),
          sender: identity.getPrincipal().toUint8Array(),
          ingress_expiry: (BigInt(Date.now()) + 60_000n) * 1_000_000n,
        };
        return post(`/api/v3/canister/${id()}/call`, encodeCbor({ content, sender_pubkey: identity.getPublicKey().toDer(), sender_sig: new Uint8Array(64) }));
      },
      400,
      /invalid signature/,
    ],
  ])('%s', async (_name, request, status, message) => {
    const t = performance.now();
    const response = await request();
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(message);
    expect(performance.now() - t).toBeLessThan(5000); // answered, not left hanging (generous: shared CI machines)
    await stillAnswers();
  });

  it('refuses a management call whose effective canister id is not the canister it names', async () => {
    const arg = new Uint8Array(IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: peerId }]));
    const content = {
      request_type: 'call',
      canister_id: new Uint8Array(),
      method_name: 'start_canister',
      arg,
      sender: Uint8Array.of(4),
      ingress_expiry: (BigInt(Date.now()) + 60_000n) * 1_000_000n,
    };
    const response = await post(`/api/v3/canister/${id()}/call`, encodeCbor({ content }));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/must be the canister_id of the aaaaa-aa.start_canister argument/);
  });

  it('answers a call to a canister that does not exist with a reject, not a retry loop', async () => {
    // Count what the agent sends: a definite answer means one request each, no retries.
    const sent: string[] = [];
    const counting = (input: any, init?: any) => {
      sent.push(new URL(String(input)).pathname.split('/').pop()!);
      return fetch(input, init);
    };
    const counted = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, fetch: counting as typeof fetch });
    const missing = Actor.createActor(counterIdl, { agent: counted, canisterId: Principal.fromUint8Array(canisterIdFromNumber(900_000)) }) as any; // in range, never created
    await expect(missing.inc()).rejects.toThrow(/not found/);
    await expect(missing.get()).rejects.toThrow(/not found/);
    expect(sent.filter((p) => p === 'call')).toHaveLength(1);
    expect(sent.filter((p) => p === 'query')).toHaveLength(1);
  });
});
