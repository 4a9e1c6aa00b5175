// Node-only speedups for the server edge, passed to HttpInterface as its `crypto` option:
// node:crypto's ed25519 signs query responses ~20x faster than the portable @noble/curves code,
// with identical (deterministic) signatures, and checks senders' signatures with the same answers.

import { createPrivateKey, createPublicKey, hash, sign, verify, type KeyObject } from 'node:crypto';
import type { HttpCrypto, SignatureVerifiers } from './crypto.ts';
import { concatBytes, fromHex, toHex } from '../ic/bytes.ts';
import type { SubnetKeys } from '../certification/keys.ts';
import { domainSeparator } from '../certification/representation-independent-hash.ts';

const PKCS8_ED25519_PREFIX = fromHex('302e020100300506032b657004220420');
const RESPONSE_SEPARATOR = domainSeparator('ic-response');

export function nodeResponseSigner(keys: SubnetKeys): (responseHash: Uint8Array) => Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, keys.nodeSecretKey)), format: 'der', type: 'pkcs8' });
  return (responseHash) => new Uint8Array(sign(null, concatBytes(RESPONSE_SEPARATOR, responseHash), key));
}

/** node:crypto SHA-256 as a Uint8Array-returning function, for certification/sha256.ts. */
export function nodeSha256(data: Uint8Array): Uint8Array {
  const digest = hash('sha256', data, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

// Public keys repeat (a session signs many requests): keep their KeyObjects.
const publicKeys = new Map<string, KeyObject>();
function publicKey(der: Uint8Array): KeyObject {
  const id = toHex(der);
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    if (publicKeys.size >= 4096) publicKeys.clear();
    publicKeys.set(id, key);
  }
  return key;
}

/** node:crypto signature checks for authentication.ts (same answers as the portable ones). */
export const nodeSignatureVerifiers: SignatureVerifiers = {
  ed25519: (signature, message, der) => verify(null, message, publicKey(der), signature),
  ecdsa: (_curve, signature, message, der) => verify('sha256', message, { key: publicKey(der), dsaEncoding: 'ieee-p1363' }, signature),
};

/** node:crypto for HttpInterfaceOptions.crypto (Node only; browsers use the portable default). */
export const nodeCrypto: HttpCrypto = {
  signatureVerifiers: nodeSignatureVerifiers,
  responseSigner: nodeResponseSigner,
};
