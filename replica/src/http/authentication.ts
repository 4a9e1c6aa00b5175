// Sender authentication (https-interface.md#authentication, index.md#signatures,
// abstract-behavior.md verify_envelope): anonymous, Ed25519, ECDSA P-256 and secp256k1, WebAuthn
// (as Internet Identity signs), canister signatures, and delegation chains with expiry and targets.
// Pure (no Node APIs), so the same checks can run in a browser replica.

import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, fromUtf8, toHex } from '../ic/bytes.ts';
import { decodeCbor, type CborMap, type CborValue } from '../certification/cbor.ts';
import { lookupPath, reconstruct, type HashTree } from '../certification/hash-tree.ts';
import { verifyStateRoot } from '../certification/keys.ts';
import { ANONYMOUS_PRINCIPAL, principalToText, selfAuthenticatingPrincipal } from '../ic/principal.ts';
import { domainSeparator, hashOfMap } from '../certification/representation-independent-hash.ts';
import { portableSignatureVerifiers, type SignatureVerifiers } from './crypto.ts';
import { MAX_REQUEST_CBOR_ITEMS } from './constants.ts';

export type { SignatureVerifiers } from './crypto.ts';

const REQUEST_SEPARATOR = domainSeparator('ic-request');
const DELEGATION_SEPARATOR = domainSeparator('ic-request-auth-delegation');
/** MAXIMUM_NUMBER_OF_DELEGATIONS of the IC's ingress validator (rs/validator/src/ingress_validation.rs), which the interface spec's "Authentication" section states. */
const MAX_DELEGATIONS = 20;
/** MAXIMUM_NUMBER_OF_TARGETS_PER_DELEGATION, same source. */
const MAX_TARGETS = 1000;

/** A request whose signature, keys or delegations do not check out (HTTP 400 Bad Request). */
export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

export interface AuthenticationContext {
  /** Current time in ns: delegations must not have expired. */
  nowNs: bigint;
  /** DER root key, to check canister signatures' certificates. */
  rootKeyDer: Uint8Array;
  /** Ed25519/ECDSA checks (HttpInterfaceOptions.crypto). Default: the portable @noble/curves ones. */
  verifiers?: SignatureVerifiers;
}

export interface AuthenticatedSender {
  sender: Uint8Array;
  /** Canister ids the delegations allow; undefined = unrestricted. */
  targets: Uint8Array[] | undefined;
}

// ---------------------------------------------------------------------------------------------
// Public keys: DER SubjectPublicKeyInfo parsing, just enough for the schemes the IC allows.

const OID = {
  ed25519: '2b6570',
  ecPublicKey: '2a8648ce3d0201',
  p256: '2a8648ce3d030107',
  secp256k1: '2b8104000a',
  cose: '2b0601040183b8430101',
  canisterSignature: '2b0601040183b8430102',
};

interface DerElement {
  tag: number;
  content: Uint8Array;
  end: number;
}
function readDer(bytes: Uint8Array, offset: number): DerElement {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let start = offset + 2;
  if (length === undefined) throw new Error('truncated');
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 3) throw new Error('bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | bytes[start + i];
    start += count;
  }
  if (start + length > bytes.length) throw new Error('truncated');
  return { tag, content: bytes.subarray(start, start + length), end: start + length };
}

export type PublicKey =
  | { scheme: 'ed25519'; key: Uint8Array }
  | { scheme: 'ecdsa-p256' | 'ecdsa-secp256k1'; key: Uint8Array }
  | { scheme: 'webauthn'; cose: CborMap }
  | { scheme: 'canister-signature'; canisterId: Uint8Array; seed: Uint8Array };

