/// SHA-256 (FIPS 180-4), written for this canister because mo:core has no hash functions.
/// Streaming: a `Digest` takes any number of writes, then `sum()` pads and returns 32 bytes.
import Nat8 "mo:core/Nat8";
import Nat32 "mo:core/Nat32";
import Nat64 "mo:core/Nat64";
import VarArray "mo:core/VarArray";
import Blob "mo:core/Blob";

module {
  // FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
  let K : [Nat32] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ];

  /// Incremental SHA-256.
  public class Digest() {
    // §5.3.3: initial hash value.
    let h : [var Nat32] = [var 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let w : [var Nat32] = VarArray.repeat<Nat32>(0, 64);
    let block : [var Nat8] = VarArray.repeat<Nat8>(0, 64);
    var filled : Nat = 0;
    var length : Nat64 = 0; // message length in bytes

    // §6.2.2: one 512-bit block.
    func compress() {
      var t = 0;
      while (t < 16) {
        let i = 4 * t;
        w[t] := (Nat32.fromNat8(block[i]) << 24) | (Nat32.fromNat8(block[i + 1]) << 16) | (Nat32.fromNat8(block[i + 2]) << 8) | Nat32.fromNat8(block[i + 3]);
        t += 1;
      };
      while (t < 64) {
        let w15 = w[t - 15];
        let w2 = w[t - 2];
        let s0 = (w15 <>> 7) ^ (w15 <>> 18) ^ (w15 >> 3);
        let s1 = (w2 <>> 17) ^ (w2 <>> 19) ^ (w2 >> 10);
        w[t] := w[t - 16] +% s0 +% w[t - 7] +% s1;
        t += 1;
      };
      var a = h[0];
      var b = h[1];
      var c = h[2];
      var d = h[3];
      var e = h[4];
      var f = h[5];
      var g = h[6];
      var hh = h[7];
      t := 0;
      while (t < 64) {
        let S1 = (e <>> 6) ^ (e <>> 11) ^ (e <>> 25);
        let ch = (e & f) ^ ((e ^ 0xffffffff) & g);
        let t1 = hh +% S1 +% ch +% K[t] +% w[t];
        let S0 = (a <>> 2) ^ (a <>> 13) ^ (a <>> 22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = S0 +% maj;
        hh := g;
        g := f;
        f := e;
        e := d +% t1;
        d := c;
        c := b;
        b := a;
        a := t1 +% t2;
        t += 1;
      };
      h[0] +%= a;
      h[1] +%= b;
      h[2] +%= c;
      h[3] +%= d;
      h[4] +%= e;
      h[5] +%= f;
      h[6] +%= g;
      h[7] +%= hh;
    };

    public func writeByte(byte : Nat8) {
      block[filled] := byte;
      filled += 1;
      length +%= 1;
      if (filled == 64) {
        compress();
        filled := 0;
      };
    };

    public func writeBlob(data : Blob) {
      for (byte in data.vals()) {
        block[filled] := byte;
        filled += 1;
        if (filled == 64) {
          compress();
          filled := 0;
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
      let savedLength = length;
      writeByte(0x80);
      while (filled != 56) writeByte(0);
      var shift : Nat64 = 56;
      loop {
        writeByte(Nat8.fromNat(Nat64.toNat((bits >> shift) & 0xff)));
        if (shift == 0) return output(savedLength);
        shift -= 8;
      };
    };

    func output(_ : Nat64) : Blob {
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
