// The cryptography the HTTP interface uses, passed in as an option (HttpInterfaceOptions.crypto)
// rather than swapped process-wide: the portable implementations (@noble/curves) run anywhere,
// a Web Worker included; the Node server passes node:crypto's (node-crypto.ts), which give the
// same answers several times faster. Two interfaces in one process can use different ones.

import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { signResponse, type SubnetKeys } from '../certification/keys.ts';

/**
 * Plain-signature checks. ECDSA signatures are r·s over SHA-256(message), high or low S
 * (WebCrypto produces both).
 */
export interface SignatureVerifiers {
  ed25519(signature: Uint8Array, message: Uint8Array, publicKeyDer: Uint8Array, rawKey: Uint8Array): boolean;
  ecdsa(curve: 'p256' | 'secp256k1', signature: Uint8Array, message: Uint8Array, publicKeyDer: Uint8Array, rawKey: Uint8Array): boolean;
}

export interface HttpCrypto {
  /** Checks the senders' signatures (Ed25519, ECDSA) on requests and delegations. */
  signatureVerifiers: SignatureVerifiers;
  /** Makes the node's Ed25519 signer for query responses from the subnet's keys. */
  responseSigner(keys: SubnetKeys): (responseHash: Uint8Array) => Uint8Array;
}

type EdPoint = typeof ed25519.Point.BASE;
const EdPoint = ed25519.Point;
/** Decoded sender keys (null: not a point); a key seen twice gets a multiplication table. */
const edKeys = new Map<string, { point: EdPoint | null; uses: number }>();
const ED_KEYS_KEPT = 256;
/** Window of a sender key's table: 65 windows of 8 points, built in about as many additions as one uncached multiplication. */
const ED_KEY_WINDOW = 4;

function edKey(rawKey: Uint8Array): EdPoint | null {
  let id = '';
  for (const b of rawKey) id += String.fromCharCode(b);
  let entry = edKeys.get(id);
  if (!entry) {
    let point: EdPoint | null = null;
    try {
      point = EdPoint.fromBytes(rawKey, true);
    } catch {
      // not a point: every signature under it fails
    }
    if (edKeys.size >= ED_KEYS_KEPT) edKeys.delete(edKeys.keys().next().value!);
    edKeys.set(id, (entry = { point, uses: 0 }));
  }
  if (++entry.uses === 2) entry.point?.precompute(ED_KEY_WINDOW);
  return entry.point;
}

/**
 * ed25519.verify of @noble/curves (RFC 8032 with ZIP-215's decoding, the cofactored equation
 * [8][S]B = [8]R + [8][k]A, its defaults for ed25519), with the sender's key decoded once and,
 * from its second request on, multiplied through a precomputed table: a page's agent signs
 * every call with the same key, and [k]A was most of the check's time. Same answers (a test
 * compares them on valid, altered and malformed signatures).
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, rawKey: Uint8Array): boolean {
  if (signature.length !== 64 || rawKey.length !== 32) return ed25519.verify(signature, message, rawKey);
  const A = edKey(rawKey);
  if (!A) return false;
  const r = signature.subarray(0, 32);
  let R: EdPoint;
  let SB: EdPoint;
  try {
    R = EdPoint.fromBytes(r, true);
    SB = EdPoint.BASE.multiplyUnsafe(littleEndian(signature.subarray(32)));
  } catch {
    return false;
  }
  const k = EdPoint.Fn.create(littleEndian(sha512.create().update(r).update(rawKey).update(message).digest()));
  return R.add(A.multiplyUnsafe(k)).subtract(SB).clearCofactor().is0();
}

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

export const portableSignatureVerifiers: SignatureVerifiers = {
  ed25519: (signature, message, _der, rawKey) => ed25519Verify(signature, message, rawKey),
  ecdsa: (curve, signature, message, _der, rawKey) => (curve === 'p256' ? p256 : secp256k1).verify(signature, message, rawKey, { lowS: false }),
};

/** @noble/curves only: no platform API, so it runs in browsers, workers and Node alike. */
export const portableCrypto: HttpCrypto = {
  signatureVerifiers: portableSignatureVerifiers,
  responseSigner: (keys) => (hash) => signResponse(keys, hash),
};
