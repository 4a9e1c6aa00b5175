// The subnet's keys (certification.md, index.md#signatures): a BLS12-381 threshold-key stand-in
// (min-sig: signatures in G1, 96-byte public keys in G2) that signs certificates, and one ed25519
// node key that signs query responses. Both come from seeds so a state directory can keep them.

import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, fromHex } from '../ic/bytes.ts';
import { domainSeparator } from './representation-independent-hash.ts';
import { selfAuthenticatingPrincipal } from '../ic/principal.ts';

/** DER SubjectPublicKeyInfo prefix for a BLS12-381 G2 key (certification.md#certification-encoding). */
export const BLS_DER_PREFIX = fromHex('308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100');
/** DER prefix of an ed25519 public key (RFC 8410). */
export const ED25519_DER_PREFIX = fromHex('302a300506032b6570032100');

const STATE_ROOT_SEPARATOR = domainSeparator('ic-state-root');
const RESPONSE_SEPARATOR = domainSeparator('ic-response');
const shortSignatures = bls12_381.shortSignatures;

export interface SubnetKeys {
  /** 32-byte BLS secret key; persisted so restarts keep the root key. */
  readonly rootSecretKey: Uint8Array;
  /** DER root key (133 bytes), what /api/v2/status serves as `root_key`. */
  readonly rootKeyDer: Uint8Array;
  /** The subnet id: self-authenticating principal of the root key (the agent derives it so). */
  readonly subnetId: Uint8Array;
  readonly nodeSecretKey: Uint8Array;
  readonly nodePublicKeyDer: Uint8Array;
  /** The node id: self-authenticating principal of the node key's DER. */
  readonly nodeId: Uint8Array;
}

export function randomSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** Builds the keys from two 32-byte secrets (random ones when omitted). */
export function subnetKeys(rootSecretKey: Uint8Array = randomSecret(), nodeSecretKey: Uint8Array = randomSecret()): SubnetKeys {
  // Reduce into the scalar field so any 32 random bytes make a valid secret.
  const rootSecret = shortSignatures.lengths.secretKey === 32 ? normalizeBlsSecret(rootSecretKey) : rootSecretKey;
  const rootPublic = shortSignatures.getPublicKey(rootSecret).toBytes(true);
  const rootKeyDer = concatBytes(BLS_DER_PREFIX, rootPublic);
  const nodePublicKeyDer = concatBytes(ED25519_DER_PREFIX, ed25519.getPublicKey(nodeSecretKey));
  return {
    rootSecretKey: rootSecret,
    rootKeyDer,
    subnetId: selfAuthenticatingPrincipal(rootKeyDer),
    nodeSecretKey,
    nodePublicKeyDer,
    nodeId: selfAuthenticatingPrincipal(nodePublicKeyDer),
  };
}

const BLS_ORDER = bls12_381.fields.Fr.ORDER;
function normalizeBlsSecret(secret: Uint8Array): Uint8Array {
  let n = 0n;
  for (const b of secret) n = (n << 8n) | BigInt(b);
  // Idempotent: a valid scalar (1 <= n < order) is kept, so stored keys load unchanged.
  if (n < 1n || n >= BLS_ORDER) n = (n % (BLS_ORDER - 1n)) + 1n;
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** BLS signature (48 bytes, G1) over `\x0Dic-state-root` · root hash. */
export function signStateRoot(keys: SubnetKeys, rootHash: Uint8Array): Uint8Array {
  const message = shortSignatures.hash(concatBytes(STATE_ROOT_SEPARATOR, rootHash));
  return shortSignatures.sign(message, keys.rootSecretKey).toBytes(true);
}

export function verifyStateRoot(rootKeyDer: Uint8Array, rootHash: Uint8Array, signature: Uint8Array): boolean {
  const key = rootKeyDer.slice(BLS_DER_PREFIX.length);
  return shortSignatures.verify(signature, shortSignatures.hash(concatBytes(STATE_ROOT_SEPARATOR, rootHash)), key);
}

/** Node signature over `\x0Bic-response` · hash (https-interface.md#http-query). */
export function signResponse(keys: SubnetKeys, responseHash: Uint8Array): Uint8Array {
  return ed25519.sign(concatBytes(RESPONSE_SEPARATOR, responseHash), keys.nodeSecretKey);
}
