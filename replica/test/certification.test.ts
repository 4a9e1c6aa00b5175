// The certification building blocks, checked against the agents' own implementations:
// @dfinity/agent 3.4.3 and @icp-sdk/core 6.1.0 decode, hash, reconstruct and verify what we build.

import { describe, expect, it } from 'vitest';
import * as agent from '@dfinity/agent';
import * as core from '@icp-sdk/core/agent';
import { Principal as CorePrincipal } from '@icp-sdk/core/principal';
import { Principal } from '@dfinity/principal';
import { Ed25519PublicKey } from '@dfinity/identity';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { fromHex, toHex, utf8, concatBytes } from '../src/ic/bytes.ts';
import { CborDecodeError, decodeCbor, encodeCbor } from '../src/certification/cbor.ts';
import { hashOfMap, requestIdOf } from '../src/certification/representation-independent-hash.ts';
import { EMPTY_SUBTREE, lookupPath, reconstruct, setPath, stateLeaf, witness, digestOf } from '../src/certification/hash-tree.ts';
import { subnetKeys, signResponse, signStateRoot, verifyStateRoot } from '../src/certification/keys.ts';
import { hashToG1 } from '../src/certification/hash-to-g1.ts';
import { domainSeparator } from '../src/certification/representation-independent-hash.ts';
import { EMPTY_STATE, withCanister, withRequestStatus, withSubnet, withTime } from '../src/certification/state-tree.ts';
import { certificateFor, signState } from '../src/certification/certificate.ts';
import { Certifier } from '../src/certification/certifier.ts';
import { canisterIdFromNumber, principalFromText, principalToText, selfAuthenticatingPrincipal } from '../src/ic/principal.ts';

const keys = subnetKeys();
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

describe('CBOR', () => {
  it('starts every message with the self-describe tag and round-trips through the agent decoder', () => {
    const value = { a: new Uint8Array([1, 2, 3]), b: 'text', c: 1_700_000_000_000_000_000n, d: [1, [2, 3]], e: 0 };
    const bytes = encodeCbor(value);
    expect(toHex(bytes.slice(0, 3))).toBe('d9d9f7');
    const decoded = agent.Cbor.decode(bytes) as Record<string, unknown>;
    expect(decoded.a).toEqual(new Uint8Array([1, 2, 3]));
    expect(decoded.b).toBe('text');
    expect(BigInt(decoded.c as bigint)).toBe(1_700_000_000_000_000_000n);
    expect(decoded.d).toEqual([1, [2, 3]]);
  });

  it('encodes integers and text at every head width byte for byte as the agent does', () => {
    // Each width of the head (inline, 1, 2, 4 and 8 bytes) at its edges, as number and bigint;
    // text that is ASCII, not ASCII, and on either side of the short-string path.
    const integers = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -256, -257, -(2 ** 32), -(2 ** 32) - 1];
    const texts = [
      '',
      'a',
      'request_status',
      'x'.repeat(23),
      'x'.repeat(24),
      'y'.repeat(63),
      'y'.repeat(64),
      'z'.repeat(300),
      'é',
      'processing ✓',
      `${'a'.repeat(62)}é`,
      '\u007f',
    ];
    for (const value of [...integers, ...integers.map(BigInt), 2n ** 64n - 1n, ...texts, { [texts[9]]: texts[10], a: [texts[7], 65536] }]) {
      const ours = encodeCbor(value);
      // The agent's encoder writes bigints as tagged bignums; its own integer form is a number.
      const theirs = new Uint8Array(agent.Cbor.encode(typeof value === 'bigint' && value < 2n ** 53n && value > -(2n ** 53n) ? Number(value) : value));
      expect(
        toHex(ours),
        JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      ).toBe(toHex(theirs));
      expect(decodeCbor(ours)).toEqual(
        typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value,
      );
    }
  });

  it('decodes what the agent encodes into plain Uint8Arrays', () => {
    const encoded = agent.Cbor.encode({ content: { sender: Principal.anonymous(), arg: new Uint8Array([9]), n: 5n } });
    const decoded = decodeCbor(Buffer.from(encoded)) as any;
    expect(decoded.content.sender).toEqual(Uint8Array.of(4));
    expect(decoded.content.sender.constructor).toBe(Uint8Array);
    expect(decoded.content.arg.constructor).toBe(Uint8Array);
    expect(decoded.content.n).toBe(5);
  });

  it.each([
    ['empty input', '', /the body is empty/],
    ['truncated byte string', 'd9d9f74401', /claims 4 bytes but only 1 remain/],
    ['trailing bytes', '0000', /1 unexpected bytes after the value/],
    ['a float', 'fb3ff0000000000000', /floating-point/],
    ['an unknown tag', 'c074323031', /tag 0 is not used/],
    ['indefinite length', '9f00ff', /indefinite-length/],
    ['non-text map key', 'a10102', /map keys must be text/],
    ['duplicate key', 'a2616101616102', /duplicate map key "a"/],
    ['huge declared length', '5bffffffffffffffff', /larger than the whole input/],
  ])('refuses %s with a clear message', (_name, hex, message) => {
    expect(() => decodeCbor(fromHex(hex))).toThrow(CborDecodeError);
    expect(() => decodeCbor(fromHex(hex))).toThrow(message);
  });

  it('refuses absurd nesting without overflowing the stack', () => {
    const deep = new Uint8Array(100_000).fill(0x81);
    expect(() => decodeCbor(deep)).toThrow(/nesting deeper/);
  });
});

