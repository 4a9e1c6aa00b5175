/// Stable serialization formats, measured: the same generated records (lib/Records.mo) written to
/// a stable-memory Region and read back in three encodings, each timed in instructions with the
/// canister's own performance counter:
///   candid  `to_candid` / `from_candid` of the whole array: self-describing (type table in
///           front), what Motoko's classic stable variables and most IC tools use;
///   binary  a fixed layout written field by field into the Region, no intermediate buffer:
///           [id : Nat64][score : Nat32][title length : Nat16][title][body length : Nat16][body],
///           little-endian, the stable-memory-region store's layout (lib/RecordLayout.mo); not
///           self-describing (the reader must know the layout and its version);
///   json    UTF-8 JSON text, `[{"id":…,"title":"…","body":"…","score":…},…]`, encoded and parsed
///           here by hand: readable by anything, the largest and slowest to parse.
/// Every read is checked record by record against what was written (`roundTrip`).
///
/// `measure` is a query: the writes land in stable memory for the length of the call and are
/// dropped with it, so a visitor's measurement leaves no state behind and costs the canister
/// nothing on mainnet (queries are free). The record count is capped so one call stays far
/// inside a query's 5 B instructions; a query keeps no state, so there is nothing to rate-limit.
import Region "mo:core/Region";
import Nat "mo:core/Nat";
import Nat32 "mo:core/Nat32";
import Nat64 "mo:core/Nat64";
import Text "mo:core/Text";
import Char "mo:core/Char";
import Array "mo:core/Array";
import List "mo:core/List";
import IC "mo:core/InternetComputer";
import Errors "../lib/Errors";
import Records "../lib/Records";
import RecordLayout "../lib/RecordLayout";

