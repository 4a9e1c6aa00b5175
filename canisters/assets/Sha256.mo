/// SHA-256 (FIPS 180-4), written for this canister because mo:core has no hash functions.
/// Streaming: a `Digest` takes any number of writes, then `sum()` pads and returns 32 bytes.
///
/// Why it looks unrolled: Motoko spends ~60 instructions per `while` step on its Nat counter and
/// array indexing, so the 64 rounds are written out (the round constants inline, the eight state
/// words rotating by renaming instead of eight moves per round) and the message schedule lives in
/// 16 locals. That takes a MiB from 1.2B to 0.7B instructions (measured on the replica). Inlining
/// the helper functions as well makes moc overflow its stack.
import Nat8 "mo:core/Nat8";
import Nat32 "mo:core/Nat32";
import Nat64 "mo:core/Nat64";
import VarArray "mo:core/VarArray";
import Blob "mo:core/Blob";

module {
  // FIPS 180-4 §4.1.2
  func S0(x : Nat32) : Nat32 = (x <>> 2) ^ (x <>> 13) ^ (x <>> 22);
  func S1(x : Nat32) : Nat32 = (x <>> 6) ^ (x <>> 11) ^ (x <>> 25);
  func s0(x : Nat32) : Nat32 = (x <>> 7) ^ (x <>> 18) ^ (x >> 3);
  func s1(x : Nat32) : Nat32 = (x <>> 17) ^ (x <>> 19) ^ (x >> 10);
  func ch(x : Nat32, y : Nat32, z : Nat32) : Nat32 = (x & y) ^ ((x ^ 0xffffffff) & z);
  func maj(x : Nat32, y : Nat32, z : Nat32) : Nat32 = (x & y) ^ (x & z) ^ (y & z);

  /// Incremental SHA-256.
  public class Digest() {
    // §5.3.3: initial hash value.
    let h : [var Nat32] = [var 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let block : [var Nat32] = VarArray.repeat<Nat32>(0, 16); // the current block, big-endian words
    var word : Nat32 = 0; // bytes of the word being assembled
    var filled : Nat32 = 0; // bytes in the current block
    var length : Nat64 = 0; // message length in bytes

    // §6.2.2: one 512-bit block. Round t uses K[t] (§4.2.2, the cube-root constants) inline.
    func compress() {
      var w0 = block[0]; var w1 = block[1]; var w2 = block[2]; var w3 = block[3];
      var w4 = block[4]; var w5 = block[5]; var w6 = block[6]; var w7 = block[7];
      var w8 = block[8]; var w9 = block[9]; var w10 = block[10]; var w11 = block[11];
      var w12 = block[12]; var w13 = block[13]; var w14 = block[14]; var w15 = block[15];
      var a = h[0]; var b = h[1]; var c = h[2]; var d = h[3];
      var e = h[4]; var f = h[5]; var g = h[6]; var hh = h[7];
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0x428a2f98 +% w0; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0x71374491 +% w1; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0xb5c0fbcf +% w2; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0xe9b5dba5 +% w3; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0x3956c25b +% w4; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0x59f111f1 +% w5; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0x923f82a4 +% w6; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0xab1c5ed5 +% w7; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0xd807aa98 +% w8; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0x12835b01 +% w9; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0x243185be +% w10; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0x550c7dc3 +% w11; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0x72be5d74 +% w12; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0x80deb1fe +% w13; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0x9bdc06a7 +% w14; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0xc19bf174 +% w15; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      w0 := w0 +% s0(w1) +% w9 +% s1(w14);
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0xe49b69c1 +% w0; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      w1 := w1 +% s0(w2) +% w10 +% s1(w15);
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0xefbe4786 +% w1; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      w2 := w2 +% s0(w3) +% w11 +% s1(w0);
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0x0fc19dc6 +% w2; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      w3 := w3 +% s0(w4) +% w12 +% s1(w1);
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0x240ca1cc +% w3; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      w4 := w4 +% s0(w5) +% w13 +% s1(w2);
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0x2de92c6f +% w4; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      w5 := w5 +% s0(w6) +% w14 +% s1(w3);
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0x4a7484aa +% w5; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      w6 := w6 +% s0(w7) +% w15 +% s1(w4);
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0x5cb0a9dc +% w6; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      w7 := w7 +% s0(w8) +% w0 +% s1(w5);
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0x76f988da +% w7; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      w8 := w8 +% s0(w9) +% w1 +% s1(w6);
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0x983e5152 +% w8; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      w9 := w9 +% s0(w10) +% w2 +% s1(w7);
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0xa831c66d +% w9; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      w10 := w10 +% s0(w11) +% w3 +% s1(w8);
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0xb00327c8 +% w10; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      w11 := w11 +% s0(w12) +% w4 +% s1(w9);
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0xbf597fc7 +% w11; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      w12 := w12 +% s0(w13) +% w5 +% s1(w10);
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0xc6e00bf3 +% w12; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      w13 := w13 +% s0(w14) +% w6 +% s1(w11);
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0xd5a79147 +% w13; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      w14 := w14 +% s0(w15) +% w7 +% s1(w12);
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0x06ca6351 +% w14; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      w15 := w15 +% s0(w0) +% w8 +% s1(w13);
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0x14292967 +% w15; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      w0 := w0 +% s0(w1) +% w9 +% s1(w14);
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0x27b70a85 +% w0; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      w1 := w1 +% s0(w2) +% w10 +% s1(w15);
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0x2e1b2138 +% w1; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      w2 := w2 +% s0(w3) +% w11 +% s1(w0);
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0x4d2c6dfc +% w2; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      w3 := w3 +% s0(w4) +% w12 +% s1(w1);
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0x53380d13 +% w3; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      w4 := w4 +% s0(w5) +% w13 +% s1(w2);
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0x650a7354 +% w4; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      w5 := w5 +% s0(w6) +% w14 +% s1(w3);
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0x766a0abb +% w5; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      w6 := w6 +% s0(w7) +% w15 +% s1(w4);
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0x81c2c92e +% w6; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      w7 := w7 +% s0(w8) +% w0 +% s1(w5);
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0x92722c85 +% w7; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      w8 := w8 +% s0(w9) +% w1 +% s1(w6);
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0xa2bfe8a1 +% w8; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      w9 := w9 +% s0(w10) +% w2 +% s1(w7);
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0xa81a664b +% w9; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      w10 := w10 +% s0(w11) +% w3 +% s1(w8);
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0xc24b8b70 +% w10; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      w11 := w11 +% s0(w12) +% w4 +% s1(w9);
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0xc76c51a3 +% w11; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      w12 := w12 +% s0(w13) +% w5 +% s1(w10);
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0xd192e819 +% w12; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      w13 := w13 +% s0(w14) +% w6 +% s1(w11);
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0xd6990624 +% w13; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      w14 := w14 +% s0(w15) +% w7 +% s1(w12);
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0xf40e3585 +% w14; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      w15 := w15 +% s0(w0) +% w8 +% s1(w13);
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0x106aa070 +% w15; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      w0 := w0 +% s0(w1) +% w9 +% s1(w14);
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0x19a4c116 +% w0; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      w1 := w1 +% s0(w2) +% w10 +% s1(w15);
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0x1e376c08 +% w1; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      w2 := w2 +% s0(w3) +% w11 +% s1(w0);
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0x2748774c +% w2; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      w3 := w3 +% s0(w4) +% w12 +% s1(w1);
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0x34b0bcb5 +% w3; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      w4 := w4 +% s0(w5) +% w13 +% s1(w2);
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0x391c0cb3 +% w4; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      w5 := w5 +% s0(w6) +% w14 +% s1(w3);
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0x4ed8aa4a +% w5; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      w6 := w6 +% s0(w7) +% w15 +% s1(w4);
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0x5b9cca4f +% w6; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      w7 := w7 +% s0(w8) +% w0 +% s1(w5);
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0x682e6ff3 +% w7; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      w8 := w8 +% s0(w9) +% w1 +% s1(w6);
      do { let t1 = hh +% S1(e) +% ch(e, f, g) +% 0x748f82ee +% w8; d +%= t1; hh := t1 +% S0(a) +% maj(a, b, c) };
      w9 := w9 +% s0(w10) +% w2 +% s1(w7);
      do { let t1 = g +% S1(d) +% ch(d, e, f) +% 0x78a5636f +% w9; c +%= t1; g := t1 +% S0(hh) +% maj(hh, a, b) };
      w10 := w10 +% s0(w11) +% w3 +% s1(w8);
      do { let t1 = f +% S1(c) +% ch(c, d, e) +% 0x84c87814 +% w10; b +%= t1; f := t1 +% S0(g) +% maj(g, hh, a) };
      w11 := w11 +% s0(w12) +% w4 +% s1(w9);
      do { let t1 = e +% S1(b) +% ch(b, c, d) +% 0x8cc70208 +% w11; a +%= t1; e := t1 +% S0(f) +% maj(f, g, hh) };
      w12 := w12 +% s0(w13) +% w5 +% s1(w10);
      do { let t1 = d +% S1(a) +% ch(a, b, c) +% 0x90befffa +% w12; hh +%= t1; d := t1 +% S0(e) +% maj(e, f, g) };
      w13 := w13 +% s0(w14) +% w6 +% s1(w11);
      do { let t1 = c +% S1(hh) +% ch(hh, a, b) +% 0xa4506ceb +% w13; g +%= t1; c := t1 +% S0(d) +% maj(d, e, f) };
      w14 := w14 +% s0(w15) +% w7 +% s1(w12);
      do { let t1 = b +% S1(g) +% ch(g, hh, a) +% 0xbef9a3f7 +% w14; f +%= t1; b := t1 +% S0(c) +% maj(c, d, e) };
      w15 := w15 +% s0(w0) +% w8 +% s1(w13);
      do { let t1 = a +% S1(f) +% ch(f, g, hh) +% 0xc67178f2 +% w15; e +%= t1; a := t1 +% S0(b) +% maj(b, c, d) };
      h[0] +%= a; h[1] +%= b; h[2] +%= c; h[3] +%= d;
      h[4] +%= e; h[5] +%= f; h[6] +%= g; h[7] +%= hh;
    };

    func take(byte : Nat8) {
      word := (word << 8) | Nat32.fromNat8(byte);
      filled +%= 1;
      if (filled & 3 == 0) {
        block[Nat32.toNat((filled >> 2) -% 1)] := word;
        if (filled == 64) {
          compress();
          filled := 0;
        };
      };
    };

    public func writeByte(byte : Nat8) {
      take(byte);
      length +%= 1;
    };

    public func writeBlob(data : Blob) {
      // `take` written out: a call per byte is 6% of the whole hash.
      for (byte in data.vals()) {
        word := (word << 8) | Nat32.fromNat8(byte);
        filled +%= 1;
        if (filled & 3 == 0) {
          block[Nat32.toNat((filled >> 2) -% 1)] := word;
          if (filled == 64) {
            compress();
            filled := 0;
          };
        };
      };
      length +%= Nat64.fromNat(data.size());
    };

    public func writeArray(data : [Nat8]) {
      for (byte in data.vals()) writeByte(byte);
    };

    /// Pads (§5.1.1) and returns the 32-byte digest. The digest must not be written to afterwards.
    public func sum() : Blob {
      let bits = length << 3;
      take(0x80);
      while (filled != 56) take(0);
      var shift : Nat64 = 56;
      loop {
        take(Nat8.fromNat(Nat64.toNat((bits >> shift) & 0xff)));
        if (shift == 0) return output();
        shift -= 8;
      };
    };

    func output() : Blob {
      let out = VarArray.repeat<Nat8>(0, 32);
      var i = 0;
      while (i < 8) {
        let (b0, b1, b2, b3) = Nat32.explode(h[i]);
        out[4 * i] := b0;
        out[4 * i + 1] := b1;
        out[4 * i + 2] := b2;
        out[4 * i + 3] := b3;
        i += 1;
      };
      Blob.fromVarArray(out);
    };
  };

  /// SHA-256 of one blob.
  public func hash(data : Blob) : Blob {
    let digest = Digest();
    digest.writeBlob(data);
    digest.sum();
  };

  /// SHA-256 of several blobs concatenated, without building the concatenation.
  public func hashAll(parts : [Blob]) : Blob {
    let digest = Digest();
    for (part in parts.vals()) digest.writeBlob(part);
    digest.sum();
  };
};
