// The HTTP interface through both agent generations with default verification (certificates,
// query signatures), in front of a small in-test engine: this file pins the protocol (routes,
// certificates, signatures, refusals). Canister behaviour through the real engine is in
// http-e2e.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actor, HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity, DelegationChain, DelegationIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { HttpAgent as CoreAgent, Actor as CoreActor } from '@icp-sdk/core/agent';
import { Principal as CorePrincipal } from '@icp-sdk/core/principal';
import { toHex } from '../src/ic/bytes.ts';
import { decodeCbor, encodeCbor } from '../src/certification/cbor.ts';
import { lookupPath } from '../src/certification/hash-tree.ts';
import { requestIdOf } from '../src/certification/representation-independent-hash.ts';
import { subnetKeys } from '../src/certification/keys.ts';
import { canisterIdFromNumber, principalToText } from '../src/ic/principal.ts';
import type { CallOutcome, EnginePort } from '../src/http/engine-port.ts';
import { HttpInterface } from '../src/http/interface.ts';
import { startServer } from '../src/http/server.ts';
import { nodeCrypto, nodeResponseSigner } from '../src/http/node-crypto.ts';

const idl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({
    greet: I.Func([I.Text], [I.Text], ['query']),
    inc: I.Func([], [I.Nat], []),
    slowInc: I.Func([], [I.Nat], []),
    fail: I.Func([], [], []),
    whoami: I.Func([], [I.Principal], ['query']),
  });

/** A canister written in JS: enough behaviour to exercise every route. */
class TinyEngine implements EnginePort {
  counter = 0n;
  certifiedData = new Uint8Array(32);
  readonly id = canisterIdFromNumber(1);
  /** The canister's controller: a fixed Ed25519 identity, so tests can act as it. */
  readonly controllerIdentity = Ed25519KeyIdentity.generate();
  readonly controller = this.controllerIdentity.getPrincipal().toUint8Array();
  /** Added to the wall clock, to move replica time forward past retention windows. */
  offsetNs = 0n;
  time = () => BigInt(Date.now()) * 1_000_000n + this.offsetNs;
  canisterRanges = (): Array<[Uint8Array, Uint8Array]> => [[canisterIdFromNumber(0), canisterIdFromNumber(0xfffff)]];
  listCanisters = () => [this.id];
  canisterInfo = (id: Uint8Array) =>
    toHex(id) === toHex(this.id)
      ? {
          certifiedData: this.certifiedData,
          moduleHash: new Uint8Array(32).fill(1),
          controllers: [this.controller],
          metadata: [
            { name: 'candid:service', isPublic: true, content: new TextEncoder().encode('service : {}') },
            { name: 'secret', isPublic: false, content: new TextEncoder().encode('for controllers') },
          ],
        }
      : undefined;
  dataCertificate?: (canisterId: Uint8Array) => Uint8Array | undefined;
  setDataCertificateProvider(provider: (canisterId: Uint8Array) => Uint8Array | undefined) {
    this.dataCertificate = provider;
  }
  async submitCall(call: { methodName: string; sender: Uint8Array }): Promise<CallOutcome> {
    if (call.methodName === 'inc') {
      this.counter++;
      this.certifiedData = new Uint8Array(32).fill(Number(this.counter % 256n));
      return { status: 'replied', reply: new Uint8Array(IDL.encode([IDL.Nat], [this.counter])) };
    }
    if (call.methodName === 'fail') return { status: 'rejected', rejectCode: 4, rejectMessage: 'no thanks', errorCode: 'IC0406' };
    if (call.methodName === 'slowInc') {
      await new Promise((r) => setTimeout(r, 400));
      this.counter++;
      return { status: 'replied', reply: new Uint8Array(IDL.encode([IDL.Nat], [this.counter])) };
    }
    return { status: 'rejected', rejectCode: 5, rejectMessage: `no update method ${call.methodName}`, errorCode: 'IC0536' };
  }
  async queryCall(call: { methodName: string; arg: Uint8Array; sender: Uint8Array }): Promise<CallOutcome> {
    if (call.methodName === 'greet') {
      const [name] = IDL.decode([IDL.Text], call.arg) as [string];
      return { status: 'replied', reply: new Uint8Array(IDL.encode([IDL.Text], [`Hello, ${name}!`])) };
    }
    if (call.methodName === 'whoami') {
      return { status: 'replied', reply: new Uint8Array(IDL.encode([IDL.Principal], [Principal.fromUint8Array(call.sender)])) };
    }
    return { status: 'rejected', rejectCode: 3, rejectMessage: `no query method ${call.methodName}`, errorCode: 'IC0302' };
  }
}