persistent actor SerializationFormats {
  type Record = Records.Record;

  public type FormatResult = {
    /// "candid", "binary" or "json".
    format : Text;
    /// Bytes the encoding of all records took in stable memory.
    bytes : Nat;
    /// Encoding plus storing into the Region (growing it as needed).
    writeInstructions : Nat64;
    /// Loading from the Region plus decoding back into records.
    readInstructions : Nat64;
    /// Every record read back equals the one written.
    roundTrip : Bool;
  };

  public type Measurement = { records : Nat; formats : [FormatResult] };
  public type MeasureResult = { #ok : Measurement; #err : Errors.Error };

  /// About 0.3 B instructions for all three formats at this count (measured on the local replica).
  let maxRecords = 5_000;
  let pageBytes : Nat64 = 65536;
  let growFailed : Nat64 = 0xFFFF_FFFF_FFFF_FFFF;
  let region = Region.new();

  func ensureCapacity(end : Nat64) : Bool {
    let needed = (end + pageBytes - 1) / pageBytes;
    let current = Region.size(region);
    needed <= current or Region.grow(region, needed - current) != growFailed
  };

  func sameRecords(expected : [Record], actual : [Record]) : Bool {
    if (expected.size() != actual.size()) return false;
    var i = 0;
    while (i < expected.size()) {
      let a = expected[i];
      let b = actual[i];
      if (a.id != b.id or a.title != b.title or a.body != b.body or a.score != b.score) return false;
      i += 1;
    };
    true
  };

  func counter() : Nat64 = IC.performanceCounter(0);

  // ---- candid ----

  func candidRoundTrip(records : [Record]) : ?FormatResult {
    let start = counter();
    let blob = to_candid (records);
    if (not ensureCapacity(Nat64.fromNat(blob.size()))) return null;
    Region.storeBlob(region, 0, blob);
    let written = counter();
    let loaded = Region.loadBlob(region, 0, blob.size());
    let decoded : ?[Record] = from_candid (loaded);
    let read = counter();
    ?{
      format = "candid";
      bytes = blob.size();
      writeInstructions = written - start;
      readInstructions = read - written;
      roundTrip = switch decoded { case (?back) sameRecords(records, back); case null false };
    }
  };

  // ---- binary: field by field, straight into the Region ----

  func binaryRoundTrip(records : [Record]) : ?FormatResult {
    let start = counter();
    var size : Nat64 = 4;
    for (record in records.vals()) size += Nat64.fromNat(Records.encodedSize(record));
    if (not ensureCapacity(size)) return null;
    Region.storeNat32(region, 0, Nat32.fromNat(records.size()));
    var at : Nat64 = 4;
    for (record in records.vals()) at += RecordLayout.store(region, at, record);
    let written = counter();
    let count = Nat32.toNat(Region.loadNat32(region, 0));
    var offset : Nat64 = 4;
    var valid = true;
    func text(bytes : Blob) : Text = switch (Text.decodeUtf8(bytes)) { case (?t) t; case null { valid := false; "" } };
    let back = Array.tabulate<Record>(
      count,
      func(_) {
        let (record, bytes) = RecordLayout.load(region, offset, text);
        offset += bytes;
        record
      },
    );
    let read = counter();
    ?{
      format = "binary";
      bytes = Nat64.toNat(size);
      writeInstructions = written - start;
      readInstructions = read - written;
      roundTrip = valid and sameRecords(records, back);
    }
  };

  // ---- json: text written and parsed by hand ----

  func needsEscape(c : Char) : Bool = c == '\"' or c == '\\' or Char.toNat32(c) < 0x20;

  func jsonString(text : Text) : Text {
    // Most strings need no escape: copied whole, not character by character.
    var plain = true;
    for (c in text.chars()) if (needsEscape(c)) plain := false;
    if (plain) return "\"" # text # "\"";
    var out = "\"";
    for (c in text.chars()) {
      out #= switch c {
        case '\"' "\\\"";
        case '\\' "\\\\";
        case '\n' "\\n";
        case _ {
          if (Char.toNat32(c) < 0x20) "\\u00" # hexByte(Char.toNat32(c)) else Char.toText(c);
        };
      };
    };
    out # "\""
  };

  func hexByte(n : Nat32) : Text {
    let digits = "0123456789abcdef";
    let chars = Text.toArray(digits);
    Char.toText(chars[Nat32.toNat(n / 16)]) # Char.toText(chars[Nat32.toNat(n % 16)])
  };

  func jsonEncode(records : [Record]) : Blob {
    var out = "[";
    var first = true;
    for (r in records.vals()) {
      if (not first) out #= ",";
      first := false;
      out #= "{\"id\":" # Nat64.toText(r.id) # ",\"title\":" # jsonString(r.title) # ",\"body\":" # jsonString(r.body) # ",\"score\":" # Nat32.toText(r.score) # "}";
    };
    Text.encodeUtf8(out # "]")
  };

  /// A parser for the JSON this canister writes: an array of objects whose values are numbers or
  /// strings (escapes included), keys in any order. Returns null on anything else.
  class JsonReader(text : Text) {
    let chars = text.chars();
    var peeked : ?Char = chars.next();

    func advance() { peeked := chars.next() };
    func skipSpace() {
      label spaces loop {
        switch peeked {
          case (?' ' or ?'\n' or ?'\t' or ?'\r') advance();
          case _ break spaces;
        };
      };
    };
    func expect(c : Char) : Bool {
      skipSpace();
      if (peeked == ?c) { advance(); true } else false;
    };

    func readString() : ?Text {
      if (not expect('\"')) return null;
      var out = "";
      loop {
        switch peeked {
          case null return null;
          case (?'\"') { advance(); return ?out };
          case (?'\\') {
            advance();
            switch peeked {
              case (?'\"') out #= Char.toText('\"');
              case (?'\\') out #= Char.toText('\\');
              case (?'/') out #= Char.toText('/');
              case (?'n') out #= Char.toText('\n');
              case (?'t') out #= Char.toText('\t');
              case (?'r') out #= Char.toText('\r');
              case (?'u') {
                var code : Nat32 = 0;
                var k = 0;
                while (k < 4) {
                  advance();
                  switch (peeked) {
                    case (?d) {
                      let v = Char.toNat32(d);
                      let digit : Nat32 = if (v >= 48 and v <= 57) v - 48 else if (v >= 97 and v <= 102) v - 87 else if (v >= 65 and v <= 70) v - 55 else return null;
                      code := code * 16 + digit;
                    };
                    case null return null;
                  };
                  k += 1;
                };
                out #= Char.toText(Char.fromNat32(code));
              };
              case _ return null;
            };
            advance();
          };
          case (?c) { out #= Char.toText(c); advance() };
        };
      };
    };

    func readNat() : ?Nat {
      skipSpace();
      var n = 0;
      var digits = 0;
      label number loop {
        switch peeked {
          case (?c) {
            let v = Char.toNat32(c);
            if (v < 48 or v > 57) break number;
            n := n * 10 + Nat32.toNat(v - 48);
            digits += 1;
            advance();
          };
          case null break number;
        };
      };
      if (digits == 0) null else ?n
    };

    func readRecord() : ?Record {
      if (not expect('{')) return null;
      var id : ?Nat = null;
      var title : ?Text = null;
      var body : ?Text = null;
      var score : ?Nat = null;
      loop {
        let key = switch (readString()) { case (?k) k; case null return null };
        if (not expect(':')) return null;
        switch key {
          case "id" id := readNat();
          case "score" score := readNat();
          case "title" title := readString();
          case "body" body := readString();
          case _ return null;
        };
        if (expect('}')) {
          return switch (id, title, body, score) {
            case (?i, ?t, ?b, ?s) ?{ id = Nat64.fromNat(i); title = t; body = b; score = Nat32.fromNat(s) };
            case _ null;
          };
        };
        if (not expect(',')) return null;
      };
    };

    public func readArray() : ?[Record] {
      if (not expect('[')) return null;
      let collected = List.empty<Record>();
      if (expect(']')) return ?[];
      loop {
        switch (readRecord()) { case (?r) List.add(collected, r); case null return null };
        if (expect(']')) return ?List.toArray(collected);
        if (not expect(',')) return null;
      };
    };
  };

  func jsonRoundTrip(records : [Record]) : ?FormatResult {
    let start = counter();
    let blob = jsonEncode(records);
    if (not ensureCapacity(Nat64.fromNat(blob.size()))) return null;
    Region.storeBlob(region, 0, blob);
    let written = counter();
    let loaded = Region.loadBlob(region, 0, blob.size());
    let decoded = switch (Text.decodeUtf8(loaded)) {
      case (?text) JsonReader(text).readArray();
      case null null;
    };
    let read = counter();
    ?{
      format = "json";
      bytes = blob.size();
      writeInstructions = written - start;
      readInstructions = read - written;
      roundTrip = switch decoded { case (?back) sameRecords(records, back); case null false };
    }
  };

  /// Writes `count` generated records in each format and reads them back (1 to 5,000 records).
  public query func measure(count : Nat) : async MeasureResult {
    if (count == 0 or count > maxRecords) return #err(#invalidArgument("count must be between 1 and " # Nat.toText(maxRecords) # " records"));
    let records = Array.tabulate<Record>(count, func(i) = Records.generate(Nat64.fromNat(i)));
    let results = [candidRoundTrip(records), binaryRoundTrip(records), jsonRoundTrip(records)];
    let formats = Array.filterMap<?FormatResult, FormatResult>(results, func(r) = r);
    if (formats.size() != results.size()) return #err(#limitReached("stable memory could not grow for this many records"));
    #ok({ records = count; formats })
  };

  public query func limits() : async { maxRecords : Nat } { { maxRecords } };

  /// One method, one small number: larger ingress is dropped before it costs anything.
  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