describe('representation-independent hash', () => {
  it('matches the spec example request id', () => {
    const id = requestIdOf({
      request_type: 'call',
      sender: Uint8Array.of(4),
      ingress_expiry: 1685570400000000000n,
      canister_id: fromHex('00000000000004d2'),
      method_name: 'hello',
      arg: concatBytes(utf8('DIDL'), Uint8Array.of(0, 0xfd, 0x2a)),
    });
    expect(toHex(id)).toBe('1d1091364d6bb8a6c16b203ee75467d59ead468f523eb058880ae8ec80e2b101');
  });

  it('agrees with both agents on a request with nonce, paths and nested maps', () => {
    const content = {
      request_type: 'read_state',
      sender: Principal.fromText('2vxsx-fae'),
      ingress_expiry: 1_800_000_000_000_000_000n,
      nonce: new Uint8Array([1, 2, 3, 4]),
      paths: [[utf8('request_status'), new Uint8Array(32).fill(7)], [utf8('time')]],
      nested: { x: 624485n, y: 'z' },
    };
    const ours = requestIdOf(decodeCbor(agent.Cbor.encode(content)) as any);
    expect(toHex(ours)).toBe(toHex(agent.requestIdOf(content as any)));
    expect(toHex(ours)).toBe(toHex(core.requestIdOf(content as any)));
    expect(toHex(hashOfMap({ a: 0 }))).toBe(toHex(agent.hashOfMap({ a: 0 })));
  });
});

