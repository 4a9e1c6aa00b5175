// [k]P in G1 of BLS12-381 for the certificate signer (keys.ts signStateRoot): the same point as
// @noble/curves' multiplication (a test compares the signatures with its sign), in fewer field
// operations. The curve is y² = x³ + 4 over Fp; points are kept in Jacobian coordinates
// (x = X/Z², y = Y/Z³), whose doubling for a = 0 costs 2 multiplications and 5 squarings
// (dbl-2009-l) where noble's complete projective formulas cost about twice that, and added to
// affine table points (madd-2007-bl, 7M + 4S). Intermediate values stay unreduced between
// multiplications (a product is reduced once, with one `%`). The walk is GLV: k = q·x² + m with
// two 128-bit halves, [k]P = [m]P + [q](−φ(P)), φ(x, y) = (βx, y), in one width-5 NAF walk over
// both. Variable time: this is the development root key of a local replica (keys.ts says why).

import { bls12_381 } from '@noble/curves/bls12-381.js';

const Fp = bls12_381.fields.Fp;
const P = Fp.ORDER;
/** x² of BLS12-381 (|x| = 0xd201000000010000), about 2^128: the GLV split of a scalar. */
const X_SQUARED = 0xd201000000010000n * 0xd201000000010000n;
const WINDOW = 5;

export interface Affine {
  x: bigint;
  y: bigint;
}

