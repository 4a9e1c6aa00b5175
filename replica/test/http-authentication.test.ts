// Sender authentication against envelopes signed by the real identity classes of
// @dfinity/identity 3.4.3 (Ed25519, ECDSA P-256 via WebCrypto, delegation chains),
// @dfinity/identity-secp256k1, and a WebAuthn assertion built the way a passkey makes one.

import { describe, expect, it } from 'vitest';
import { Cbor, SignIdentity, type HttpAgentRequest } from '@dfinity/agent';
import { DelegationChain, DelegationIdentity, ECDSAKeyIdentity, Ed25519KeyIdentity } from '@dfinity/identity';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { Principal } from '@dfinity/principal';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from '../src/ic/bytes.ts';
import { EMPTY_SUBTREE, fullTree, reconstruct, setPath, stateLeaf } from '../src/certification/hash-tree.ts';
import { EMPTY_STATE, withCanister, withTime } from '../src/certification/state-tree.ts';
import { certificateFor, signState } from '../src/certification/certificate.ts';
import { canisterIdFromNumber, selfAuthenticatingPrincipal } from '../src/ic/principal.ts';
import { domainSeparator, hashOfMap } from '../src/certification/representation-independent-hash.ts';
import { decodeCbor, encodeCbor, type CborMap } from '../src/certification/cbor.ts';
import { requestIdOf } from '../src/certification/representation-independent-hash.ts';
import { subnetKeys } from '../src/certification/keys.ts';
import { AuthenticationError, authenticateEnvelope } from '../src/http/authentication.ts';
import { portableSignatureVerifiers } from '../src/http/crypto.ts';

const keys = subnetKeys();
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const canister = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');

async function signedEnvelope(identity: SignIdentity | DelegationIdentity, canisterId = canister) {
  const content = {
    request_type: 'call',
    canister_id: canisterId,
    method_name: 'greet',
    arg: new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0, 0]),
    sender: identity.getPrincipal(),
    ingress_expiry: nowNs() + 60_000_000_000n,
  };
  const request = { request: { method: 'POST', headers: {} }, endpoint: 'call', body: content } as unknown as HttpAgentRequest;
  const transformed = (await identity.transformRequest(request)) as { body: unknown };
  return decodeCbor(Cbor.encode(transformed.body)) as CborMap;
}

function check(envelope: CborMap) {
  const content = envelope.content as CborMap;
  return authenticateEnvelope(envelope, content, requestIdOf(content), { nowNs: nowNs(), rootKeyDer: keys.rootKeyDer });
}

