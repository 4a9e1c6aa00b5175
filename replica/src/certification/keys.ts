// The subnet's keys (certification.md, index.md#signatures): a BLS12-381 threshold-key stand-in
// (min-sig: signatures in G1, 96-byte public keys in G2) that signs certificates, and one ed25519
// node key that signs query responses. Both come from seeds so a state directory can keep them.

import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, fromHex } from '../ic/bytes.ts';
import { multiplyG1, type Affine } from './g1-multiply.ts';
import { hashToG1 } from './hash-to-g1.ts';
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
  const rootPublic = blsPublicKey(rootSecret);
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

/**
 * [sk]G2, compressed: shortSignatures.getPublicKey's bytes. Its multiplication by the generator
 * first builds the generator's table of precomputed multiples, about 0.1 s of a page replica's
 * start (measured in Node and Chromium here), for the one multiplication a start makes; a copy of
 * the generator, which has no table, is multiplied by plain double-and-add in a fifth of that.
 * Variable time, as signStateRoot (whose comment says why that is acceptable for this key).
 */
function blsPublicKey(secret: Uint8Array): Uint8Array {
  let scalar = 0n;
  for (const b of secret) scalar = (scalar << 8n) | BigInt(b);
  const G2 = bls12_381.G2.Point;
  return G2.fromAffine(G2.BASE.toAffine()).multiplyUnsafe(scalar).toBytes(true);
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

/**
 * BLS signature (48 bytes, G1) over `\x0Dic-state-root` · root hash: the same bytes as
 * `shortSignatures.sign(shortSignatures.hash(m), sk).toBytes()` (a test compares them), in about
 * half the time, every certificate paying for one:
 *   - H is hash_to_curve by hash-to-g1.ts: noble's steps, without its subgroup check of a
 *     point that is in G1 by construction;
 *   - the multiplication [sk]H (g1-multiply.ts: Jacobian coordinates, affine tables) uses the
 *     endomorphism of G1 (below) to walk two 128-bit scalars instead of one 255-bit scalar, in
 *     variable time. Variable time leaks the secret key to
 *     whoever can time many signatures precisely; this key is a local replica's development root
 *     key (the IC's own is a threshold key no single machine holds), a choice made for speed;
 *   - H and [sk]H are in G1 by construction (hash_to_curve clears the cofactor, then a multiple),
 *     so the signature is encoded without the subgroup check that Point.toBytes repeats.
 */
export function signStateRoot(keys: SubnetKeys, rootHash: Uint8Array): Uint8Array {
  const message = hashToG1(concatBytes(STATE_ROOT_SEPARATOR, rootHash));
  if (message.is0()) return encodeG1(undefined);
  return encodeG1(multiplyG1(message, scalarOf(keys.rootSecretKey), endomorphismBeta()));
}

const G1 = bls12_381.G1.Point;
const Fp = bls12_381.fields.Fp;
/** |x| of BLS12-381 (x = -0xd201000000010000), the curve's parameter. */
const BLS_X_ABS = 0xd201000000010000n;
/** x², about 2^128: the group order r is x⁴ - x² + 1. */
const X_SQUARED = BLS_X_ABS * BLS_X_ABS;

/**
 * β, a cube root of unity in Fp with φ(P) = (β·Px, Py) = [-x²]P for every P in G1 (-x² is a cube
 * root of unity mod r: (-x²)³ = -x²·x⁴ ≡ -x²(x² - 1) ≡ 1). Found once, on first use, by trying
 * the two primitive roots on the generator rather than written down.
 */
let beta: bigint | undefined;
function endomorphismBeta(): bigint {
  if (beta !== undefined) return beta;
  const p = Fp.ORDER;
  const base = G1.BASE;
  const target = base.multiplyUnsafe(X_SQUARED).negate(); // [-x²]G
  for (let g = 2n; g < 100n; g++) {
    const root = Fp.pow(g, (p - 1n) / 3n);
    if (Fp.eql(root, Fp.ONE)) continue; // g is a cube: try the next one
    for (const candidate of [root, Fp.sqr(root)]) {
      if (new G1(Fp.mul(base.X, candidate), base.Y, base.Z).equals(target)) return (beta = candidate);
    }
  }
  throw new Error('no cube root of unity in Fp matches the G1 endomorphism');
}

function scalarOf(secret: Uint8Array): bigint {
  let n = 0n;
  for (const b of secret) n = (n << 8n) | BigInt(b);
  return n;
}

/** The compressed encoding of a G1 point (the zcash format the IC uses): x, big-endian, with flag bits (compressed, infinity, y's sign). */
function encodeG1(point: Affine | undefined): Uint8Array {
  const out = new Uint8Array(48);
  if (!point) {
    out[0] = 0xc0;
    return out;
  }
  const { x, y } = point;
  let v = x;
  for (let i = 47; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  out[0] |= 0x80;
  // The larger of y and -y is flagged.
  if (y > Fp.ORDER - 1n - y) out[0] |= 0x20;
  return out;
}

export function verifyStateRoot(rootKeyDer: Uint8Array, rootHash: Uint8Array, signature: Uint8Array): boolean {
  const key = rootKeyDer.slice(BLS_DER_PREFIX.length);
  return shortSignatures.verify(signature, shortSignatures.hash(concatBytes(STATE_ROOT_SEPARATOR, rootHash)), key);
}

/** Node signature over `\x0Bic-response` · hash (https-interface.md#http-query). */
export function signResponse(keys: SubnetKeys, responseHash: Uint8Array): Uint8Array {
  return ed25519.sign(concatBytes(RESPONSE_SEPARATOR, responseHash), keys.nodeSecretKey);
}
