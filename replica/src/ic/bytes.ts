// Byte helpers for the whole replica (ic/README.md). Pure: runs in Node and in browsers.

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid sequences (spec: text is always valid UTF-8). */
export function fromUtf8(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Bytewise lexicographic order, the order the IC uses for hash tree labels and principals. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hexDigits = '0123456789abcdef';
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += hexDigits[byte >> 4] + hexDigits[byte & 15];
  return out;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`not a hex string: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Shortest unsigned LEB128 (https-interface.md#hash-of-map: natural numbers). */
export function uleb128(value: bigint | number): Uint8Array {
  let n = BigInt(value);
  if (n < 0n) throw new RangeError(`uleb128 needs a natural number, got ${n}`);
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n !== 0n) byte |= 0x80;
    out.push(byte);
  } while (n !== 0n);
  return Uint8Array.from(out);
}

/** Shortest signed LEB128 (https-interface.md#hash-of-map: integers). */
export function sleb128(value: bigint | number): Uint8Array {
  let n = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const signBitSet = (byte & 0x40) !== 0;
    if ((n === 0n && !signBitSet) || (n === -1n && signBitSet)) {
      out.push(byte);
      return Uint8Array.from(out);
    }
    out.push(byte | 0x80);
  }
}

/** Reads an unsigned LEB128 number (used to decode `/time` leaves). */
export function readUleb128(bytes: Uint8Array): bigint {
  let result = 0n;
  let shift = 0n;
  for (const byte of bytes) {
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
  throw new Error('truncated LEB128 number');
}
