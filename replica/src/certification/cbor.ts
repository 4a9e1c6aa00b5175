// CBOR as the IC uses it (index.md#cbor, https-interface.md#api-cbor): RFC 8949 restricted to
// unsigned/negative integers, byte and text strings, arrays, maps with text keys, true/false/null,
// the self-describe tag 55799 and bignums (tags 2/3). Floats, undefined and other tags are refused:
// the spec forbids floats for integers and the agent's own decoder rejects any other tag.
// Decoded byte strings are plain Uint8Array copies (never Buffer views): Principal.from refuses Buffers.

import { fromUtf8, utf8 } from '../ic/bytes.ts';

export type CborValue = Uint8Array | string | number | bigint | boolean | null | CborValue[] | CborMap;
export interface CborMap {
  [key: string]: CborValue;
}

export const SELF_DESCRIBE_TAG = 55799;
const MAX_DEPTH = 200;

/** Thrown for input that is not CBOR the IC accepts; the message says where and why. */
export class CborDecodeError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`malformed CBOR at byte ${offset}: ${message}`);
    this.name = 'CborDecodeError';
    this.offset = offset;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder

class ByteWriter {
  buffer: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;
  reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
  }
  head(major: number, value: number | bigint): void {
    const m = major << 5;
    // Smallest form for bigints too (RFC 8949 preferred serialization, as the agent writes).
    if (typeof value === 'bigint' && value < 0x100000000n) value = Number(value);
    if (typeof value === 'number' && value < 0x100000000) {
      // Lengths and small integers (nearly every head) without a BigInt: a commit or a
      // certificate encodes thousands of them.
      if (value < 24) return this.byte(m | value);
      this.reserve(5);
      const b = this.buffer;
      let at = this.length;
      if (value < 0x100) {
        b[at++] = m | 24;
      } else if (value < 0x10000) {
        b[at++] = m | 25;
        b[at++] = value >>> 8;
      } else {
        b[at++] = m | 26;
        b[at++] = value >>> 24;
        b[at++] = (value >>> 16) & 0xff;
        b[at++] = (value >>> 8) & 0xff;
      }
      b[at++] = value & 0xff;
      this.length = at;
      return;
    }
    const n = BigInt(value);
    if (n < 0x100n) {
      this.byte(m | 24);
      this.byte(Number(n));
    } else if (n < 0x10000n) {
      this.reserve(3);
      this.byte(m | 25);
      this.byte(Number(n >> 8n));
      this.byte(Number(n & 0xffn));
    } else if (n < 0x100000000n) {
      this.byte(m | 26);
      for (let shift = 24n; shift >= 0n; shift -= 8n) this.byte(Number((n >> shift) & 0xffn));
    } else if (n < 0x10000000000000000n) {
      this.byte(m | 27);
      for (let shift = 56n; shift >= 0n; shift -= 8n) this.byte(Number((n >> shift) & 0xffn));
    } else {
      throw new RangeError(`CBOR head value ${n} does not fit in 64 bits`);
    }
  }
  result(): Uint8Array<ArrayBuffer> {
    return this.buffer.slice(0, this.length);
  }
}

/** Strings shorter than this (map keys, method names, statuses) are tried as ASCII first. */
const ASCII_FAST_PATH = 64;

/**
 * Writes a short string as a CBOR text string when it is all ASCII (its UTF-8 bytes are its
 * char codes), without a TextEncoder call per key; false, with nothing written, otherwise.
 */
function writeAscii(w: ByteWriter, text: string): boolean {
  const start = w.length;
  w.head(3, text.length);
  w.reserve(text.length);
  const b = w.buffer;
  let at = w.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      w.length = start;
      return false;
    }
    b[at++] = c;
  }
  w.length = at;
  return true;
}

function encodeInto(w: ByteWriter, value: CborValue | undefined, depth: number): void {
  if (depth > MAX_DEPTH) throw new RangeError('CBOR value nested too deeply to encode');
  if (value instanceof Uint8Array) {
    w.head(2, value.length);
    w.bytes(value);
  } else if (typeof value === 'string') {
    if (value.length < ASCII_FAST_PATH && writeAscii(w, value)) return;
    const bytes = utf8(value);
    w.head(3, bytes.length);
    w.bytes(bytes);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`CBOR here carries integers only, got ${value}`);
    }
    if (typeof value === 'number' && value >= 0 && value < 0x100000000) return w.head(0, value);
    const n = BigInt(value);
    if (n >= 0n) {
      if (n < 0x10000000000000000n) w.head(0, typeof value === 'number' ? value : n);
      else encodeBignum(w, 2, n);
    } else {
      const m = -1n - n;
      if (m < 0x10000000000000000n) w.head(1, m);
      else encodeBignum(w, 3, m);
    }
  } else if (typeof value === 'boolean') {
    w.byte(value ? 0xf5 : 0xf4);
  } else if (value === null) {
    w.byte(0xf6);
  } else if (Array.isArray(value)) {
    w.head(4, value.length);
    for (const item of value) encodeInto(w, item, depth + 1);
  } else if (typeof value === 'object') {
    // Fields whose value is undefined are omitted: the spec's optional fields are absent, not null.
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    w.head(5, entries.length);
    for (const [key, v] of entries) {
      encodeInto(w, key, depth + 1);
      encodeInto(w, v, depth + 1);
    }
  } else {
    throw new TypeError(`cannot encode ${typeof value} as CBOR`);
  }
}