const engine = new TinyEngine();
const keys = subnetKeys();
const api = new HttpInterface({ engine, keys, crypto: nodeCrypto });
let url = '';
let close: () => Promise<void>;
const canisterId = principalToText(engine.id);

beforeAll(async () => {
  ({ url, close } = await startServer({ httpInterface: api, port: 0 }));
});
afterAll(() => close());

const dfinityActor = async (identity?: Ed25519KeyIdentity | DelegationIdentity) => {
  const agent = await HttpAgent.create({ host: url, shouldFetchRootKey: true, identity });
  return Actor.createActor(idl, { agent, canisterId }) as any;
};
const coreActor = async () => {
  const agent = await CoreAgent.create({ host: url, shouldFetchRootKey: true });
  return CoreActor.createActor(idl as any, { agent, canisterId: CorePrincipal.fromText(canisterId) }) as any;
};

describe('through @dfinity/agent 3.4.3 (v3 call, v2/v3 query, verified)', () => {
  it('answers a query with a node signature the agent verifies', async () => {
    expect(await (await dfinityActor()).greet('agent')).toBe('Hello, agent!');
  });

  it('answers an update with a certificate (v3 fast path) and counts once', async () => {
    const actor = await dfinityActor();
    const before = engine.counter;
    expect(await actor.inc()).toBe(before + 1n);
    expect(engine.counter).toBe(before + 1n);
  });

  it('surfaces a canister reject with its code and message', async () => {
    await expect((await dfinityActor()).fail()).rejects.toThrow(/no thanks/);
  });

  it('authenticates a delegation identity as its user principal', async () => {
    const user = Ed25519KeyIdentity.generate();
    const session = Ed25519KeyIdentity.generate();
    const chain = await DelegationChain.create(user, session.getPublicKey(), new Date(Date.now() + 60_000));
    const actor = await dfinityActor(DelegationIdentity.fromDelegation(session, chain));
    expect((await actor.whoami()).toText()).toBe(user.getPrincipal().toText());
    expect(await actor.inc()).toBeGreaterThan(0n);
  });
});

describe('through @icp-sdk/core 6.1.0 (v4 call, v3 query and read_state, verified)', () => {
  it('queries and updates', async () => {
    const actor = await coreActor();
    expect(await actor.greet('core')).toBe('Hello, core!');
    const before = engine.counter;
    expect(await actor.inc()).toBe(before + 1n);
  });

  it('runs 50 concurrent updates under one or a few signatures', async () => {
    const actor = await coreActor();
    const before = engine.counter;
    const results = await Promise.all(Array.from({ length: 50 }, () => actor.inc()));
    expect(new Set(results.map(String)).size).toBe(50);
    expect(engine.counter).toBe(before + 50n);
  });
});

