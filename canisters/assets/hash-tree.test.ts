// The canister's own SHA-256, CBOR and hash-tree code, run in the Motoko interpreter and checked
// against the FIPS 180-4 / NIST example vectors and against @dfinity/agent's hash-tree code (the
// verifier every client uses).
import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { Cbor, reconstruct, lookup_path, LookupPathStatus, type HashTree } from '@dfinity/agent';
import { lookupPath } from '@scaling-wg/replica/certification';
import { interpretMotoko, parseBlobLine, hex } from './test/interpret.ts';

// Note: @dfinity/agent 3.4.3's lookup compares labels with `isBufferGreaterThan`, which is not a
// lexicographic order (it answers "greater" if any byte position is greater). It is sound along
// a witness that reveals only the looked-up path, which is what Asset.isCertified uses, but it
// misreads full trees and absence proofs. Those checks use the replica's spec lookup
// (certification.md#lookup) instead; reconstruct is the agent's.

describe('Sha256.mo', () => {
  // NIST CSRC "Examples with intermediate values" for SHA-256 (empty, one block, two blocks),
  // padding edge lengths 55/56/64, and a streamed multi-block message (the interpreter is too
  // slow for the one-million-'a' vector; the compiled canister hashes megabytes in its tests).
  const lines = interpretMotoko(`
    import Sha256 "canisters/assets/Sha256";
    import Debug "mo:core/Debug";
    import Text "mo:core/Text";
    import Blob "mo:core/Blob";
    import VarArray "mo:core/VarArray";
    func a(n : Nat) : Blob = Blob.fromVarArray(VarArray.repeat<Nat8>(0x61, n));
    Debug.print(debug_show Sha256.hash(""));
    Debug.print(debug_show Sha256.hash("abc"));
    Debug.print(debug_show Sha256.hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
    Debug.print(debug_show Sha256.hash(a(55)));
    Debug.print(debug_show Sha256.hash(a(56)));
    Debug.print(debug_show Sha256.hash(a(64)));
    let d = Sha256.Digest();
    var i = 0;
    while (i < 3) { d.writeBlob(a(1000)); i += 1 };
    Debug.print(debug_show d.sum());
    Debug.print(debug_show Sha256.hashAll(["ab", "", "c"]));
  `).map(parseBlobLine);

  test('matches the NIST example vectors', () => {
    expect(hex(lines[0])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(lines[1])).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(lines[2])).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(hex(lines[6])).toBe(createHash('sha256').update('a'.repeat(3000)).digest('hex'));
  });

  test('pads correctly around the block boundary (55, 56, 64 bytes)', () => {
    for (const [index, n] of [
      [3, 55],
      [4, 56],
      [5, 64],
    ] as const) {
      expect(hex(lines[index])).toBe(createHash('sha256').update('a'.repeat(n)).digest('hex'));
    }
  });

  test('hashAll hashes the concatenation', () => {
    expect(hex(lines[7])).toBe(hex(lines[1]));
  });
});

describe('HashTree.mo', () => {
  const lines = interpretMotoko(`
    import HashTree "canisters/assets/HashTree";
    import Debug "mo:core/Debug";
    import Text "mo:core/Text";
    func t(s : Text) : Blob = Text.encodeUtf8(s);
    let root = HashTree.newNode();
    for (k in ["/index.html", "/b.html", "/c/d.html", "/0.css", "/z", "/b.htm"].vals()) {
      HashTree.insert(root, [t("http_assets"), t(k)], HashTree.leafHash(t(k)));
    };
    HashTree.insert(root, [t("http_expr"), t("c"), t("d.html"), t("<$>"), t("e"), t(""), t("r")], "");
    HashTree.insert(root, [t("http_expr"), t(""), t("<$>"), t("e"), t(""), t("r")], "");
    HashTree.insert(root, [t("http_expr"), t("<*>"), t("e"), t(""), t("r")], "");
    Debug.print(debug_show HashTree.hash(root));
    Debug.print(debug_show HashTree.encode(HashTree.full(root)));
    Debug.print(debug_show HashTree.encode(HashTree.witness(root, [[t("http_assets"), t("/b.html")]])));
    Debug.print(debug_show HashTree.encode(HashTree.witness(root, [
      [t("http_assets"), t("/bb.html")], [t("http_assets"), t("/")], [t("http_assets"), t("/zz")],
      [t("http_expr"), t("c"), t("x"), t("<$>")], [t("http_expr"), t("c"), t("<*>")], [t("http_expr"), t("<*>")]])));
    HashTree.remove(root, [t("http_assets"), t("/b.html")]);
    Debug.print(debug_show HashTree.hash(root));
    Debug.print(debug_show HashTree.encode(HashTree.full(root)));
    HashTree.remove(root, [t("http_expr"), t("c"), t("d.html"), t("<$>")]);
    Debug.print(debug_show HashTree.encode(HashTree.full(root)));
  `).map(parseBlobLine);
  const decode = (bytes: Uint8Array) => Cbor.decode<HashTree>(bytes);
  const [root, full, witnessFound, witnessAbsent, rootAfterRemove, fullAfterRemove, fullAfterPrune] = lines;

  test('the full tree decodes with the agent and reconstructs to the cached root hash', async () => {
    expect(hex(full.slice(0, 3))).toBe('d9d9f7');
    expect(hex(await reconstruct(decode(full)))).toBe(hex(root));
    expect(hex(await reconstruct(decode(fullAfterRemove)))).toBe(hex(rootAfterRemove));
    expect(hex(rootAfterRemove)).not.toBe(hex(root));
  });

  test('labels come out in bytewise order, so lookups find every inserted path', () => {
    const tree = decode(full);
    for (const key of ['/index.html', '/b.html', '/c/d.html', '/0.css', '/z', '/b.htm']) {
      const found = lookupPath(['http_assets', key], tree as never);
      expect(found.status).toBe('found');
      expect(hex((found as { value: Uint8Array }).value)).toBe(
        createHash('sha256')
          .update(Buffer.concat([Buffer.from('\x10ic-hashtree-leaf'), Buffer.from(key)]))
          .digest('hex'),
      );
    }
  });

  test('a witness for one path reconstructs to the same root and reveals only that path', async () => {
    const tree = decode(witnessFound);
    expect(hex(await reconstruct(tree))).toBe(hex(root));
    expect(lookup_path(['http_assets', '/b.html'], tree).status).toBe(LookupPathStatus.Found);
    expect(lookup_path(['http_assets', '/index.html'], tree).status).toBe(LookupPathStatus.Unknown);
    expect(witnessFound.length).toBeLessThan(full.length);
  });

  test('a witness for missing paths proves their absence (before, between and after labels)', async () => {
    const tree = decode(witnessAbsent);
    expect(hex(await reconstruct(tree))).toBe(hex(root));
    for (const path of [
      ['http_assets', '/bb.html'],
      ['http_assets', '/'],
      ['http_assets', '/zz'],
      ['http_expr', 'c', 'x', '<$>'],
      ['http_expr', 'c', '<*>'],
    ]) {
      expect(lookupPath(path, tree as never).status, path.join('/')).toBe('absent');
    }
    expect(lookup_path(['http_expr', '<*>', 'e', '', 'r'], tree).status).toBe(LookupPathStatus.Found);
  });

  test('removing a path drops ancestors left empty', () => {
    const tree = decode(fullAfterPrune);
    expect(lookupPath(['http_expr', 'c'], tree as never).status).toBe('absent');
    expect(lookup_path(['http_expr', '', '<$>', 'e', '', 'r'], tree).status).toBe(LookupPathStatus.Found);
  });
});