/** Reduces into [0, P). */
function norm(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/** A Jacobian point; Z = 0 is the point at infinity. Coordinates lie in (−P, P). */
type Jacobian = [bigint, bigint, bigint];
const INFINITY: Jacobian = [0n, 1n, 0n];

function double([X, Y, Z]: Jacobian): Jacobian {
  const A = (X * X) % P;
  const B = (Y * Y) % P;
  const C = (B * B) % P;
  const t = X + B;
  const D = 2n * ((t * t - A - C) % P);
  const E = 3n * A;
  const F = (E * E) % P;
  const X3 = (F - 2n * D) % P;
  return [X3, (E * (D - X3) - 8n * C) % P, (2n * Y * Z) % P];
}

/** R + Q for an affine Q (not infinity). */
function addAffine(R: Jacobian, x2: bigint, y2: bigint): Jacobian {
  const [X1, Y1, Z1] = R;
  if (Z1 === 0n) return [x2, y2, 1n];
  const Z1Z1 = (Z1 * Z1) % P;
  const U2 = (x2 * Z1Z1) % P;
  const S2 = (((y2 * Z1) % P) * Z1Z1) % P;
  const H = U2 - X1;
  const r = 2n * (S2 - Y1);
  if (H % P === 0n) return r % P === 0n ? double(R) : INFINITY;
  const HH = (H * H) % P;
  const I = 4n * HH;
  const J = (H * I) % P;
  const V = (X1 * I) % P;
  const X3 = (r * r - J - 2n * V) % P;
  const Y3 = (r * (V - X3) - 2n * ((Y1 * J) % P)) % P;
  const ZH = Z1 + H;
  return [X3, Y3, (ZH * ZH - Z1Z1 - HH) % P];
}

function toAffine([X, Y, Z]: Jacobian): Affine | undefined {
  if (norm(Z) === 0n) return undefined;
  const zi = Fp.inv(norm(Z));
  const zi2 = (zi * zi) % P;
  return { x: norm(X * zi2), y: norm(((Y * zi2) % P) * zi) };
}

/** R + Q, both Jacobian (add-2007-bl), for building the tables. */
function add(R: Jacobian, Q: Jacobian): Jacobian {
  const [X1, Y1, Z1] = R;
  const [X2, Y2, Z2] = Q;
  if (Z1 % P === 0n) return Q;
  if (Z2 % P === 0n) return R;
  const Z1Z1 = (Z1 * Z1) % P;
  const Z2Z2 = (Z2 * Z2) % P;
  const U1 = (X1 * Z2Z2) % P;
  const U2 = (X2 * Z1Z1) % P;
  const S1 = (((Y1 * Z2) % P) * Z2Z2) % P;
  const S2 = (((Y2 * Z1) % P) * Z1Z1) % P;
  const H = U2 - U1;
  const r = 2n * (S2 - S1);
  if (H % P === 0n) return r % P === 0n ? double(R) : INFINITY;
  const H2 = 2n * H;
  const I = (H2 * H2) % P;
  const J = (H * I) % P;
  const V = (U1 * I) % P;
  const X3 = (r * r - J - 2n * V) % P;
  const Z12 = Z1 + Z2;
  return [X3, (r * (V - X3) - 2n * ((S1 * J) % P)) % P, (((Z12 * Z12 - Z1Z1 - Z2Z2) % P) * H) % P];
}

/** Jacobian points (none at infinity) to affine with one field inversion (Montgomery's trick). */
function normalizeAll(points: Jacobian[]): Affine[] {
  const prefix: bigint[] = [];
  let acc = 1n;
  for (const [, , Z] of points) {
    prefix.push(acc);
    acc = (acc * Z) % P;
  }
  let inverse = Fp.inv(norm(acc));
  const out: Affine[] = new Array<Affine>(points.length);
  for (let i = points.length - 1; i >= 0; i--) {
    const [X, Y, Z] = points[i];
    const zi = (inverse * prefix[i]) % P;
    inverse = (inverse * Z) % P;
    const zi2 = (zi * zi) % P;
    out[i] = { x: norm(X * zi2), y: norm(((Y * zi2) % P) * zi) };
  }
  return out;
}

/** P, 3P, 5P, … (2^(WINDOW−1) − 1)P, affine. */
function oddMultiples(point: Jacobian): Affine[] {
  const twice = double(point);
  const table = [point];
  for (let i = 1; i < 1 << (WINDOW - 2); i++) table.push(add(table[i - 1], twice));
  if (table.some(([, , Z]) => Z % P === 0n)) throw new Error('G1 multiplication: a small multiple of the point is infinity');
  return normalizeAll(table);
}

/** Width-WINDOW NAF digits of k ≥ 0, least significant first. */
function nafDigits(k: bigint): number[] {
  const digits: number[] = [];
  const full = 1 << WINDOW;
  const mask = BigInt(full - 1);
  while (k > 0n) {
    let d = 0;
    if (k & 1n) {
      d = Number(k & mask);
      if (d >= full >> 1) d -= full;
      k -= BigInt(d);
    }
    digits.push(d);
    k >>= 1n;
  }
  return digits;
}

/**
 * [k]·point for a point of G1 other than infinity, given in homogeneous projective coordinates
 * as noble keeps them (x = X/Z, y = Y/Z), and 0 ≤ k < r; undefined for the point at infinity.
 * `beta` is the cube root of unity with φ(P) = (β·Px, Py) = [−x²]P on G1.
 */
export function multiplyG1(point: { X: bigint; Y: bigint; Z: bigint }, k: bigint, beta: bigint): Affine | undefined {
  const q = k / X_SQUARED;
  const m = k % X_SQUARED;
  // Homogeneous to Jacobian: (X·Z, Y·Z², Z).
  const Z2 = (point.Z * point.Z) % P;
  const tableP = oddMultiples([(point.X * point.Z) % P, (point.Y * Z2) % P, point.Z]);
  // −φ(iP) = (β·x_i, −y_i): the table of −φ(P) from that of P.
  const tablePhi = tableP.map(({ x, y }) => ({ x: (x * beta) % P, y: y === 0n ? 0n : P - y }));
  const dm = nafDigits(m);
  const dq = nafDigits(q);
  let R: Jacobian = INFINITY;
  for (let i = Math.max(dm.length, dq.length) - 1; i >= 0; i--) {
    R = double(R);
    const a = dm[i] ?? 0;
    if (a > 0) R = addAffine(R, tableP[a >> 1].x, tableP[a >> 1].y);
    else if (a < 0) R = addAffine(R, tableP[-a >> 1].x, P - tableP[-a >> 1].y);
    const b = dq[i] ?? 0;
    if (b > 0) R = addAffine(R, tablePhi[b >> 1].x, tablePhi[b >> 1].y);
    else if (b < 0) R = addAffine(R, tablePhi[-b >> 1].x, P - tablePhi[-b >> 1].y);
  }
  return toAffine(R);
}

/** |x| of BLS12-381, bit by bit from the top: h_eff = 1 − x = |x| + 1 (RFC 9380 §8.8.1). */
const X_ABS_BITS = 0xd201000000010000n.toString(2);

/**
 * clear_cofactor for G1 (RFC 9380 §7, h_eff = 1 − x): [|x|]Q + Q by double-and-add over the
 * sparse |x| (63 doublings, 6 additions), for a point of E in homogeneous projective coordinates;
 * returns it in the same coordinates (noble's Point takes them), (0, 1, 0) for infinity.
 */
export function clearCofactorG1(point: { X: bigint; Y: bigint; Z: bigint }): { X: bigint; Y: bigint; Z: bigint } {
  if (point.Z === 0n) return { X: 0n, Y: 1n, Z: 0n };
  const Z2 = (point.Z * point.Z) % P;
  const Q: Jacobian = [(point.X * point.Z) % P, (point.Y * Z2) % P, point.Z];
  let R = Q;
  for (let i = 1; i < X_ABS_BITS.length; i++) {
    R = double(R);
    if (X_ABS_BITS[i] === '1') R = add(R, Q);
  }
  const [X, Y, Z] = add(R, Q);
  if (norm(Z) === 0n) return { X: 0n, Y: 1n, Z: 0n };
  // Jacobian (x = X/Z², y = Y/Z³) to homogeneous: (X·Z, Y, Z³).
  return { X: norm(X * Z), Y: norm(Y), Z: norm(((Z * Z) % P) * Z) };
}