describe('bad input gets a 4xx and a sentence, and the replica keeps answering', () => {
  const post = (path: string, body: Uint8Array<ArrayBuffer> | string, contentType = 'application/cbor') =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': contentType }, body });
  const after = async () => expect(await (await dfinityActor()).greet('still here')).toBe('Hello, still here!');

  it.each([
    ['malformed CBOR', () => post(`/api/v3/canister/${canisterId}/query`, new Uint8Array([0xd9, 0xd9, 0xf7, 0x5b, 1])), 400, /not valid CBOR/],
    ['wrong content type', () => post(`/api/v3/canister/${canisterId}/query`, '{}', 'application/json'), 415, /Content-Type: application\/cbor/],
    ['unknown path', () => post('/api/v9/nothing', new Uint8Array()), 404, /no such endpoint/],
    ['GET on a POST endpoint', () => fetch(`${url}/api/v3/canister/${canisterId}/query`), 405, /takes POST/],
    ['a bad canister id', () => post('/api/v3/canister/not-a-principal/query', encodeCbor({})), 400, /not valid/],
    ['a body that is not an envelope', () => post(`/api/v3/canister/${canisterId}/call`, encodeCbor([1, 2])), 400, /must be a CBOR map/],
    ['a body over 2 MiB', () => post(`/api/v3/canister/${canisterId}/call`, new Uint8Array(2 * 1024 * 1024 + 1)), 413, /ingress limit/],
    [
      'a canister outside the ranges',
      () =>
        post(
          `/api/v3/canister/${principalToText(new Uint8Array(10).fill(0xff))}/query`,
          encodeCbor({
            content: {
              request_type: 'query',
              sender: Uint8Array.of(4),
              ingress_expiry: 1,
              canister_id: new Uint8Array(10).fill(0xff),
              method_name: 'x',
              arg: new Uint8Array(),
            },
          }),
        ),
      400,
      /does not belong to this replica, which hosts/,
    ],
    [
      'a mismatched effective canister id',
      () =>
        post(
          '/api/v3/canister/ryjl3-tyaaa-aaaaa-aaaba-cai/query',
          encodeCbor({
            content: {
              request_type: 'query',
              sender: Uint8Array.of(4),
              ingress_expiry: 1,
              canister_id: engine.id,
              method_name: 'x',
              arg: new Uint8Array(),
            },
          }),
        ),
      400,
      /must equal the request's canister_id/,
    ],
    [
      'an expired request',
      () =>
        post(
          `/api/v2/canister/${canisterId}/call`,
          encodeCbor({
            content: {
              request_type: 'call',
              sender: Uint8Array.of(4),
              ingress_expiry: 1,
              canister_id: engine.id,
              method_name: 'inc',
              arg: new Uint8Array(),
            },
          }),
        ),
      400,
      /^Invalid request expiry: /,
    ],
  ])('%s', async (_name, request, status, message) => {
    const response = await request();
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(message);
    await after();
  });
});

describe('the node:crypto response signer', () => {
  it('produces the same signature as the portable one', async () => {
    const { signResponse } = await import('../src/certification/keys.ts');
    const hash = new Uint8Array(32).fill(3);
    expect(toHex(nodeResponseSigner(keys)(hash))).toBe(toHex(signResponse(keys, hash)));
  });
});

describe('the node:crypto SHA-256', () => {
  it('gives the portable digests', async () => {
    const { sha256 } = await import('@noble/hashes/sha2.js');
    const { nodeSha256 } = await import('../src/http/node-crypto.ts');
    for (const size of [0, 1, 55, 64, 1000]) {
      const data = new Uint8Array(size).map((_, i) => i * 7);
      expect(toHex(nodeSha256(data))).toBe(toHex(sha256(data)));
    }
  });
});

