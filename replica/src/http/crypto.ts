// The cryptography the HTTP interface uses, passed in as an option (HttpInterfaceOptions.crypto)
// rather than swapped process-wide: the portable implementations (@noble/curves) run anywhere,
// a Web Worker included; the Node server passes node:crypto's (node-crypto.ts), which give the
// same answers several times faster. Two interfaces in one process can use different ones.

import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
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

export const portableSignatureVerifiers: SignatureVerifiers = {
  ed25519: (signature, message, _der, rawKey) => ed25519.verify(signature, message, rawKey),
  ecdsa: (curve, signature, message, _der, rawKey) => (curve === 'p256' ? p256 : secp256k1).verify(signature, message, rawKey, { lowS: false }),
};

/** @noble/curves only: no platform API, so it runs in browsers, workers and Node alike. */
export const portableCrypto: HttpCrypto = {
  signatureVerifiers: portableSignatureVerifiers,
  responseSigner: (keys) => (hash) => signResponse(keys, hash),
};