describe('sender authentication', () => {
  it('accepts Ed25519, secp256k1 and ECDSA P-256 (WebCrypto) senders', async () => {
    for (const identity of [Ed25519KeyIdentity.generate(), Secp256k1KeyIdentity.generate(), await ECDSAKeyIdentity.generate()]) {
      const envelope = await signedEnvelope(identity);
      expect(Principal.fromUint8Array(check(envelope).sender).toText()).toBe(identity.getPrincipal().toText());
    }
  });

  it('accepts the anonymous sender without keys and refuses keys with it', () => {
    const content = {
      request_type: 'query',
      sender: Uint8Array.of(4),
      ingress_expiry: 1n,
      canister_id: new Uint8Array(),
      method_name: 'x',
      arg: new Uint8Array(),
    };
    expect(check({ content }).sender).toEqual(Uint8Array.of(4));
    expect(() => check({ content, sender_sig: new Uint8Array(64) })).toThrow(/anonymous requests/);
  });

  it('refuses a wrong signature, saying which request id it was checked against', async () => {
    const envelope = await signedEnvelope(Ed25519KeyIdentity.generate());
    (envelope.sender_sig as Uint8Array)[0] ^= 1;
    expect(() => check(envelope)).toThrow(AuthenticationError);
    expect(() => check(envelope)).toThrow(/invalid signature: sender_sig does not verify over the request id 0x[0-9a-f]{64}/);
  });

  it('refuses a sender that does not match the key', async () => {
    const envelope = await signedEnvelope(Ed25519KeyIdentity.generate());
    (envelope.content as CborMap).sender = Ed25519KeyIdentity.generate().getPrincipal().toUint8Array();
    expect(() => check(envelope)).toThrow(/does not match sender_pubkey, whose principal is/);
  });

  it('accepts a delegation chain as auth-client builds it, and enforces its targets', async () => {
    const user = Ed25519KeyIdentity.generate();
    const session = await ECDSAKeyIdentity.generate();
    const chain = await DelegationChain.create(user, session.getPublicKey(), new Date(Date.now() + 3600_000), { targets: [canister] });
    const identity = DelegationIdentity.fromDelegation(session, chain);
    const result = check(await signedEnvelope(identity));
    expect(Principal.fromUint8Array(result.sender).toText()).toBe(user.getPrincipal().toText());
    expect(result.targets?.map((t) => Principal.fromUint8Array(t).toText())).toEqual([canister.toText()]);
  });

  it('refuses an expired delegation with the moment it expired', async () => {
    const user = Ed25519KeyIdentity.generate();
    const session = Ed25519KeyIdentity.generate();
    const chain = await DelegationChain.create(user, session.getPublicKey(), new Date(Date.now() - 1000));
    const envelope = await signedEnvelope(DelegationIdentity.fromDelegation(session, chain));
    expect(() => check(envelope)).toThrow(/delegation 1 of 1 expired at 20\d\d-.*sign in again/);
  });

  it('refuses a delegation signed by another key', async () => {
    const session = Ed25519KeyIdentity.generate();
    const chain = await DelegationChain.create(Ed25519KeyIdentity.generate(), session.getPublicKey(), new Date(Date.now() + 60_000));
    const forged = DelegationChain.fromDelegations(chain.delegations, Ed25519KeyIdentity.generate().getPublicKey().toDer());
    const envelope = await signedEnvelope(DelegationIdentity.fromDelegation(session, forged));
    expect(() => check(envelope)).toThrow(/delegation 1 of 1 has an invalid signature/);
  });

  describe('signature verifications per request are bounded, as on the IC', () => {
    /** A chain of `length` Ed25519 delegations k0 → k1 → … → k(length); `last` replaces the final key. */
    async function chainOf(length: number, options: { lastKey?: Ed25519KeyIdentity; lastExpiry?: Date } = {}) {
      const keys = Array.from({ length: length + 1 }, () => Ed25519KeyIdentity.generate());
      if (options.lastKey) keys[length] = options.lastKey;
      let chain: DelegationChain | undefined;
      for (let i = 0; i < length; i++) {
        const expiry = i === length - 1 && options.lastExpiry ? options.lastExpiry : new Date(Date.now() + 3600_000);
        chain = await DelegationChain.create(keys[i], keys[i + 1].getPublicKey(), expiry, { previous: chain });
      }
      return { envelope: await signedEnvelope(DelegationIdentity.fromDelegation(keys[length], chain!)), root: keys[0] };
    }
    /** Checks the envelope with verifiers that count how often they run. */
    function counted(envelope: CborMap): { calls: number; outcome: unknown } {
      let calls = 0;
      const verifiers = {
        ed25519: (signature: Uint8Array, message: Uint8Array, der: Uint8Array, raw: Uint8Array) => {
          calls++;
          return portableSignatureVerifiers.ed25519(signature, message, der, raw);
        },
        ecdsa: () => false,
      };
      const content = envelope.content as CborMap;
      let outcome: unknown;
      try {
        outcome = authenticateEnvelope(envelope, content, requestIdOf(content), { nowNs: nowNs(), rootKeyDer: keys.rootKeyDer, verifiers });
      } catch (e) {
        outcome = e;
      }
      return { calls, outcome };
    }

    it("accepts 20 delegations (21 verifications) and refuses 21 before verifying anything, with the IC's error", async () => {
      const ok = counted((await chainOf(20)).envelope);
      expect(ok.outcome).not.toBeInstanceOf(Error);
      expect(ok.calls).toBe(21);
      const long = counted((await chainOf(21)).envelope);
      expect(long.calls).toBe(0);
      expect(String(long.outcome)).toContain('Chain of delegations is too long: got 21 delegations, but at most 20 are allowed.');
    });

    it('refuses a chain expired or cyclic at its end without verifying any of its signatures', async () => {
      const expired = counted((await chainOf(20, { lastExpiry: new Date(Date.now() - 1000) })).envelope);
      expect(String(expired.outcome)).toMatch(/delegation 20 of 20 expired/);
      expect(expired.calls).toBe(0);
      const root = Ed25519KeyIdentity.generate();
      const keys = [root, ...Array.from({ length: 19 }, () => Ed25519KeyIdentity.generate()), root];
      let chain: DelegationChain | undefined;
      for (let i = 0; i < 20; i++)
        chain = await DelegationChain.create(keys[i], keys[i + 1].getPublicKey(), new Date(Date.now() + 3600_000), { previous: chain });
      const cyclic = counted(await signedEnvelope(DelegationIdentity.fromDelegation(root, chain!)));
      expect(String(cyclic.outcome)).toMatch(/Chain of delegations contains at least one cycle/);
      expect(cyclic.calls).toBe(0);
    });
  });

  it('accepts a WebAuthn (passkey) signature as Internet Identity sends it', async () => {
    const secret = p256.utils.randomSecretKey();
    const point = p256.getPublicKey(secret, false);
    // DER-wrapped COSE key (index.md#webauthn): EC2, ES256, P-256, x, y.
    const cose = fromHex('a5010203262001215820');
    const coseKey = concatBytes(cose, point.slice(1, 33), fromHex('225820'), point.slice(33));
    const der = concatBytes(fromHex('305e300c060a2b0601040183b8430101034e00'), coseKey);
    class PasskeyIdentity extends SignIdentity {
      getPublicKey() {
        return { toDer: () => der, derKey: der, rawKey: der } as any;
      }
      async sign(payload: Uint8Array) {
        const challenge = Buffer.from(payload).toString('base64url');
        const clientDataJson = JSON.stringify({ type: 'webauthn.get', challenge, origin: 'http://localhost' });
        const authenticatorData = new Uint8Array(37).fill(5);
        const message = concatBytes(authenticatorData, sha256(utf8(clientDataJson)));
        const signature = p256.sign(message, secret, { format: 'der', lowS: false });
        return encodeCbor({ authenticator_data: authenticatorData, client_data_json: clientDataJson, signature }) as any;
      }
    }
    const identity = new PasskeyIdentity();
    const result = check(await signedEnvelope(identity));
    expect(Principal.fromUint8Array(result.sender).toText()).toBe(identity.getPrincipal().toText());
  });
});

