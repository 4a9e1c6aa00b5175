// The dev identity provider's delegations, checked against independent implementations: the
// agent's request-id hashing (hash_of_map), the replica's signature checker (what the IC does)
// and @dfinity/identity, which builds the identity auth-client hands to the site.
import { describe, expect, it } from 'vitest';
import { requestIdOf } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { Delegation, DelegationChain, DelegationIdentity, ECDSAKeyIdentity } from '@dfinity/identity';
import { verifySignature } from '@scaling-wg/replica/http';
import {
  MAX_TIME_TO_LIVE_NS,
  delegationHash,
  delegationPayload,
  generateUserKey,
  leb128,
  principalText,
  selfAuthenticatingPrincipal,
  sha224,
  signDelegation,
} from './delegation.ts';

const nowNs = 1_764_300_000_000_000_000n;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('dev identity provider delegations', () => {
  it('encodes nats as unsigned LEB128 (spec example 624485 = e5 8e 26)', () => {
    expect(hex(leb128(624485n))).toBe('e58e26');
    expect(hex(leb128(0n))).toBe('00');
  });

  it('computes SHA-224 like the standard (FIPS 180-4 "abc" vector)', () => {
    expect(hex(sha224(new TextEncoder().encode('abc')))).toBe('23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7');
    expect(hex(sha224(new Uint8Array(0)))).toBe('d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f');
  });

  it('hashes the delegation map exactly as the agent hashes a request', async () => {
    const pubkey = new Uint8Array(91).fill(7);
    expect(hex(await delegationHash(pubkey, nowNs))).toBe(hex(requestIdOf({ pubkey, expiration: nowNs })));
  });

  it('signs a delegation the replica accepts and caps the lifetime at 30 days', async () => {
    const { keyPair, publicKeyDer } = await generateUserKey();
    expect(hex(publicKeyDer.subarray(0, 26))).toBe('3059301306072a8648ce3d020106082a8648ce3d030107034200');
    const session = await ECDSAKeyIdentity.generate();
    const sessionDer = new Uint8Array(session.getPublicKey().toDer());
    const signed = await signDelegation(keyPair.privateKey, sessionDer, 10n ** 20n, nowNs);
    expect(signed.delegation.expiration).toBe(nowNs + MAX_TIME_TO_LIVE_NS);
    const payload = await delegationPayload(sessionDer, signed.delegation.expiration);
    const context = { nowNs, rootKeyDer: new Uint8Array(133) };
    expect(verifySignature(publicKeyDer, signed.signature, payload, context)).toBe(true);
    const tampered = await delegationPayload(sessionDer, signed.delegation.expiration + 1n);
    expect(verifySignature(publicKeyDer, signed.signature, tampered, context)).toBe(false);
  });

  it('yields the principal auth-client derives from the chain', async () => {
    const { keyPair, publicKeyDer } = await generateUserKey();
    const session = await ECDSAKeyIdentity.generate();
    const sessionDer = new Uint8Array(session.getPublicKey().toDer());
    const signed = await signDelegation(keyPair.privateKey, sessionDer, undefined, BigInt(Date.now()) * 1_000_000n);
    // What auth-client does with the success message (its login event handler).
    const chain = DelegationChain.fromDelegations(
      [{ delegation: new Delegation(signed.delegation.pubkey, signed.delegation.expiration), signature: signed.signature as never }],
      publicKeyDer,
    );
    const identity = DelegationIdentity.fromDelegation(session, chain);
    expect(selfAuthenticatingPrincipal(publicKeyDer)).toBe(identity.getPrincipal().toText());
    expect(identity.getPrincipal().toText()).toBe(Principal.selfAuthenticating(publicKeyDer).toText());
  });

  it('writes principals in the textual form', () => {
    expect(principalText(new Uint8Array([4]))).toBe('2vxsx-fae');
    expect(principalText(new Uint8Array(0))).toBe('aaaaa-aa');
  });
});
