/// Response certification v2 (http-gateway-protocol-spec.md, "Response certification"):
/// the IC-CertificateExpression text, the response hash and the header that carries the
/// certificate, witness and expression path. v1 (`http_assets`) needs no hashing beyond SHA-256.
import Array "mo:core/Array";
import Blob "mo:core/Blob";
import Nat8 "mo:core/Nat8";
import Nat16 "mo:core/Nat16";
import Text "mo:core/Text";
import List "mo:core/List";
import Base64 "mo:core/Base64";
import Sha256 "Sha256";
import Cbor "Cbor";

module {
  /// The expression for a response-only certification of `headerNames` (lower case). The spec's
  /// EBNF form without whitespace; its SHA-256 is a label in the tree, so the served header must
  /// be exactly this text.
  public func expression(headerNames : [Text]) : Text {
    let quoted = Array.map<Text, Text>(headerNames, func(n) = "\"" # n # "\"");
    "default_certification(ValidationArgs{certification:Certification{no_request_certification:Empty{},response_certification:ResponseCertification{certified_response_headers:ResponseHeaderList{headers:["
    # Text.join(quoted.vals(), ",") # "]}}}})";
  };

  /// response_hash = SHA-256(RIH(headers ∪ {":ic-cert-status": status}) · SHA-256(body)), where RIH
  /// is the representation-independent hash (https-interface.md#hash-of-map) of the certified
  /// header pairs, names lower case, string values hashed as UTF-8, the status as LEB128.
  /// `headers` must already be the certified subset (including ic-certificateexpression).
  public func responseHash(headers : [(Text, Text)], status : Nat16, bodySha256 : Blob) : Blob {
    let entries = List.empty<Blob>();
    for ((name, value) in headers.vals()) {
      List.add(entries, concat(Sha256.hash(Text.encodeUtf8(Text.toLower(name))), Sha256.hash(Text.encodeUtf8(value))));
    };
    List.add(entries, concat(Sha256.hash(":ic-cert-status"), Sha256.hash(leb128(Nat16.toNat(status)))));
    let sorted = Array.sort<Blob>(List.toArray(entries), Blob.compare);
    let headerHash = Sha256.hashAll(sorted);
    Sha256.hashAll([headerHash, bodySha256]);
  };

  func concat(a : Blob, b : Blob) : Blob = Blob.fromArray(Array.concat<Nat8>(Blob.toArray(a), Blob.toArray(b)));

  public func leb128(n : Nat) : Blob {
    let out = List.empty<Nat8>();
    var v = n;
    loop {
      let byte = Nat8.fromNat(v % 128);
      v := v / 128;
      if (v == 0) {
        List.add(out, byte);
        return Blob.fromArray(List.toArray(out));
      };
      List.add(out, byte | 0x80);
    };
  };

  /// `IC-Certificate` v1: certificate and tree only (a client that sees no version assumes 1).
  public func headerV1(certificate : Blob, tree : Blob) : Text {
    "certificate=:" # Base64.encode(certificate) # ":, tree=:" # Base64.encode(tree) # ":";
  };

  /// `IC-Certificate` v2 with the expression path the verifier looks the expression up under.
  public func headerV2(certificate : Blob, tree : Blob, exprPath : [Text]) : Text {
    "certificate=:" # Base64.encode(certificate) # ":, tree=:" # Base64.encode(tree) # ":, expr_path=:"
    # Base64.encode(Cbor.textArray(exprPath)) # ":, version=2";
  };
};