describe('hash tree', () => {
  let tree = EMPTY_SUBTREE;
  // Fixed-length labels, like request ids and canister ids: the agents compare labels with a
  // helper (any byte greater => greater) that misjudges a label against its proper prefixes.
  const labels = Array.from({ length: 200 }, (_, i) => utf8(`key-${String((i * 7919) % 1000).padStart(4, '0')}`));
  for (const [i, l] of labels.entries()) tree = setPath(tree, [utf8('data'), l], stateLeaf(utf8(`value ${i}`)));
  tree = setPath(tree, [utf8('other')], stateLeaf(utf8('x')));

  it('witnesses reconstruct to the root hash, as the agent computes it', async () => {
    const w = witness(tree, [
      [utf8('data'), labels[17]],
      [utf8('data'), utf8('missing')],
    ]);
    expect(toHex(reconstruct(w))).toBe(toHex(digestOf(tree)));
    expect(toHex(await agent.reconstruct(w as any))).toBe(toHex(digestOf(tree)));
    expect(toHex(await core.reconstruct(w as any))).toBe(toHex(digestOf(tree)));
  });

  it('proves presence and absence to the agent lookup', () => {
    const w = witness(tree, [[utf8('data'), labels[17]], [utf8('data'), utf8('key-5000')], [utf8('zzz')]]);
    const found = agent.lookup_path(['data', labels[17]], w as any);
    expect(found.status).toBe('Found');
    expect(found.status === 'Found' && new TextDecoder().decode(found.value as Uint8Array)).toBe('value 17');
    expect(agent.lookup_path(['data', 'key-5000'], w as any).status).toBe('Absent');
    expect(core.lookup_path(['data', 'key-5000'], w as any).status).toBe('Absent');
    expect(agent.lookup_path(['zzz'], w as any).status).toBe('Absent');
    expect(lookupPath(['data', labels[18]], w).status).toBe('unknown');
    expect(lookupPath(['data', 'key-5000'], w).status).toBe('absent');
  });

  it('keeps old versions valid after changes (persistent)', () => {
    const before = digestOf(tree);
    const changed = setPath(tree, [utf8('data'), labels[3]], undefined);
    expect(toHex(digestOf(tree))).toBe(toHex(before));
    expect(toHex(digestOf(changed))).not.toBe(toHex(before));
    const restored = setPath(changed, [utf8('data'), labels[3]], stateLeaf(utf8('value 3')));
    expect(toHex(digestOf(restored))).toBe(toHex(before));
  });
});

