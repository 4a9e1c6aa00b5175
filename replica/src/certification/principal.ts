// Principals (index.md#principal, #id-classes, #textual-ids): raw bytes, their textual form
// (CRC-32 + base32, grouped by 5), self-authenticating ids and canister ids.

import { sha224 } from '@noble/hashes/sha2.js';
import { concatBytes } from './bytes.ts';

export const ANONYMOUS_PRINCIPAL = Uint8Array.of(0x04);
export const MANAGEMENT_CANISTER_ID = new Uint8Array(0);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Uint8Array {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error(`"${ch}" is not a base32 character`);
    buffer = ((buffer << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

export function principalToText(bytes: Uint8Array): string {
  const checksum = crc32(bytes);
  const withCrc = concatBytes(
    Uint8Array.of(checksum >>> 24, (checksum >>> 16) & 0xff, (checksum >>> 8) & 0xff, checksum & 0xff),
    bytes,
  );
  return base32(withCrc).match(/.{1,5}/g)!.join('-');
}

// Every request names its canister in the URL: remember recent parses (a few hundred ids at most).
const parsed = new Map<string, Uint8Array>();

/** Parses a textual principal; throws a sentence naming the problem if it is not one. */
export function principalFromText(text: string): Uint8Array {
  const known = parsed.get(text);
  if (known) return known.slice();
  const bytes = parsePrincipalText(text);
  if (parsed.size >= 1024) parsed.clear();
  parsed.set(text, bytes.slice());
  return bytes;
}

function parsePrincipalText(text: string): Uint8Array {
  const compact = text.toLowerCase().replace(/-/g, '');
  let decoded: Uint8Array;
  try {
    decoded = unbase32(compact);
  } catch {
    throw new Error(`"${text}" is not a principal: it has characters outside the base32 alphabet`);
  }
  if (decoded.length < 4 || decoded.length > 33) throw new Error(`"${text}" is not a principal: wrong length`);
  const bytes = decoded.slice(4);
  if (principalToText(bytes) !== text) {
    throw new Error(`"${text}" is not a principal: its checksum or grouping is wrong (expected ${principalToText(bytes)})`);
  }
  return bytes;
}

/** Self-authenticating id of a DER public key: SHA-224(der) · 0x02. */
export function selfAuthenticatingPrincipal(derPublicKey: Uint8Array): Uint8Array {
  return concatBytes(sha224(derPublicKey), Uint8Array.of(0x02));
}

/** Canister id number n: 8 big-endian bytes · 0x01 (an opaque id). */
export function canisterIdFromNumber(n: bigint | number): Uint8Array {
  const out = new Uint8Array(10);
  let v = BigInt(n);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  out[8] = 0x01;
  out[9] = 0x01;
  return out;
}