export function parsePublicKey(der: Uint8Array): PublicKey {
  let algorithm: string;
  let parameters: string | undefined;
  let key: Uint8Array;
  try {
    const spki = readDer(der, 0);
    if (spki.tag !== 0x30 || spki.end !== der.length) throw new Error('not a sequence');
    const algo = readDer(spki.content, 0);
    const bits = readDer(spki.content, algo.end);
    if (algo.tag !== 0x30 || bits.tag !== 0x03 || bits.content[0] !== 0) throw new Error('bad structure');
    const oid = readDer(algo.content, 0);
    algorithm = toHex(oid.content);
    if (oid.end < algo.content.length) {
      const params = readDer(algo.content, oid.end);
      if (params.tag === 0x06) parameters = toHex(params.content);
    }
    key = bits.content.slice(1);
  } catch {
    throw new AuthenticationError('sender_pubkey is not a DER-encoded public key (SubjectPublicKeyInfo)');
  }
  switch (algorithm) {
    case OID.ed25519:
      if (key.length !== 32) throw new AuthenticationError('an Ed25519 public key must have 32 bytes');
      return { scheme: 'ed25519', key };
    case OID.ecPublicKey:
      if (key.length !== 65 || key[0] !== 4) {
        throw new AuthenticationError('ECDSA public keys must be uncompressed points (0x04 · x · y)');
      }
      if (parameters === OID.p256) return { scheme: 'ecdsa-p256', key };
      if (parameters === OID.secp256k1) return { scheme: 'ecdsa-secp256k1', key };
      throw new AuthenticationError('ECDSA keys must be on P-256 or secp256k1');
    case OID.cose: {
      let cose: CborValue;
      try {
        cose = decodeCbor(key, { integerKeys: true, maxItems: MAX_REQUEST_CBOR_ITEMS });
      } catch (e) {
        throw new AuthenticationError(`the WebAuthn public key is not a COSE key: ${(e as Error).message}`);
      }
      if (cose === null || typeof cose !== 'object' || Array.isArray(cose) || cose instanceof Uint8Array) {
        throw new AuthenticationError('the WebAuthn public key is not a COSE key map');
      }
      return { scheme: 'webauthn', cose };
    }
    case OID.canisterSignature: {
      const length = key[0];
      if (length === undefined || 1 + length > key.length) {
        throw new AuthenticationError('a canister signature public key must start with the canister id length');
      }
      return { scheme: 'canister-signature', canisterId: key.slice(1, 1 + length), seed: key.slice(1 + length) };
    }
    default:
      throw new AuthenticationError(
        `unsupported public key algorithm (OID ${algorithm}); the IC accepts Ed25519, ECDSA P-256/secp256k1, WebAuthn and canister signatures`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Signatures

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function verifyWebAuthn(cose: CborMap, signature: Uint8Array, payload: Uint8Array): boolean {
  const sig = decodeCbor(signature, { maxItems: MAX_REQUEST_CBOR_ITEMS });
  if (sig === null || typeof sig !== 'object' || Array.isArray(sig) || sig instanceof Uint8Array) {
    throw new AuthenticationError('a WebAuthn signature must be a CBOR map');
  }
  const authenticatorData = sig.authenticator_data;
  const clientDataRaw = sig.client_data_json;
  const innerSignature = sig.signature;
  if (!(authenticatorData instanceof Uint8Array) || !(innerSignature instanceof Uint8Array)) {
    throw new AuthenticationError('a WebAuthn signature needs authenticator_data and signature blobs');
  }
  // The spec says text; some clients send the JSON's bytes. Accept both.
  const clientDataJson = typeof clientDataRaw === 'string' ? clientDataRaw : clientDataRaw instanceof Uint8Array ? fromUtf8(clientDataRaw) : undefined;
  if (clientDataJson === undefined) throw new AuthenticationError('a WebAuthn signature needs client_data_json');
  let clientData: { challenge?: unknown };
  try {
    clientData = JSON.parse(clientDataJson);
  } catch {
    throw new AuthenticationError('WebAuthn client_data_json is not JSON');
  }
  if (clientData.challenge !== base64url(payload)) {
    throw new AuthenticationError('the WebAuthn challenge is not the base64url encoding of the signed payload');
  }
  const message = concatBytes(authenticatorData, sha256(new TextEncoder().encode(clientDataJson)));
  const kty = cose['1'];
  const alg = cose['3'];
  if (kty === 2 && alg === -7 && cose['-1'] === 1) {
    const x = cose['-2'];
    const y = cose['-3'];
    if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array)) throw new AuthenticationError('COSE EC2 key lacks x or y');
    const point = concatBytes(Uint8Array.of(4), x, y);
    return p256.verify(innerSignature, message, point, { format: 'der', lowS: false });
  }
  if (kty === 1 && alg === -8) {
    const x = cose['-2'];
    if (!(x instanceof Uint8Array)) throw new AuthenticationError('COSE OKP key lacks x');
    return ed25519.verify(innerSignature, message, x);
  }
  throw new AuthenticationError(`unsupported WebAuthn key (COSE kty ${String(kty)}, alg ${String(alg)}); use ES256 or EdDSA`);
}

function verifyCanisterSignature(
  key: { canisterId: Uint8Array; seed: Uint8Array },
  signature: Uint8Array,
  payload: Uint8Array,
  context: AuthenticationContext,
): boolean {
  const sig = decodeCbor(signature, { maxItems: MAX_REQUEST_CBOR_ITEMS }) as CborMap;
  const certificate = decodeCbor(sig?.certificate as Uint8Array, { maxItems: MAX_REQUEST_CBOR_ITEMS }) as CborMap;
  const tree = sig?.tree as unknown as HashTree;
  if (!certificate || !tree) throw new AuthenticationError('a canister signature needs a certificate and a tree');
  const certTree = certificate.tree as unknown as HashTree;
  if (certificate.delegation) throw new AuthenticationError('certificates with subnet delegations are not used on this replica');
  if (!verifyStateRoot(context.rootKeyDer, reconstruct(certTree), certificate.signature as Uint8Array)) return false;
  const data = lookupPath(['canister', key.canisterId, 'certified_data'], certTree);
  if (data.status !== 'found' || !(data.value instanceof Uint8Array) || !equalBytes(data.value, reconstruct(tree))) return false;
  const leaf = lookupPath(['sig', sha256(key.seed), sha256(payload)], tree);
  return leaf.status === 'found' && leaf.value instanceof Uint8Array && leaf.value.length === 0;
}

// A session's delegation is the same on every request: remember the ones that verified.
const verifiedDelegations = new Set<string>();

/** Verifies `signature` over `payload` under the DER public key; throws on unusable keys. */
export function verifySignature(publicKeyDer: Uint8Array, signature: Uint8Array, payload: Uint8Array, context: AuthenticationContext): boolean {
  const key = parsePublicKey(publicKeyDer);
  const verifiers = context.verifiers ?? portableSignatureVerifiers;
  try {
    switch (key.scheme) {
      case 'ed25519':
        return signature.length === 64 && verifiers.ed25519(signature, payload, publicKeyDer, key.key);
      case 'ecdsa-p256':
        return signature.length === 64 && verifiers.ecdsa('p256', signature, payload, publicKeyDer, key.key);
      case 'ecdsa-secp256k1':
        return signature.length === 64 && verifiers.ecdsa('secp256k1', signature, payload, publicKeyDer, key.key);
      case 'webauthn':
        return verifyWebAuthn(key.cose, signature, payload);
      case 'canister-signature':
        return verifyCanisterSignature(key, signature, payload, context);
    }
  } catch (error) {
    if (error instanceof AuthenticationError) throw error;
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The envelope

function blobField(map: CborMap, name: string, what: string): Uint8Array {
  const value = map[name];
  if (!(value instanceof Uint8Array)) throw new AuthenticationError(`${what} must have a blob field "${name}"`);
  return value;
}

/**
 * Checks the envelope's authentication and returns the sender and the canisters it may target.
 * `requestId` is the hash of `content`; `content.sender` must be set.
 */
export function authenticateEnvelope(envelope: CborMap, content: CborMap, requestId: Uint8Array, context: AuthenticationContext): AuthenticatedSender {
  const sender = blobField(content, 'sender', 'the request content');
  const pubkey = envelope.sender_pubkey;
  const signature = envelope.sender_sig;
  const delegations = envelope.sender_delegation;

  if (equalBytes(sender, ANONYMOUS_PRINCIPAL)) {
    if (pubkey !== undefined || signature !== undefined || delegations !== undefined) {
      throw new AuthenticationError('anonymous requests (sender 2vxsx-fae) must not carry sender_pubkey, sender_sig or sender_delegation');
    }
    return { sender, targets: undefined };
  }
  if (!(pubkey instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new AuthenticationError(`the sender ${principalToText(sender)} is not anonymous, so the request needs sender_pubkey and sender_sig`);
  }
  const keyPrincipal = selfAuthenticatingPrincipal(pubkey);
  if (!equalBytes(sender, keyPrincipal)) {
    throw new AuthenticationError(`the sender ${principalToText(sender)} does not match sender_pubkey, whose principal is ${principalToText(keyPrincipal)}`);
  }

  // Everything that costs no cryptography is checked first, for the whole chain, as the IC's
  // validator does (rs/validator/src/ingress_validation.rs: length, expiry, cycles and the number
  // of targets before any signature): a request that fails any of them never gets a signature
  // verified, so one request costs at most MAX_DELEGATIONS + 1 verifications (a canister
  // signature is a BLS verification, milliseconds each), and only when its chain is well formed.
  const chain: Array<{ where: string; delegation: CborMap; signature: Uint8Array; nextKey: Uint8Array }> = [];
  let targets: Uint8Array[] | undefined;
  if (delegations !== undefined) {
    if (!Array.isArray(delegations)) throw new AuthenticationError('sender_delegation must be an array');
    if (delegations.length > MAX_DELEGATIONS) {
      throw new AuthenticationError(
        `Invalid delegation: Chain of delegations is too long: got ${delegations.length} delegations, but at most ${MAX_DELEGATIONS} are allowed.`,
      );
    }
    const seen = new Set([toHex(pubkey)]);
    for (const [i, entry] of delegations.entries()) {
      const where = `delegation ${i + 1} of ${delegations.length}`;
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || entry instanceof Uint8Array) {
        throw new AuthenticationError(`${where} is not a map`);
      }
      const delegation = entry.delegation;
      if (delegation === null || typeof delegation !== 'object' || Array.isArray(delegation) || delegation instanceof Uint8Array) {
        throw new AuthenticationError(`${where} lacks its "delegation" map`);
      }
      const nextKey = blobField(delegation, 'pubkey', where);
      const expiration = delegation.expiration;
      if (typeof expiration !== 'number' && typeof expiration !== 'bigint') {
        throw new AuthenticationError(`${where} needs a natural-number expiration (ns since 1970)`);
      }
      const delegationSig = blobField(entry, 'signature', where);
      if (BigInt(expiration) < context.nowNs) {
        const expired = new Date(Number(BigInt(expiration) / 1_000_000n)).toISOString();
        throw new AuthenticationError(`${where} expired at ${expired}; sign in again to get a fresh delegation`);
      }
      if (delegation.targets !== undefined) {
        const list = delegation.targets;
        if (!Array.isArray(list) || !list.every((t) => t instanceof Uint8Array)) {
          throw new AuthenticationError(`${where} has targets that are not a list of canister ids`);
        }
        if (list.length > MAX_TARGETS) {
          throw new AuthenticationError(
            `Invalid delegation: Delegation target error: expected at most ${MAX_TARGETS} targets per delegation, but got ${list.length} (${where})`,
          );
        }
        const allowed = list as Uint8Array[];
        targets = targets === undefined ? allowed : targets.filter((t) => allowed.some((a) => equalBytes(a, t)));
      }
      const hex = toHex(nextKey);
      if (seen.has(hex)) {
        throw new AuthenticationError(
          `Invalid delegation: Chain of delegations contains at least one cycle: first repeating public key encountered ${hex} (${where})`,
        );
      }
      seen.add(hex);
      chain.push({ where, delegation, signature: delegationSig, nextKey });
    }
  }

  let currentKey = pubkey;
  for (const { where, delegation, signature: delegationSig, nextKey } of chain) {
    let delegationHash: Uint8Array;
    try {
      delegationHash = hashOfMap(delegation);
    } catch (error) {
      throw new AuthenticationError(`${where} cannot be hashed: ${(error as Error).message}`);
    }
    const memo = `${toHex(currentKey)}/${toHex(delegationSig)}/${toHex(delegationHash)}`;
    if (!verifiedDelegations.has(memo)) {
      if (!verifySignature(currentKey, delegationSig, concatBytes(DELEGATION_SEPARATOR, delegationHash), context)) {
        throw new AuthenticationError(`${where} has an invalid signature: it was not signed by the key it claims to extend`);
      }
      if (verifiedDelegations.size >= 4096) verifiedDelegations.clear();
      verifiedDelegations.add(memo);
    }
    currentKey = nextKey;
  }

  if (!verifySignature(currentKey, signature, concatBytes(REQUEST_SEPARATOR, requestId), context)) {
    throw new AuthenticationError(
      `invalid signature: sender_sig does not verify over the request id 0x${toHex(requestId)} with the ${
        delegations === undefined ? 'sender' : 'last delegated'
      } key`,
    );
  }
  return { sender, targets };
}