describe('canister signatures (what Internet Identity signs delegations with)', () => {
  const canisterId = canisterIdFromNumber(7);
  const seed = new Uint8Array(32).fill(11);
  // SubjectPublicKeyInfo with OID 1.3.6.1.4.1.56387.1.2 and |canister id| · canister id · seed.
  const raw = concatBytes(Uint8Array.of(canisterId.length), canisterId, seed);
  const der = concatBytes(fromHex('303c300c060a2b0601040183b8430102032c00'), raw);

  async function envelopeSignedByCanister(tamper = false) {
    const session = Ed25519KeyIdentity.generate();
    const delegation = { pubkey: new Uint8Array(session.getPublicKey().toDer()), expiration: nowNs() + 3_600_000_000_000n };
    const payload = concatBytes(domainSeparator('ic-request-auth-delegation'), hashOfMap(delegation));
    const sigTree = fullTree(setPath(EMPTY_SUBTREE, [utf8('sig'), sha256(seed), sha256(tamper ? utf8('other') : payload)], stateLeaf(new Uint8Array())));
    const state = withTime(withCanister(EMPTY_STATE, canisterId, { certifiedData: reconstruct(sigTree), controllers: [], metadata: [] }), nowNs());
    const certificate = certificateFor(signState(keys, state, 1), [[utf8('canister'), canisterId, utf8('certified_data')]]);
    const content = {
      request_type: 'call',
      canister_id: canisterId,
      method_name: 'm',
      arg: new Uint8Array(),
      sender: selfAuthenticatingPrincipal(der),
      ingress_expiry: nowNs() + 60_000_000_000n,
    };
    const requestId = requestIdOf(content);
    return {
      content,
      sender_pubkey: der,
      sender_delegation: [{ delegation, signature: encodeCbor({ certificate, tree: sigTree as any }) }],
      sender_sig: new Uint8Array(await session.sign(concatBytes(domainSeparator('ic-request'), requestId))),
    } as CborMap;
  }

  it('accepts a delegation signed by a canister, as its self-authenticating principal', async () => {
    const envelope = await envelopeSignedByCanister();
    expect(toHex(check(envelope).sender)).toBe(toHex(selfAuthenticatingPrincipal(der)));
  });

  it('refuses one whose signature tree signs a different payload', async () => {
    const envelope = await envelopeSignedByCanister(true);
    expect(() => check(envelope)).toThrow(/delegation 1 of 1 has an invalid signature/);
  });
});

