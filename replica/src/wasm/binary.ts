// Byte-level reading and writing for the WebAssembly binary format: LEB128 integers
// (https://webassembly.github.io/spec/core/binary/values.html#integers), names and a growable
// output buffer. Everything else in metering/ is built on these two classes.

/** Thrown for malformed input; `offset` is the byte position in the module where decoding failed. */
export class WasmDecodeError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte offset ${offset})`);
    this.name = 'WasmDecodeError';
    this.offset = offset;
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * A cursor over a byte array. `pos` is public so hot loops (the instruction scanner) can read
 * bytes directly without a method call per byte.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
  /** Offset of `bytes[0]` within the whole module, for error messages only. */
  readonly base: number;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length, base = 0) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
    this.base = base;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string): never {
    throw new WasmDecodeError(message, this.base + this.pos);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end of input');
    return this.bytes[this.pos++];
  }

  /** Unsigned LEB128 up to 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    const bytes = this.bytes;
    for (;;) {
      if (this.pos >= this.end) this.fail('unexpected end of input in LEB128');
      const b = bytes[this.pos++];
      if (shift === 28) {
        if (b & 0x70) {
          this.pos--; // point at the offending byte
          this.fail('u32 LEB128 out of range');
        }
        return (result | (b << 28)) >>> 0;
      }
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  /** Signed LEB128 up to 32 bits. */
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (this.pos >= this.end) this.fail('unexpected end of input in LEB128');
      b = this.bytes[this.pos++];
      if (shift === 28) {
        // The last byte holds bits 28..31; the unused high bits must equal the sign bit.
        const high = b & 0x78;
        if (b & 0x80 || (high !== 0 && high !== 0x78)) {
          this.pos--;
          this.fail('s32 LEB128 out of range');
        }
        result |= b << 28;
        return result | 0;
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 32 && b & 0x40) result |= -1 << shift;
    return result | 0;
  }

  /** Signed LEB128 up to 64 bits, as a bigint (i64.const immediates). */
  s64(): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    let count = 0;
    do {
      if (this.pos >= this.end) this.fail('unexpected end of input in LEB128');
      b = this.bytes[this.pos++];
      if (++count > 10) this.fail('s64 LEB128 too long');
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (shift < 64n && b & 0x40) result |= -1n << shift;
    return BigInt.asIntN(64, result);
  }

  /**
   * Unsigned LEB128 up to 64 bits as a JS number (memory64 offsets and limits). Values above
   * 2^53 cannot be represented exactly and are rejected rather than silently rounded.
   */
  u64(): number {
    let result = 0;
    let scale = 1;
    let count = 0;
    for (;;) {
      if (this.pos >= this.end) this.fail('unexpected end of input in LEB128');
      const b = this.bytes[this.pos++];
      if (++count > 10) this.fail('u64 LEB128 too long');
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
    }
    if (result > Number.MAX_SAFE_INTEGER) this.fail('u64 value above 2^53 is not supported');
    return result;
  }

  /** Signed 33-bit LEB128 (block types): returns a number in [-2^32, 2^32). */
  s33(): number {
    let result = 0;
    let scale = 1;
    let b: number;
    let count = 0;
    do {
      if (this.pos >= this.end) this.fail('unexpected end of input in LEB128');
      b = this.bytes[this.pos++];
      if (++count > 5) this.fail('s33 LEB128 too long');
      result += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    if (b & 0x40) result -= scale;
    return result;
  }

  /** Skips one LEB128 integer of any width without decoding it. */
  skipLeb(): void {
    const bytes = this.bytes;
    while (this.pos < this.end && bytes[this.pos] & 0x80) this.pos++;
    if (this.pos >= this.end) this.fail('unexpected end of input in LEB128');
    this.pos++;
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) this.fail(`need ${n} bytes, ${this.end - this.pos} left`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name(): string {
    const length = this.u32();
    const start = this.pos;
    const raw = this.take(length);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      throw new WasmDecodeError('name is not valid UTF-8', this.base + start);
    }
  }
}

/** A growable output buffer with LEB128 writers. */
export class ByteWriter {
  buf: Uint8Array;
  len = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(b: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  u32(value: number): void {
    this.ensure(5);
    let v = value >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v !== 0);
  }

  /** Unsigned LEB128 padded to exactly `width` bytes (section sizes are sometimes padded). */
  u32Padded(value: number, width: number): void {
    this.ensure(width);
    let v = value >>> 0;
    for (let i = 0; i < width; i++) {
      let b = v & 0x7f;
      v >>>= 7;
      if (i < width - 1) b |= 0x80;
      this.buf[this.len++] = b;
    }
    if (v !== 0) throw new RangeError(`${value} does not fit in ${width} LEB128 bytes`);
  }

  s32(value: number): void {
    this.ensure(5);
    let v = value | 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }

  s64(value: bigint): void {
    this.ensure(10);
    let v = BigInt.asIntN(64, value);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }

  /** Signed LEB128 of a safe-integer number (used for i64 costs and 33-bit block types). */
  sNum(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
    if (value >= -0x80000000 && value <= 0x7fffffff) return this.s32(value);
    this.s64(BigInt(value));
  }

  u64(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a u64 we can encode`);
    if (value <= 0xffffffff) return this.u32(value);
    this.ensure(10);
    let v = value;
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v !== 0);
  }

  name(s: string): void {
    const raw = utf8Encoder.encode(s);
    this.u32(raw.length);
    this.bytes(raw);
  }

  /** Writes `body` preceded by its length as a u32 LEB128 (sections, function bodies). */
  sized(body: Uint8Array): void {
    this.u32(body.length);
    this.bytes(body);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** A view of the written bytes without copying (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Number of bytes the minimal unsigned LEB128 encoding of `value` takes. */
export function u32Size(value: number): number {
  let v = value >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}
