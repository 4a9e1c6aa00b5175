// Principals (interface spec: index.md#principal, #id-classes, #textual-ids) as the replica holds
// them: raw bytes. The textual form (CRC-32 + base32, grouped by 5) is @dfinity/principal's, the
// same code the agents run; this module adds the strict parsing a server needs (one sentence per
// kind of mistake) and the id classes the replica creates.

import { base32Decode, Principal } from '@dfinity/principal';
import { sha224 } from '@noble/hashes/sha2.js';
import { concatBytes } from './bytes.ts';

/** The anonymous principal: the single byte 0x04. */
export const ANONYMOUS_PRINCIPAL = Uint8Array.of(0x04);

/** The management canister's id, `aaaaa-aa`: the empty byte string. */
export const MANAGEMENT_CANISTER_ID = new Uint8Array(0);

/** The management canister's id in textual form, how the scheduler names canisters. */
export const MANAGEMENT_CANISTER_TEXT = 'aaaaa-aa';

const BASE32 = /^[a-z2-7]*$/;

export function principalToText(bytes: Uint8Array): string {
  return Principal.fromUint8Array(bytes).toText();
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
  if (!BASE32.test(compact)) throw new Error(`"${text}" is not a principal: it has characters outside the base32 alphabet`);
  const decoded = base32Decode(compact);
  // 4 bytes of checksum, then at most 29 bytes of id.
  if (decoded.length < 4 || decoded.length > 33) throw new Error(`"${text}" is not a principal: wrong length`);
  const bytes = decoded.slice(4);
  const canonical = principalToText(bytes);
  if (canonical !== text) throw new Error(`"${text}" is not a principal: its checksum or grouping is wrong (expected ${canonical})`);
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