describe('the node:crypto signature checks the server installs', () => {
  it('agree with the portable ones on valid, tampered, high-S and malformed input', async () => {
    const { nodeSignatureVerifiers: node } = await import('../src/http/node-crypto.ts');
    const { secp256k1 } = await import('@noble/curves/secp256k1.js');
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    const message = utf8('a payload to sign');
    const tampered = utf8('a payload to sigN');

    const edSecret = ed25519.utils.randomSecretKey();
    const edRaw = ed25519.getPublicKey(edSecret);
    const edDer = concatBytes(fromHex('302a300506032b6570032100'), edRaw);
    const edSig = ed25519.sign(message, edSecret);
    expect(node.ed25519(edSig, message, edDer, edRaw)).toBe(true);
    expect(node.ed25519(edSig, tampered, edDer, edRaw)).toBe(false);

    for (const [curve, impl, prefix] of [
      ['p256', p256, '3059301306072a8648ce3d020106082a8648ce3d030107034200'],
      ['secp256k1', secp256k1, '3056301006072a8648ce3d020106052b8104000a034200'],
    ] as const) {
      const secret = impl.utils.randomSecretKey();
      const raw = impl.getPublicKey(secret, false);
      const der = concatBytes(fromHex(prefix), raw);
      const low = impl.sign(message, secret) as Uint8Array;
      // The other S of the same signature (n - s): WebCrypto produces such signatures half the time.
      const n = impl.Point.Fn.ORDER;
      const s = BigInt('0x' + toHex(low.slice(32)));
      const high = concatBytes(low.slice(0, 32), fromHex((n - s).toString(16).padStart(64, '0')));
      for (const sig of [low, high]) {
        expect(node.ecdsa(curve, sig, message, der, raw)).toBe(true);
        expect(node.ecdsa(curve, sig, tampered, der, raw)).toBe(false);
      }
    }
    const badPoint = concatBytes(fromHex('3059301306072a8648ce3d020106082a8648ce3d030107034200'), Uint8Array.of(4), new Uint8Array(64).fill(1));
    expect(() => node.ecdsa('p256', new Uint8Array(64), message, badPoint, badPoint.slice(-65))).toThrow();
  });
});

describe('the portable ed25519 check (a sender key decoded once, multiplied through a table from its second use)', () => {
  it("answers as @noble/curves' ed25519.verify does on valid, altered and malformed signatures, first and later uses alike", async () => {
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    const { ed25519Verify } = await import('../src/http/crypto.ts');
    const L = ed25519.Point.Fn.ORDER;
    const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    const secret = ed25519.utils.randomSecretKey();
    const raw = ed25519.getPublicKey(secret);
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    // A small-order key (y = 0: a point of order 4, which ZIP-215 accepts) and a y that is no point.
    const smallOrder = fromHex('0000000000000000000000000000000000000000000000000000000000000000');
    const notAPoint = fromHex('0200000000000000000000000000000000000000000000000000000000000000');
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [];
    for (let i = 0; i < 6; i++) {
      const message = utf8(`payload ${i}`);
      const sig = ed25519.sign(message, secret);
      const s = BigInt('0x' + toHex(sig.slice(32).reverse()));
      cases.push(
        [sig, message, raw],
        [sig, utf8(`payload ${i}!`), raw],
        [sig, message, other],
        [concatBytes(sig.slice(0, 32), le(s + L)), message, raw], // S >= L
        [concatBytes(Uint8Array.of(sig[0] ^ 1), sig.slice(1)), message, raw], // another R
        [concatBytes(notAPoint, sig.slice(32)), message, raw], // R no point
        [sig, message, notAPoint],
        [concatBytes(smallOrder, le(0n)), message, smallOrder],
        [sig.slice(0, 63), message, raw],
      );
    }
    let valid = 0;
    for (const [sig, message, key] of cases) {
      let expected: boolean | string;
      try {
        expected = ed25519.verify(sig, message, key);
      } catch (error) {
        expected = (error as Error).message;
      }
      let actual: boolean | string;
      try {
        actual = ed25519Verify(sig, message, key);
      } catch (error) {
        actual = (error as Error).message;
      }
      expect(actual).toBe(expected);
      if (actual === true) valid++;
    }
    expect(valid).toBeGreaterThanOrEqual(12);
  });
});
