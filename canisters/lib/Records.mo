/// The records the three stable-memory stores keep.
///
/// A record is generated from its id alone, so any store can check, record by
/// record, that what it holds after an upgrade is exactly what was added
/// (`matches`), without the client sending data or the stores trusting each other.
import Nat64 "mo:core/Nat64";
import Nat32 "mo:core/Nat32";
import Text "mo:core/Text";
import Array "mo:core/Array";
import VarArray "mo:core/VarArray";

module {
  public type Record = {
    id : Nat64;
    title : Text;
    body : Text;
    score : Nat32;
  };

  /// A small vocabulary drawn from the working group's topics, so generated
  /// bodies read like notes rather than noise. At most 32 words: a set of them
  /// fits a Nat32 (`wordSet`).
  public let words : [Text] = [
    "canister", "subnet", "query", "update", "upgrade", "stable", "memory", "region",
    "heap", "wasm", "cycles", "instructions", "replica", "certified", "bucket", "index",
    "shard", "partition", "composite", "latency", "throughput", "boundary", "node", "state",
  ];

  /// splitmix64 step: a cheap, well-mixed function of the id (the same on every store).
  func mix(x : Nat64) : Nat64 {
    var z = x +% 0x9E3779B97F4A7C15;
    z := (z ^ (z >> 30)) *% 0xBF58476D1CE4E5B9;
    z := (z ^ (z >> 27)) *% 0x94D049BB133111EB;
    z ^ (z >> 31)
  };

  /// The vocabulary positions of record `id`'s body words, in order, and its score.
  func draw(id : Nat64) : ([Nat], Nat32) {
    var state = mix(id);
    let wordCount = 8 + Nat64.toNat(state % 8);
    let picked = VarArray.repeat<Nat>(0, wordCount);
    var i = 0;
    while (i < wordCount) {
      state := mix(state);
      picked[i] := Nat64.toNat(state % Nat64.fromNat(words.size()));
      i += 1;
    };
    (Array.fromVarArray(picked), Nat32.fromNat64(mix(state) % 1000))
  };

  /// Record `id`: a title, a body of 8 to 15 words (about 60 to 120 bytes) and a score.
  public func generate(id : Nat64) : Record {
    let (picked, score) = draw(id);
    {
      id;
      title = flat("Record " # Nat64.toText(id));
      body = flat(Text.join(Array.map<Nat, Text>(picked, func(w) = words[w]).vals(), " "));
      score;
    }
  };

  /// The same text as one contiguous string. `#` builds a tree of concatenation
  /// nodes, several times larger than the characters it holds; a store of
  /// generated records would mostly hold those nodes.
  func flat(text : Text) : Text = switch (Text.decodeUtf8(Text.encodeUtf8(text))) {
    case (?copy) copy;
    case null text;
  };

  /// The set of vocabulary words in record `id`'s body, bit i standing for `words[i]`.
  public func wordSet(id : Nat64) : Nat32 {
    let (picked, _) = draw(id);
    var set : Nat32 = 0;
    for (w in picked.vals()) set |= (1 : Nat32) << Nat32.fromNat(w);
    set
  };

  /// True when `record` is exactly what `generate(record.id)` produces.
  public func matches(record : Record) : Bool {
    let expected = generate(record.id);
    record.title == expected.title and record.body == expected.body and record.score == expected.score
  };

  /// Encoded size in the Region store's layout (see canisters/stable-memory-region/main.mo).
  public func encodedSize(record : Record) : Nat {
    8 + 4 + 2 + Text.encodeUtf8(record.title).size() + 2 + Text.encodeUtf8(record.body).size()
  };
};
