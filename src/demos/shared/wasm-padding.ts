// Makes a large Wasm module out of a small one, the same way in the browser and in the deploy:
// the chunked-install demo needs a module over the IC's 2 MiB ingress limit, and rather than
// shipping a big binary the deploy registers the hash of `padWasm(install-target module)` with
// the lab and the browser rebuilds exactly those bytes from the small module the lab serves.
//
// The padding is one extra *passive* data segment (Wasm core spec, "Data segments": mode 1)
// appended to the data section, with the data count section raised to match. A passive segment
// is copied into memory only by a `memory.init` that names its index, and the module has none
// for the new index, so the canister runs exactly as before. The bytes are pseudo-random
// (xorshift32 from a fixed seed), so gzip, which the IC accepts for modules, cannot shrink them
// under the limit either.

/** Padding the demo adds: 2.75 MiB, so base + padding needs three 1 MiB chunks. */
export const PADDING_BYTES = 2_883_584;
const SEED = 0x5eed_1234;
const DATA_SECTION = 11;
const DATA_COUNT_SECTION = 12;

function readU32(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < bytes.length && shift < 35; i++) {
    value += (bytes[i] & 0x7f) * 2 ** shift;
    if ((bytes[i] & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new Error(`malformed LEB128 number at byte ${at} of the module`);
}

function u32(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** `length` pseudo-random bytes, the same for the same length everywhere. */
export function paddingBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = SEED;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
    if (i + 1 < length) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < length) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < length) out[i + 3] = x >>> 24;
  }
  return out;
}

/** `base` with one passive data segment of `padding` pseudo-random bytes added. */
export function padWasm(base: Uint8Array, padding = PADDING_BYTES): Uint8Array {
  if (base.length < 8 || base[0] !== 0 || base[1] !== 0x61 || base[2] !== 0x73 || base[3] !== 0x6d) {
    throw new Error('not a Wasm module (expected \\0asm; a gzipped module must be unzipped first)');
  }
  const parts: Uint8Array[] = [base.subarray(0, 8)];
  let at = 8;
  let padded = false;
  while (at < base.length) {
    const id = base[at];
    const [size, contentStart] = readU32(base, at + 1);
    const end = contentStart + size;
    if (end > base.length) throw new Error(`section ${id} at byte ${at} runs past the end of the module`);
    const content = base.subarray(contentStart, end);
    if (id === DATA_SECTION) {
      const [count, segmentsStart] = readU32(content, 0);
      const segment = [0x01, ...u32(padding)];
      const body = [...u32(count + 1), ...content.subarray(segmentsStart), ...segment];
      const bodyBytes = new Uint8Array(body.length + padding);
      bodyBytes.set(body);
      bodyBytes.set(paddingBytes(padding), body.length);
      parts.push(new Uint8Array([id, ...u32(bodyBytes.length)]), bodyBytes);
      padded = true;
    } else if (id === DATA_COUNT_SECTION) {
      const [count] = readU32(content, 0);
      const body = u32(count + 1);
      parts.push(new Uint8Array([id, ...u32(body.length), ...body]));
    } else {
      parts.push(base.subarray(at, end));
    }
    at = end;
  }
  if (!padded) throw new Error('the module has no data section to pad');
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