describe('ingress rules and housekeeping', () => {
  const post = (path: string, body: Uint8Array<ArrayBuffer>) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body });
  const callBody = (nonce: number, expiry = engine.time() + 60_000_000_000n) =>
    encodeCbor({
      content: {
        request_type: 'call',
        sender: Uint8Array.of(4),
        ingress_expiry: expiry,
        canister_id: engine.id,
        method_name: 'inc',
        arg: new Uint8Array(IDL.encode([], [])),
        nonce: Uint8Array.of(nonce),
      },
    });
  const readStatus = async (requestId: Uint8Array) => {
    const response = await post(
      `/api/v3/canister/${canisterId}/read_state`,
      encodeCbor({
        content: {
          request_type: 'read_state',
          sender: Uint8Array.of(4),
          ingress_expiry: engine.time() + 60_000_000_000n,
          paths: [[new TextEncoder().encode('request_status'), requestId]],
        },
      }),
    );
    const { certificate } = decodeCbor(new Uint8Array(await response.arrayBuffer())) as any;
    const tree = (decodeCbor(certificate) as any).tree;
    return lookupPath(['request_status', requestId, 'status'], tree);
  };

  it('refuses an expiry too far in the future with the agent-recognised prefix', async () => {
    const response = await post(`/api/v3/canister/${canisterId}/call`, callBody(1, engine.time() + 3_600_000_000_000n));
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/^Invalid request expiry: .* is outside the accepted window/);
  });

  it('keeps a request status for the retention window, then prunes it', async () => {
    const body = callBody(2);
    expect((await post(`/api/v3/canister/${canisterId}/call`, body)).status).toBe(200);
    const requestId = requestIdOf((decodeCbor(body) as any).content);
    const status = await readStatus(requestId);
    expect(status.status === 'found' && new TextDecoder().decode(status.value as Uint8Array)).toBe('replied');
    engine.offsetNs += 6n * 60n * 1_000_000_000n;
    try {
      expect((await readStatus(requestId)).status).toBe('absent');
      expect(api.registry.get(requestId)).toBeUndefined();
    } finally {
      engine.offsetNs = 0n;
    }
  });

  it('answers a browser preflight with CORS headers', async () => {
    const response = await fetch(`${url}/api/v3/canister/${canisterId}/query`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:4321', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/Content-Type/i);
  });

  it('serves subnet read_state with the subnet key and canister ranges', async () => {
    const agent = await CoreAgent.create({ host: url, shouldFetchRootKey: true });
    const subnetId = CorePrincipal.fromUint8Array(keys.subnetId);
    const { verifiedCertificate } = await (agent as any).readState(
      { subnetId },
      { paths: [[new TextEncoder().encode('subnet')], [new TextEncoder().encode('canister_ranges'), keys.subnetId]] },
    );
    const key = verifiedCertificate.lookup_path(['subnet', keys.subnetId, 'public_key']);
    expect(toHex(key.value)).toBe(toHex(keys.rootKeyDer));
    const shard = verifiedCertificate.lookup_path(['canister_ranges', keys.subnetId, canisterIdFromNumber(0)]);
    expect(shard.status).toBe('Found');
  });
});

describe('the worker-thread BLS signer', () => {
  it('signs state roots exactly as the in-process signer does', async () => {
    const { startBlsWorker } = await import('../src/http/bls-worker.ts');
    const { signStateRoot } = await import('../src/certification/keys.ts');
    const worker = await startBlsWorker(keys);
    try {
      const hash = new Uint8Array(32).fill(5);
      expect(toHex(await worker.sign(hash))).toBe(toHex(signStateRoot(keys, hash)));
    } finally {
      await worker.close();
    }
    // Once the worker is gone, signing still works (in-process).
    const hash = new Uint8Array(32).fill(6);
    expect(toHex(await worker.sign(hash))).toBe(toHex(signStateRoot(keys, hash)));
  });
});

describe('calls that outlast the synchronous wait', () => {
  it('answer 202 and are then read by polling, in both agents', async () => {
    // Its own engine: an engine serves one HttpInterface (it keeps that one's data certificates).
    const slowEngine = new TinyEngine();
    const slowApi = new HttpInterface({ engine: slowEngine, keys, syncCallTimeoutMs: 50 });
    const slow = await startServer({ httpInterface: slowApi, port: 0 });
    try {
      const agent = await HttpAgent.create({ host: slow.url, shouldFetchRootKey: true });
      const before = slowEngine.counter;
      expect(await (Actor.createActor(idl, { agent, canisterId }) as any).slowInc()).toBe(before + 1n);
      const core = await CoreAgent.create({ host: slow.url, shouldFetchRootKey: true });
      expect(await (CoreActor.createActor(idl as any, { agent: core, canisterId: CorePrincipal.fromText(canisterId) }) as any).slowInc()).toBe(before + 2n);
    } finally {
      await slow.close();
    }
  });
});

