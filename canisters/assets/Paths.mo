/// URL paths, asset keys and the labels they certify under.
import Array "mo:core/Array";
import Blob "mo:core/Blob";
import Char "mo:core/Char";
import Iter "mo:core/Iter";
import List "mo:core/List";
import Nat8 "mo:core/Nat8";
import Text "mo:core/Text";

module {
  /// The keys a request path may be served from, in order: the path itself, then the
  /// directory index for `/a/`, then `/a.html` and `/a/index.html` for `/a`.
  public func candidates(path : Text) : [Text] {
    if (Text.endsWith(path, #char '/')) [path, path # "index.html"] else [path, path # ".html", path # "/index.html"];
  };

  /// Every request path whose resolution may change when `key` is created, changed or
  /// deleted: the inverse of `candidates`.
  public func affectedBy(key : Text) : [Text] {
    let out = List.fromArray<Text>([key]);
    switch (Text.stripEnd(key, #text "index.html")) {
      case (?dir) if (Text.endsWith(dir, #char '/')) {
        List.add(out, dir);
        switch (Text.stripEnd(dir, #char '/')) { case (?d) if (d != "") List.add(out, d); case null {} };
      };
      case null {};
    };
    switch (Text.stripEnd(key, #text ".html")) { case (?p) if (p != "" and p != "/") List.add(out, p); case null {} };
    List.toArray(out);
  };

  /// Labels of a path below `http_expr`: split on `/` without the leading empty segment; a
  /// trailing `/` leaves a final "" (so `/` is `[""]`).
  public func exprLabels(path : Text) : [Text] {
    let rest = switch (Text.stripStart(path, #char '/')) { case (?r) r; case null path };
    if (rest == "") return [""]; // Text.split of "" yields nothing
    Iter.toArray(Text.split(rest, #char '/'));
  };

  public func exprSegments(path : Text) : [Blob] {
    Array.concat<Blob>(["http_expr"], Array.map<Text, Blob>(exprLabels(path), Text.encodeUtf8));
  };

  /// The decoded path of a request URL (path and query, or an absolute URL): query and
  /// fragment dropped, percent-escapes decoded. Null if the result is not UTF-8.
  public func requestPath(url : Text) : ?Text {
    var rest = url;
    for (scheme in ["http://", "https://"].vals()) {
      switch (Text.stripStart(rest, #text scheme)) {
        case (?afterScheme) {
          // drop the authority: everything up to the first '/'
          let chars = Text.toArray(afterScheme);
          var i = 0;
          while (i < chars.size() and chars[i] != '/') i += 1;
          rest := if (i == chars.size()) "/" else Text.fromArray(Array.sliceToArray<Char>(chars, i, chars.size()));
        };
        case null {};
      };
    };
    let beforeQuery = switch (Text.split(rest, #predicate(func(c : Char) : Bool { c == '?' or c == '#' })).next()) {
      case (?p) p;
      case null "";
    };
    let bytes = Blob.toArray(Text.encodeUtf8(beforeQuery));
    let out = List.empty<Nat8>();
    var i = 0;
    while (i < bytes.size()) {
      if (bytes[i] == 0x25 and i + 2 < bytes.size()) {
        switch (hexDigit(bytes[i + 1]), hexDigit(bytes[i + 2])) {
          case (?hi, ?lo) {
            List.add(out, hi * 16 + lo);
            i += 3;
          };
          case _ { List.add(out, bytes[i]); i += 1 };
        };
      } else {
        List.add(out, bytes[i]);
        i += 1;
      };
    };
    let decoded = Text.decodeUtf8(Blob.fromArray(List.toArray(out)));
    switch decoded {
      case (?p) if (Text.startsWith(p, #char '/')) ?p else ?("/" # p);
      case null null;
    };
  };

  func hexDigit(b : Nat8) : ?Nat8 {
    if (b >= 0x30 and b <= 0x39) ?(b - 0x30) else if (b >= 0x61 and b <= 0x66) ?(b - 0x57) else if (b >= 0x41 and b <= 0x46) ?(b - 0x37) else null;
  };

  /// True when Accept-Encoding lists gzip (or `*`) with a non-zero quality.
  public func acceptsGzip(headers : [(Text, Text)]) : Bool {
    for ((name, value) in headers.vals()) {
      if (Text.toLower(name) == "accept-encoding") {
        for (item in Text.split(value, #char ',')) {
          let parts = Iter.toArray(Text.split(item, #char ';'));
          let coding = Text.toLower(Text.trim(parts[0], #char ' '));
          let refused = parts.size() > 1 and Text.contains(Text.trim(parts[1], #char ' '), #text "q=0") and not Text.contains(parts[1], #predicate(func(c : Char) : Bool { c >= '1' and c <= '9' }));
          if ((coding == "gzip" or coding == "*") and not refused) return true;
        };
      };
    };
    false;
  };

  /// Headers the canister sets itself; an asset's configured headers may not override them.
  public func isReservedHeader(name : Text) : Bool {
    switch name {
      case ("content-type" or "content-encoding" or "content-length" or "transfer-encoding" or "vary" or "ic-certificate" or "ic-certificateexpression") true;
      case _ false;
    };
  };

  let digits : [Char] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'];

  public func hex(bytes : Blob) : Text {
    var out = "";
    for (b in bytes.vals()) {
      out #= Char.toText(digits[Nat8.toNat(b / 16)]) # Char.toText(digits[Nat8.toNat(b % 16)]);
    };
    out;
  };
};
