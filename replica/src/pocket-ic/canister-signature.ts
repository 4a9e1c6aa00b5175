// PocketIC's `/verify_signature`: checks a canister signature (interface spec, "Canister
// signatures"), the kind Internet Identity issues. The public key names a canister and a seed;
// the signature is a certificate whose `canister/<id>/certified_data` is the root hash of a tree
// holding `sig/<sha256(seed)>/<sha256(message)>`. Answers as PocketIC's main.rs `verify_signature`
// does: 200 `{"Ok": null}`, 406 when the signature does not verify, 400 when a key cannot be read.
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, fromHex } from '../ic/bytes.ts';
import { decodeCbor, type CborMap } from '../certification/cbor.ts';
import { lookupPath, reconstruct, type HashTree } from '../certification/hash-tree.ts';
import { BLS_DER_PREFIX, verifyStateRoot } from '../certification/keys.ts';

/** DER AlgorithmIdentifier of canister signatures: OID 1.3.6.1.4.1.56387.1.2 (interface spec). */
const CANISTER_SIGNATURE_ALGORITHM = fromHex('300c060a2b0601040183b8430102');
/** A BLS12-381 G2 public key after its DER prefix. */
const BLS_KEY_BYTES = 96;

export type VerifyResult = { status: 200; body: { Ok: null } } | { status: 400 | 406; body: { Err: string } };

class Invalid extends Error {}

/** Reads one DER element (tag, then a short or long length): its content and what follows. */
function derElement(bytes: Uint8Array, at: number, tag: number): { content: Uint8Array; end: number } {
  if (bytes[at] !== tag) throw new Invalid(`expected DER tag 0x${tag.toString(16)} at byte ${at}`);
  let length = bytes[at + 1];
  let start = at + 2;
  if (length === undefined) throw new Invalid('truncated DER');
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) throw new Invalid('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | (bytes[start + i] ?? 0);
    start += count;
  }
  if (start + length > bytes.length) throw new Invalid('truncated DER');
  return { content: bytes.subarray(start, start + length), end: start + length };
}

/** The canister id and seed of a DER canister-signature public key. */
function canisterPublicKey(der: Uint8Array): { canisterId: Uint8Array; seed: Uint8Array } {
  const outer = derElement(der, 0, 0x30);
  if (outer.end !== der.length) throw new Invalid('trailing bytes after the public key');
  const algorithm = outer.content.subarray(0, CANISTER_SIGNATURE_ALGORITHM.length);
  if (!equalBytes(algorithm, CANISTER_SIGNATURE_ALGORITHM)) throw new Invalid('not a canister signature public key (OID 1.3.6.1.4.1.56387.1.2)');
  const bits = derElement(outer.content, CANISTER_SIGNATURE_ALGORITHM.length, 0x03).content;
  if (bits[0] !== 0) throw new Invalid('the key bit string has unused bits');
  const raw = bits.subarray(1);
  const idLength = raw[0];
  if (idLength === undefined || 1 + idLength > raw.length) throw new Invalid('the key does not hold a canister id');
  return { canisterId: raw.subarray(1, 1 + idLength), seed: raw.subarray(1 + idLength) };
}

export function verifyCanisterSignature(message: Uint8Array, signature: Uint8Array, publicKeyDer: Uint8Array, rootKeyDer: Uint8Array): VerifyResult {
  let key: { canisterId: Uint8Array; seed: Uint8Array };
  try {
    key = canisterPublicKey(publicKeyDer);
  } catch (error) {
    return { status: 400, body: { Err: `Failed to parse DER encoded public key: ${(error as Error).message}` } };
  }
  if (rootKeyDer.length !== BLS_DER_PREFIX.length + BLS_KEY_BYTES || !equalBytes(rootKeyDer.subarray(0, BLS_DER_PREFIX.length), BLS_DER_PREFIX)) {
    return { status: 400, body: { Err: 'Failed to parse DER encoded root public key: not a DER BLS12-381 public key' } };
  }
  const failed = (why: string): VerifyResult => ({ status: 406, body: { Err: `Canister signature verification failed: ${why}` } });
  try {
    const sig = decodeCbor(signature) as CborMap;
    const certificateBytes = sig.certificate;
    const sigTree = sig.tree as unknown as HashTree;
    if (!(certificateBytes instanceof Uint8Array) || !Array.isArray(sigTree)) return failed('the signature is not CBOR {certificate, tree}');
    const certificate = decodeCbor(certificateBytes) as CborMap;
    const tree = certificate.tree as unknown as HashTree;
    if (!Array.isArray(tree) || !(certificate.signature instanceof Uint8Array)) return failed('the certificate is not CBOR {tree, signature}');
    // Our replica signs every subnet with its root key; certificates with a subnet delegation come
    // from a real multi-key IC, which we do not verify here.
    if (certificate.delegation !== undefined) return failed('certificates with a subnet delegation are not supported by this server');
    if (!verifyStateRoot(rootKeyDer, reconstruct(tree), certificate.signature)) return failed('the certificate signature does not verify with the root key');
    const certified = lookupPath(['canister', key.canisterId, 'certified_data'], tree);
    if (certified.status !== 'found' || !(certified.value instanceof Uint8Array))
      return failed("the certificate does not contain the canister's certified data");
    if (!equalBytes(certified.value, reconstruct(sigTree))) return failed("the signature tree's root hash is not the canister's certified data");
    const entry = lookupPath(['sig', sha256(key.seed), sha256(message)], sigTree);
    if (entry.status !== 'found') return failed('the signature tree has no entry for this seed and message');
    return { status: 200, body: { Ok: null } };
  } catch (error) {
    return failed((error as Error).message);
  }
}