function encodeBignum(w: ByteWriter, tag: 2 | 3, magnitude: bigint): void {
  let hex = magnitude.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  w.head(6, tag);
  w.head(2, bytes.length);
  w.bytes(bytes);
}

/** Encodes `value` prefixed with the self-describe tag 55799, as every IC message is. */
export function encodeCbor(value: CborValue): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter();
  w.head(6, SELF_DESCRIBE_TAG);
  encodeInto(w, value, 0);
  return w.result();
}

/** Encodes without the self-describe tag (e.g. values inside the state tree's leaves). */
export function encodeCborUntagged(value: CborValue): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter();
  encodeInto(w, value, 0);
  return w.result();
}

// ---------------------------------------------------------------------------------------------
// Decoder

class ByteReader {
  offset = 0;
  readonly input: Uint8Array;
  /** Items still allowed (every value, array element, map key and map value counts one). */
  itemsLeft: number;
  constructor(input: Uint8Array, maxItems = Infinity) {
    this.input = input;
    this.itemsLeft = maxItems;
  }
  fail(message: string, at = this.offset): never {
    throw new CborDecodeError(message, at);
  }
  byte(): number {
    if (this.offset >= this.input.length) this.fail('input ends in the middle of a value');
    return this.input[this.offset++];
  }
  take(length: number): Uint8Array {
    if (length > this.input.length - this.offset) {
      this.fail(`a string claims ${length} bytes but only ${this.input.length - this.offset} remain`);
    }
    const out = this.input.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
  /** Reads the argument of a head; returns a number when it is a safe integer, else a bigint. */
  argument(info: number, start: number): number | bigint {
    if (info < 24) return info;
    if (info === 31) this.fail('indefinite-length items are not used by the IC', start);
    if (info > 27) this.fail(`reserved additional information ${info}`, start);
    const size = 1 << (info - 24);
    let n = 0n;
    for (let i = 0; i < size; i++) n = (n << 8n) | BigInt(this.byte());
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  length(info: number, start: number): number {
    const n = this.argument(info, start);
    if (typeof n === 'bigint' || n > this.input.length) {
      this.fail(`length ${n} is larger than the whole input (${this.input.length} bytes)`, start);
    }
    return n;
  }
}

function decodeItem(r: ByteReader, depth: number, integerKeys = false): CborValue {
  if (depth > MAX_DEPTH) r.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  if (--r.itemsLeft < 0) r.fail('more data items than this input may hold');
  const start = r.offset;
  const initial = r.byte();
  const major = initial >> 5;
  const info = initial & 31;
  switch (major) {
    case 0:
      return r.argument(info, start);
    case 1: {
      const n = r.argument(info, start);
      const value = -1n - BigInt(n);
      return value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
    }
    case 2:
      return r.take(r.length(info, start));
    case 3: {
      const bytes = r.take(r.length(info, start));
      try {
        return fromUtf8(bytes);
      } catch {
        return r.fail('text string is not valid UTF-8', start);
      }
    }
    case 4: {
      const count = r.length(info, start);
      const items: CborValue[] = [];
      for (let i = 0; i < count; i++) items.push(decodeItem(r, depth + 1, integerKeys));
      return items;
    }
    case 5: {
      const count = r.length(info, start);
      const map: CborMap = Object.create(null);
      for (let i = 0; i < count; i++) {
        const keyAt = r.offset;
        let key = decodeItem(r, depth + 1);
        // COSE keys (WebAuthn) use integer map keys; only that caller allows them, as strings.
        if (integerKeys && (typeof key === 'number' || typeof key === 'bigint')) key = String(key);
        if (typeof key !== 'string') r.fail('map keys must be text strings', keyAt);
        if (Object.hasOwn(map, key)) r.fail(`duplicate map key "${key}"`, keyAt);
        map[key] = decodeItem(r, depth + 1, integerKeys);
      }
      return map;
    }
    case 6: {
      const tag = r.argument(info, start);
      if (tag === SELF_DESCRIBE_TAG) return decodeItem(r, depth + 1, integerKeys);
      if (tag === 2 || tag === 3) {
        const contentAt = r.offset;
        const content = decodeItem(r, depth + 1);
        if (!(content instanceof Uint8Array)) r.fail('a bignum tag must wrap a byte string', contentAt);
        let n = 0n;
        for (const b of content) n = (n << 8n) | BigInt(b);
        return tag === 2 ? n : -1n - n;
      }
      return r.fail(`tag ${tag} is not used by the IC (only 55799 and bignums 2/3)`, start);
    }
    default: {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      if (info >= 25 && info <= 27) return r.fail('floating-point numbers are not allowed', start);
      return r.fail(`simple value ${info} is not allowed`, start);
    }
  }
}

/**
 * Decodes one CBOR item (an optional leading 55799 tag is accepted). Throws CborDecodeError for
 * truncated input, trailing bytes, floats, unknown tags, indefinite lengths, duplicate keys, or
 * more than `maxItems` data items (which bounds the work a hostile input can cause).
 */
export function decodeCbor(bytes: Uint8Array, options: { integerKeys?: boolean; maxItems?: number } = {}): CborValue {
  // Copy into a plain Uint8Array so every decoded byte string is a plain, non-Buffer copy.
  const input = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes);
  const r = new ByteReader(input, options.maxItems);
  if (input.length === 0) r.fail('the body is empty');
  const value = decodeItem(r, 0, options.integerKeys ?? false);
  if (r.offset !== input.length) r.fail(`${input.length - r.offset} unexpected bytes after the value`);
  return value;
}
