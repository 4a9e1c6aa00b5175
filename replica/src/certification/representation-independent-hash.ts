// Representation-independent hashing of structured data (https-interface.md#hash-of-map) and
// request ids (#request-id): the request id is the hash of the request's `content` map.

import { sha256 } from './sha256.ts';
import { compareBytes, concatBytes, sleb128, uleb128, utf8 } from '../ic/bytes.ts';
import type { CborMap, CborValue } from './cbor.ts';

/** Hash of one field value: blobs as-is, text as UTF-8, nats as ULEB128, ints as SLEB128, arrays, maps. */
export function hashValue(value: CborValue): Uint8Array {
  if (value instanceof Uint8Array) return sha256(value);
  if (typeof value === 'string') return sha256(utf8(value));
  if (typeof value === 'number' || typeof value === 'bigint') {
    return sha256(value >= 0 ? uleb128(value) : sleb128(value));
  }
  if (Array.isArray(value)) return sha256(concatBytes(...value.map(hashValue)));
  if (value !== null && typeof value === 'object') return hashOfMap(value);
  throw new TypeError(`the representation-independent hash has no encoding for ${value === null ? 'null' : typeof value}`);
}

// Field names repeat in every request (request_type, sender, …): hash each once.
const nameHashes = new Map<string, Uint8Array>();
function nameHash(name: string): Uint8Array {
  let hash = nameHashes.get(name);
  if (!hash) {
    hash = sha256(utf8(name));
    if (nameHashes.size < 1024) nameHashes.set(name, hash);
  }
  return hash;
}

/** hash_of_map: SHA-256 over the sorted concatenations H(name) · H(value) of the present fields. */
export function hashOfMap(map: CborMap): Uint8Array {
  const pairs: Uint8Array[] = [];
  for (const [name, value] of Object.entries(map)) {
    if (value === undefined) continue;
    pairs.push(concatBytes(nameHash(name), hashValue(value)));
  }
  pairs.sort(compareBytes);
  return sha256(concatBytes(...pairs));
}

/** The request id of a request: hash_of_map of its `content` (nonce and unknown fields included). */
export function requestIdOf(content: CborMap): Uint8Array {
  return hashOfMap(content);
}

/** `domain_sep(s)` of the spec: one length byte, then the ASCII separator. */
export function domainSeparator(name: string): Uint8Array {
  const bytes = utf8(name);
  return concatBytes(Uint8Array.of(bytes.length), bytes);
}