describe('certificates', () => {
  const canisterId = canisterIdFromNumber(1);
  let state = withSubnet(EMPTY_STATE, {
    subnetId: keys.subnetId,
    publicKeyDer: keys.rootKeyDer,
    canisterRanges: [[canisterIdFromNumber(0), canisterIdFromNumber(0xfffff)]],
    nodes: [{ nodeId: keys.nodeId, publicKeyDer: keys.nodePublicKeyDer }],
  });
  const requestId = new Uint8Array(32).fill(1);
  state = withRequestStatus(state, requestId, { status: 'replied', reply: utf8('DIDL') });
  state = withRequestStatus(state, new Uint8Array(32).fill(2), {
    status: 'rejected',
    rejectCode: 4,
    rejectMessage: 'no',
    errorCode: 'IC0406',
  });
  state = withCanister(state, canisterId, {
    certifiedData: new Uint8Array(32).fill(9),
    moduleHash: new Uint8Array(32).fill(3),
    controllers: [Uint8Array.of(4)],
    metadata: [{ name: 'candid:service', isPublic: true, content: utf8('service : {}') }],
  });
  state = withTime(state, nowNs());
  const signed = signState(keys, state, 1);

  it('verify in @dfinity/agent with the served root key', async () => {
    const bytes = certificateFor(signed, [
      [utf8('request_status'), requestId],
      [utf8('canister'), canisterId, utf8('controllers')],
    ]);
    const cert = await agent.Certificate.create({ certificate: bytes, rootKey: keys.rootKeyDer, canisterId: Principal.fromUint8Array(canisterId) });
    const status = agent.lookupResultToBuffer(cert.lookup_path(['request_status', requestId, 'status']));
    expect(new TextDecoder().decode(status)).toBe('replied');
    const controllers = agent.Cbor.decode(agent.lookupResultToBuffer(cert.lookup_path(['canister', canisterId, 'controllers']))!);
    expect(controllers).toEqual([Uint8Array.of(4)]);
  });

  it('verify in @icp-sdk/core and reveal the subnet as the query verifier needs it', async () => {
    const bytes = certificateFor(signed, [[utf8('subnet')]]);
    const cert = await core.Certificate.create({
      certificate: bytes,
      rootKey: keys.rootKeyDer,
      principal: { canisterId: CorePrincipal.fromUint8Array(canisterId) },
    });
    const subnet = CorePrincipal.fromUint8Array(keys.subnetId);
    expect(core.check_canister_ranges({ canisterId: CorePrincipal.fromUint8Array(canisterId), subnetId: subnet, tree: cert.cert.tree })).toBe(true);
    const nodeKey = core.lookupResultToBuffer(cert.lookup_path(['subnet', keys.subnetId, 'node', keys.nodeId, 'public_key']));
    expect(toHex(nodeKey!)).toBe(toHex(keys.nodePublicKeyDer));
  });

  it('are refused when the signature does not match the tree', async () => {
    const other = signState(subnetKeys(), state, 1);
    const bytes = certificateFor({ ...signed, signature: other.signature }, [[utf8('time')]]);
    await expect(agent.Certificate.create({ certificate: bytes, rootKey: keys.rootKeyDer, canisterId: Principal.fromUint8Array(canisterId) })).rejects.toThrow(
      /signature/i,
    );
  });

  it('persist before an in-thread signer, after handing the hash to a concurrent one, and wait for both', async () => {
    for (const concurrentSigner of [false, true]) {
      const order: string[] = [];
      let finishWrite: () => void = () => {};
      const signer = async (hash: Uint8Array) => {
        order.push('sign');
        return signStateRoot(keys, hash);
      };
      const certifier = new Certifier(keys, state, nowNs, signer, { concurrentSigner });
      certifier.beforeRound = () => void order.push('tree');
      certifier.persist = () => {
        order.push('persist');
        return new Promise<void>((resolve) => (finishWrite = resolve));
      };
      let released = false;
      const version = certifier.update((t) => withRequestStatus(t, new Uint8Array(32).fill(7), { status: 'replied', reply: Uint8Array.of(1) }));
      const signed = certifier.certified(version).then((s) => ((released = true), s));
      for (let i = 0; i < 100 && order.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(order).toEqual(concurrentSigner ? ['tree', 'sign', 'persist'] : ['persist', 'tree', 'sign']);
      // Signed, not yet persisted: nothing is released.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(released).toBe(false);
      finishWrite();
      const { rootHash, signature } = await signed;
      expect(verifyStateRoot(keys.rootKeyDer, rootHash, signature)).toBe(true);
    }
  });

  it('batch concurrent requests into one signature', async () => {
    const certifier = new Certifier(keys, state, nowNs);
    let rounds = 0;
    certifier.beforeRound = () => {
      rounds++;
    };
    const versions = Array.from({ length: 20 }, (_, i) =>
      certifier.update((t) => withRequestStatus(t, new Uint8Array(32).fill(100 + i), { status: 'replied', reply: Uint8Array.of(i) })),
    );
    const results = await Promise.all(versions.map((v) => certifier.certified(v)));
    expect(rounds).toBe(1);
    expect(new Set(results.map((r) => r.signature)).size).toBe(1);
  });
});

describe('keys and principals', () => {
  it('derive the subnet id the agent derives from the root key', () => {
    expect(Principal.selfAuthenticating(keys.rootKeyDer).toText()).toBe(principalToText(keys.subnetId));
    expect(principalToText(canisterIdFromNumber(1))).toBe('rrkah-fqaaa-aaaaa-aaaaq-cai');
    expect(toHex(principalFromText('rrkah-fqaaa-aaaaa-aaaaq-cai'))).toBe(toHex(canisterIdFromNumber(1)));
    expect(principalToText(new Uint8Array())).toBe('aaaaa-aa');
    expect(() => principalFromText('rrkah-fqaaa-aaaaa-aaaaq-caj')).toThrow(/checksum/);
    expect(principalToText(selfAuthenticatingPrincipal(keys.nodePublicKeyDer))).toBe(principalToText(keys.nodeId));
  });

  it('sign query responses the way the agent verifies them', () => {
    const hash = agent.hashOfMap({ status: 'replied', reply: { arg: utf8('DIDL') }, timestamp: 5n, request_id: new Uint8Array(32) });
    const sig = signResponse(keys, hash);
    const raw = Ed25519PublicKey.fromDer(keys.nodePublicKeyDer).rawKey;
    expect(ed25519.verify(sig, concatBytes(agent.IC_RESPONSE_DOMAIN_SEPARATOR, hash), raw)).toBe(true);
  });
});

/** x² of BLS12-381: where the signer's GLV split of the secret carries over. */
const X_SQUARED = 0xd201000000010000n ** 2n;

describe('state root signatures', () => {
  it("hash to G1 as @noble/curves' hash_to_curve does, on many messages", () => {
    const short = bls12_381.shortSignatures;
    // Random messages of many lengths, the empty one, and the state-root shape (separator · 32 bytes).
    const messages = [
      new Uint8Array(0),
      ...Array.from({ length: 300 }, (_, i) => crypto.getRandomValues(new Uint8Array(i % 97))),
      ...Array.from({ length: 100 }, () => concatBytes(domainSeparator('ic-state-root'), crypto.getRandomValues(new Uint8Array(32)))),
    ];
    for (const message of messages) {
      const ours = hashToG1(message);
      const reference = short.hash(message);
      expect(ours.equals(reference), toHex(message)).toBe(true);
      expect(toHex(ours.toBytes(true))).toBe(toHex(reference.toBytes(true)));
    }
    // Another DST goes through too (noble's hasher with the same DST override).
    const other = 'QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_';
    expect(hashToG1(utf8('abc'), other).equals(bls12_381.G1.hashToCurve(utf8('abc'), { DST: other }))).toBe(true);
  });

  it("are byte for byte what @noble/curves' own sign and encoding give, and verify in @dfinity/agent", async () => {
    const short = bls12_381.shortSignatures;
    const separator = domainSeparator('ic-state-root');
    // Random keys and roots, and the edge scalars (1, r - 1: the GLV split's extremes).
    const order = bls12_381.fields.Fr.ORDER;
    const secretOf = (n: bigint) => fromHex(n.toString(16).padStart(64, '0'));
    const secrets = [
      secretOf(1n),
      secretOf(2n),
      secretOf(order - 1n),
      secretOf(order / 2n),
      secretOf(X_SQUARED - 1n),
      secretOf(X_SQUARED),
      secretOf(X_SQUARED + 1n),
      ...Array.from({ length: 40 }, () => crypto.getRandomValues(new Uint8Array(32))),
    ];
    for (const secret of secrets) {
      const k = subnetKeys(secret);
      // The root key is the one @noble/curves derives from the secret.
      expect(toHex(k.rootKeyDer.slice(-96))).toBe(toHex(short.getPublicKey(k.rootSecretKey).toBytes(true)));
      const root = crypto.getRandomValues(new Uint8Array(32));
      const signature = signStateRoot(k, root);
      const reference = short.sign(short.hash(concatBytes(separator, root)), k.rootSecretKey).toBytes(true);
      expect(toHex(signature)).toBe(toHex(reference));
      expect(verifyStateRoot(k.rootKeyDer, root, signature)).toBe(true);
      expect(await agent.blsVerify(k.rootKeyDer.slice(-96), signature, concatBytes(separator, root))).toBe(true);
    }
  });
});

describe('subnet keys from stored secrets', () => {
  it('are the same keys every time they are loaded', () => {
    const again = subnetKeys(keys.rootSecretKey, keys.nodeSecretKey);
    expect(toHex(again.rootKeyDer)).toBe(toHex(keys.rootKeyDer));
    expect(toHex(again.nodeId)).toBe(toHex(keys.nodeId));
  });
});
