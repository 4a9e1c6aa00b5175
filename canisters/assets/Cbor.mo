/// The little CBOR (RFC 8949) this canister writes: unsigned ints, byte strings, text strings,
/// arrays and the self-describing tag 55799 that IC certificates and hash trees carry.
/// Writes into a byte list so nested structures need no intermediate copies.
import List "mo:core/List";
import Nat8 "mo:core/Nat8";
import Nat64 "mo:core/Nat64";
import Blob "mo:core/Blob";
import Text "mo:core/Text";

module {
  public type Writer = List.List<Nat8>;

  public func writer() : Writer = List.empty<Nat8>();

  // RFC 8949 §3: a major type (3 bits) and an argument in the shortest form.
  public func writeHead(w : Writer, major : Nat8, argument : Nat) {
    let m = major << 5;
    if (argument < 24) {
      List.add(w, m | Nat8.fromNat(argument));
    } else if (argument < 0x100) {
      List.add(w, m | 24);
      List.add(w, Nat8.fromNat(argument));
    } else if (argument < 0x10000) {
      List.add(w, m | 25);
      writeBigEndian(w, argument, 2);
    } else if (argument < 0x100000000) {
      List.add(w, m | 26);
      writeBigEndian(w, argument, 4);
    } else {
      List.add(w, m | 27);
      writeBigEndian(w, argument, 8);
    };
  };

  func writeBigEndian(w : Writer, value : Nat, bytes : Nat) {
    let v = Nat64.fromNat(value);
    var i = bytes;
    while (i > 0) {
      i -= 1;
      List.add(w, Nat8.fromNat(Nat64.toNat((v >> Nat64.fromNat(8 * i)) & 0xff)));
    };
  };

  public func writeNat(w : Writer, n : Nat) = writeHead(w, 0, n);

  public func writeBytes(w : Writer, bytes : Blob) {
    writeHead(w, 2, bytes.size());
    for (b in bytes.vals()) List.add(w, b);
  };

  public func writeText(w : Writer, text : Text) {
    let bytes = Text.encodeUtf8(text);
    writeHead(w, 3, bytes.size());
    for (b in bytes.vals()) List.add(w, b);
  };

  public func writeArrayHead(w : Writer, length : Nat) = writeHead(w, 4, length);

  /// Tag 55799 (0xd9d9f7): "self-described CBOR", required by the IC's HTTP certification headers.
  public func writeSelfDescribeTag(w : Writer) {
    List.add<Nat8>(w, 0xd9);
    List.add<Nat8>(w, 0xd9);
    List.add<Nat8>(w, 0xf7);
  };

  public func toBlob(w : Writer) : Blob = Blob.fromArray(List.toArray(w));

  /// `expr_path` header value: a self-described CBOR array of text.
  public func textArray(items : [Text]) : Blob {
    let w = writer();
    writeSelfDescribeTag(w);
    writeArrayHead(w, items.size());
    for (item in items.vals()) writeText(w, item);
    toBlob(w);
  };
};
