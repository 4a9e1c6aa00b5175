// Signing delegations the way the IC checks them, with nothing but WebCrypto, so the same file
// runs in the dev identity provider's page (served with its types stripped) and in Node's tests.
//
// IC interface spec, https-interface.md#authentication: a delegation is the map
// { pubkey: blob, expiration: nat (ns), targets?: [principal] }, signed over
//   "\x1Aic-request-auth-delegation" ‖ hash_of_map(delegation)
// where hash_of_map (#hash-of-map) hashes each field as SHA-256(name) ‖ SHA-256(value encoding),
// sorts those pairs bytewise and hashes their concatenation; a nat is encoded as unsigned LEB128.
// The user key here is ECDSA P-256 (index.md#signatures: DER SubjectPublicKeyInfo, signature =
// raw r‖s over SHA-256 of the payload), which is exactly what WebCrypto's ECDSA/SHA-256 produces.

const DELEGATION_DOMAIN = '\x1Aic-request-auth-delegation';
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** Internet Identity's cap on a delegation's lifetime (30 days), which we keep. */
export const MAX_TIME_TO_LIVE_NS = 30n * 24n * 3600n * 1_000_000_000n;
/** Internet Identity's default when the client asks for none (30 minutes). */
export const DEFAULT_TIME_TO_LIVE_NS = 30n * 60n * 1_000_000_000n;

export interface SignedDelegation {
  delegation: { pubkey: Uint8Array; expiration: bigint };
  signature: Uint8Array;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Unsigned LEB128, the spec's encoding of a nat inside hash_of_map. */
export function leb128(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('leb128 encodes naturals only');
  const bytes: number[] = [];
  do {
    let byte = Number(value & 0x7fn);
    value >>= 7n;
    if (value !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0n);
  return new Uint8Array(bytes);
}

/** hash_of_map for a delegation without targets (the identity provider never restricts targets). */
export async function delegationHash(pubkey: Uint8Array, expiration: bigint): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const fields = await Promise.all(
    [
      ['pubkey', pubkey],
      ['expiration', leb128(expiration)],
    ].map(async ([name, value]) => concat(await sha256(encoder.encode(name as string)), await sha256(value as Uint8Array))),
  );
  fields.sort(compareBytes);
  return sha256(concat(...fields));
}

/** The bytes the user key signs: domain separator ‖ hash_of_map(delegation). */
export async function delegationPayload(pubkey: Uint8Array, expiration: bigint): Promise<Uint8Array> {
  return concat(new TextEncoder().encode(DELEGATION_DOMAIN), await delegationHash(pubkey, expiration));
}

/** A new P-256 user key. Not extractable: the private half never leaves WebCrypto (or IndexedDB). */
export async function generateUserKey(): Promise<{ keyPair: CryptoKeyPair; publicKeyDer: Uint8Array }> {
  const keyPair = (await crypto.subtle.generateKey(ECDSA, false, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKeyDer = new Uint8Array(await crypto.subtle.exportKey('spki', keyPair.publicKey));
  return { keyPair, publicKeyDer };
}

/**
 * Delegates from the user key to `sessionPublicKey` until `nowNs + min(ttl, 30 days)`.
 * Returns the one-element chain Internet Identity returns (no targets: a Principal does not survive postMessage).
 */
export async function signDelegation(
  userKey: CryptoKey,
  sessionPublicKey: Uint8Array,
  timeToLiveNs: bigint | undefined,
  nowNs: bigint,
): Promise<SignedDelegation> {
  const ttl = timeToLiveNs === undefined ? DEFAULT_TIME_TO_LIVE_NS : timeToLiveNs < MAX_TIME_TO_LIVE_NS ? timeToLiveNs : MAX_TIME_TO_LIVE_NS;
  const expiration = nowNs + ttl;
  const payload = await delegationPayload(sessionPublicKey, expiration);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, userKey, payload as BufferSource));
  return { delegation: { pubkey: sessionPublicKey, expiration }, signature };
}

/** The principal the IC derives from a DER public key (index.md#id-classes): SHA-224(der) ‖ 0x02, as text. */
export function selfAuthenticatingPrincipal(publicKeyDer: Uint8Array): string {
  return principalText(concat(sha224(publicKeyDer), new Uint8Array([0x02])));
}

// SHA-224 (FIPS 180-4 §6.3: SHA-256 with other initial values, truncated to 28 bytes). WebCrypto
// has no SHA-224, and the page shows the principal before the visitor approves.
const K = Uint32Array.from(
  '428a2f98 71374491 b5c0fbcf e9b5dba5 3956c25b 59f111f1 923f82a4 ab1c5ed5 d807aa98 12835b01 243185be 550c7dc3 72be5d74 80deb1fe 9bdc06a7 c19bf174 e49b69c1 efbe4786 0fc19dc6 240ca1cc 2de92c6f 4a7484aa 5cb0a9dc 76f988da 983e5152 a831c66d b00327c8 bf597fc7 c6e00bf3 d5a79147 06ca6351 14292967 27b70a85 2e1b2138 4d2c6dfc 53380d13 650a7354 766a0abb 81c2c92e 92722c85 a2bfe8a1 a81a664b c24b8b70 c76c51a3 d192e819 d6990624 f40e3585 106aa070 19a4c116 1e376c08 2748774c 34b0bcb5 391c0cb3 4ed8aa4a 5b9cca4f 682e6ff3 748f82ee 78a5636f 84c87814 8cc70208 90befffa a4506ceb bef9a3f7 c67178f2'
    .split(' ')
    .map((h) => parseInt(h, 16)),
);

export function sha224(message: Uint8Array): Uint8Array {
  const h = Uint32Array.from([0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4]);
  const length = Math.ceil((message.length + 9) / 64) * 64;
  const padded = new Uint8Array(length);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(length - 8, Math.floor((message.length * 8) / 2 ** 32));
  view.setUint32(length - 4, (message.length * 8) >>> 0);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      [hh, g, f, e, d, c, b, a] = [g, f, e, (d + t1) >>> 0, c, b, a, (t1 + t2) >>> 0];
    }
    [a, b, c, d, e, f, g, hh].forEach((x, i) => (h[i] = (h[i] + x) >>> 0));
  }
  const out = new Uint8Array(28);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 7; i++) outView.setUint32(i * 4, h[i]);
  return out;
}

/** Textual principal: base32(crc32(bytes) ‖ bytes), lower case, dashes every 5 characters. */
export function principalText(bytes: Uint8Array): string {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  crc = (crc ^ 0xffffffff) >>> 0;
  const data = concat(new Uint8Array([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]), bytes);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out.match(/.{1,5}/g)!.join('-');
}