describe('read_state path rules (https-interface.md#http-read-state)', () => {
  const u = (t: string) => new TextEncoder().encode(t);
  const read = async (paths: Uint8Array[][], scope = `canister/${canisterId}`, identity?: Ed25519KeyIdentity) => {
    const agent = await CoreAgent.create({ host: url, shouldFetchRootKey: true, identity: identity as any });
    const target = scope.startsWith('canister')
      ? { canisterId: CorePrincipal.fromText(canisterId) }
      : { subnetId: CorePrincipal.fromUint8Array(keys.subnetId) };
    return (agent as any).readState(target, { paths });
  };

  it('reveal public metadata to anyone and private metadata to controllers only', async () => {
    const { verifiedCertificate } = await read([[u('canister'), engine.id, u('metadata'), u('candid:service')]]);
    expect(new TextDecoder().decode(verifiedCertificate.lookup_path(['canister', engine.id, 'metadata', 'candid:service']).value)).toBe('service : {}');
    await expect(read([[u('canister'), engine.id, u('metadata'), u('secret')]])).rejects.toThrow(/private; only its controllers can read it/);
    const { verifiedCertificate: own } = await read(
      [[u('canister'), engine.id, u('metadata'), u('secret')]],
      `canister/${canisterId}`,
      engine.controllerIdentity,
    );
    expect(new TextDecoder().decode(own.lookup_path(['canister', engine.id, 'metadata', 'secret']).value)).toBe('for controllers');
  });

  it('refuse certified_data, canister paths at the subnet endpoint and unknown roots', async () => {
    const post = (path: string, paths: Uint8Array[][]) =>
      fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/cbor' },
        body: encodeCbor({ content: { request_type: 'read_state', sender: Uint8Array.of(4), ingress_expiry: engine.time() + 60_000_000_000n, paths } }),
      });
    const subnet = `/api/v3/subnet/${principalToText(keys.subnetId)}/read_state`;
    const canister = `/api/v3/canister/${canisterId}/read_state`;
    for (const [path, paths, status, message] of [
      [canister, [[u('canister'), engine.id, u('certified_data')]], 403, /canister paths are module_hash, controllers and metadata/],
      [subnet, [[u('canister'), engine.id, u('module_hash')]], 403, /can only be read at \/api\/v2\|v3\/canister/],
      [canister, [[u('canister_ranges'), keys.subnetId]], 403, /can only be read at \/api\/v3\/subnet/],
      [canister, [[u('nonsense')]], 404, /is not a path of the state tree/],
      [
        canister,
        [
          [u('request_status'), new Uint8Array(32)],
          [u('request_status'), new Uint8Array(32).fill(1)],
        ],
        403,
        /same request id/,
      ],
    ] as const) {
      const response = await post(path, paths as unknown as Uint8Array[][]);
      expect(response.status).toBe(status);
      expect(await response.text()).toMatch(message);
    }
  });
});

describe('data certificates for queries', () => {
  it('are re-signed when certified data changed outside a certified call', async () => {
    await api.certifier.refresh(); // a recent signed state exists, so only the changed data can trigger a new one
    engine.certifiedData = new Uint8Array(32).fill(0xab); // as a timer or the programmatic API would
    let certificate: Uint8Array | undefined;
    const query = engine.queryCall.bind(engine);
    engine.queryCall = async (call) => {
      certificate = engine.dataCertificate?.(engine.id); // what ic0.data_certificate_copy would return
      return query(call);
    };
    try {
      expect(await (await dfinityActor()).greet('cert')).toBe('Hello, cert!');
      const tree = (decodeCbor(certificate!) as any).tree;
      const data = lookupPath(['canister', engine.id, 'certified_data'], tree);
      expect(data.status === 'found' && toHex(data.value as Uint8Array)).toBe('ab'.repeat(32));
    } finally {
      engine.queryCall = query;
    }
  });
});
