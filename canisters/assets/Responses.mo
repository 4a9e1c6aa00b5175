/// What a response of the asset canister looks like, as pure functions of an asset: its headers
/// (all certified), the IC-CertificateExpression naming them, and the (expression hash, response
/// hash) pairs the certification tree holds for it. Serving and certifying both call these, so
/// the bytes served are the bytes certified.
import Array "mo:core/Array";
import List "mo:core/List";
import Map "mo:core/Map";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Runtime "mo:core/Runtime";
import Text "mo:core/Text";
import Sha256 "Sha256";
import Certification "Certification";
import Types "Types";

module {
  public let notFoundBody : Blob = "not found";

  // The headers a response carries, all of them certified (lower-case names); the expression
  // lists the same names plus content-encoding so one expression serves every encoding.
  public func responseHeaders(asset : ?Types.Asset, encoding : Text) : [Types.HeaderField] {
    let out = List.empty<Types.HeaderField>();
    switch asset {
      case (?a) {
        List.add(out, ("content-type", a.contentType));
        if (encoding != "identity") List.add(out, ("content-encoding", encoding));
        switch (a.maxAge) {
          case (?age) List.add(out, ("cache-control", "max-age=" # Nat.toText(Nat64.toNat(age))));
          case null {};
        };
        for (h in a.headers.vals()) if (not (a.maxAge != null and h.0 == "cache-control")) List.add(out, h);
      };
      case null List.add(out, ("content-type", "text/plain; charset=utf-8"));
    };
    List.add(out, ("vary", "accept-encoding"));
    List.add(out, ("ic-certificateexpression", expressionFor(asset)));
    List.toArray(out);
  };

  public func expressionFor(asset : ?Types.Asset) : Text {
    let names = List.fromArray<Text>(["content-type", "content-encoding", "vary"]);
    switch asset {
      case (?a) {
        if (a.maxAge != null) List.add(names, "cache-control");
        for ((n, _) in a.headers.vals()) if (not (a.maxAge != null and n == "cache-control")) List.add(names, n);
      };
      case null {};
    };
    Certification.expression(List.toArray(names));
  };

  public func certifiedEntries(asset : ?Types.Asset, status : Nat16) : [(Blob, Blob)] {
    // (expression hash, response hash) per encoding
    switch asset {
      case null {
        let headers = responseHeaders(null, "identity");
        [(Sha256.hash(Text.encodeUtf8(expressionFor(null))), Certification.responseHash(headers, status, Sha256.hash(notFoundBody)))];
      };
      case (?a) {
        let exprHash = Sha256.hash(Text.encodeUtf8(expressionFor(asset)));
        Array.map<(Text, Types.Encoding), (Blob, Blob)>(
          Map.toArray(a.encodings),
          func((name, e)) = (exprHash, Certification.responseHash(responseHeaders(asset, name), status, e.sha256)),
        );
      };
    };
  };

  // v1 certifies one body per path: the identity encoding if present (the verifier decodes gzip
  // before hashing, so identity's hash is right for either), else the first one.
  public func v1Hash(asset : Types.Asset) : Blob {
    switch (Map.get(asset.encodings, Text.compare, "identity")) {
      case (?e) e.sha256;
      case null {
        for (e in Map.values(asset.encodings)) return e.sha256;
        Runtime.trap("unreachable: asset without encodings");
      };
    };
  };

  public func chooseEncoding(asset : Types.Asset, gzip : Bool) : Text {
    if (gzip and Map.containsKey(asset.encodings, Text.compare, "gzip")) return "gzip";
    if (Map.containsKey(asset.encodings, Text.compare, "identity")) return "identity";
    for (name in Map.keys(asset.encodings)) return name;
    "identity";
  };

  /// A response that is the same for every path (a CORS preflight answer, a refused method):
  /// certified once per path beside the path's own responses, so a gateway verifies it.
  public type Fixed = { status : Nat16; headers : [Types.HeaderField]; body : Blob; entry : (Blob, Blob) };

  func fixed(status : Nat16, headerList : [Types.HeaderField], body : Blob) : Fixed {
    let names = Array.map<Types.HeaderField, Text>(headerList, func((n, _)) = n);
    let expr = Certification.expression(names);
    let headers = Array.concat<Types.HeaderField>(headerList, [("ic-certificateexpression", expr)]);
    {
      status;
      headers;
      body;
      entry = (Sha256.hash(Text.encodeUtf8(expr)), Certification.responseHash(headers, status, Sha256.hash(body)));
    };
  };

  /// The answer to a CORS preflight (OPTIONS): any origin may GET and HEAD these public files.
  public func preflight() : Fixed = fixed(204, [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET, HEAD, OPTIONS"),
    ("access-control-allow-headers", "*"),
    ("access-control-max-age", "86400"),
  ], "");

  /// The answer to any other method (POST, PUT, ...): the site is read-only over HTTP.
  public func methodNotAllowed() : Fixed = fixed(405, [
    ("content-type", "text/plain; charset=utf-8"),
    ("allow", "GET, HEAD, OPTIONS"),
  ], "method not allowed: this canister serves GET, HEAD and OPTIONS");


  public func plain(status : Nat16, message : Text) : Types.HttpResponse {
    // Not certified: a gateway refuses it, and says why; these only answer malformed requests.
    { status_code = status; headers = [("content-type", "text/plain; charset=utf-8")]; body = Text.encodeUtf8(message); streaming_strategy = null; upgrade = null };
  };
};
