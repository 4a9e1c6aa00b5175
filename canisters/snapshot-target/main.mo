/// The canister of the snapshots demo: a list of generated records (lib/Records.mo) that
/// visitors grow, and that the lab canister, its controller, snapshots, wipes with a mistaken
/// reinstall and restores. `stats` gives the count and a checksum over every record, so a
/// visitor can see that what came back is exactly what was there.
///
/// Visitors add at most 1,000 records per call and 10,000 in all, and everyone together at most
/// 50,000 per hour (a reinstall empties the list, so the total alone would not bound the work).
import List "mo:core/List";
import Nat "mo:core/Nat";
import Nat32 "mo:core/Nat32";
import Nat64 "mo:core/Nat64";
import Text "mo:core/Text";
import Time "mo:core/Time";
import Prim "mo:⛔";
import Errors "../lib/Errors";
import RateLimit "../lib/RateLimit";
import Records "../lib/Records";

persistent actor SnapshotTarget {
  type Record = Records.Record;

  public type Stats = {
    records : Nat;
    /// FNV-1a over every record's id, score, title and body: equal checksums, equal data.
    checksum : Nat32;
    /// When the first record of this list was added (ns since 1970), null when empty.
    since : ?Int;
    heapBytes : Nat;
    maxRecords : Nat;
    maxBatch : Nat;
  };
  public type AddResult = { #ok : Stats; #err : Errors.Error };

  let maxRecords = 10_000;
  let maxBatch = 1_000;
  let hourly = RateLimit.new(50_000, 3600);
  var records = List.empty<Record>();
  var since : ?Int = null;

  func fnv(hash : Nat32, bytes : Blob) : Nat32 {
    var h = hash;
    for (b in bytes.vals()) h := (h ^ Nat32.fromNat(Prim.nat8ToNat(b))) *% 16_777_619;
    h
  };

  func checksum() : Nat32 {
    var h : Nat32 = 2_166_136_261;
    for (r in List.values(records)) {
      h := fnv(h, Text.encodeUtf8(Nat64.toText(r.id) # ":" # Nat32.toText(r.score) # ":" # r.title # ":" # r.body));
    };
    h
  };

  func stats() : Stats {
    { records = List.size(records); checksum = checksum(); since; heapBytes = Prim.rts_heap_size(); maxRecords; maxBatch }
  };

  public shared func addRecords(count : Nat) : async AddResult {
    if (count == 0 or count > maxBatch) return #err(#invalidArgument("add between 1 and " # Nat.toText(maxBatch) # " records at a time"));
    let held = List.size(records);
    if (held + count > maxRecords) return #err(#limitReached("the demo canister holds at most " # Nat.toText(maxRecords) # " records; it has " # Nat.toText(held)));
    switch (RateLimit.takeMany(hourly, Time.now(), count)) {
      case (#wait(seconds)) return #err(#rateLimited({ message = "visitors added many records in the last hour"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    if (since == null) since := ?Time.now();
    var id = held;
    while (id < held + count) {
      List.add(records, Records.generate(Nat64.fromNat(id)));
      id += 1;
    };
    #ok(stats())
  };

  public query func getStats() : async Stats { stats() };

  /// The last few records, newest first, to show on the page.
  public query func latest(limit : Nat) : async [Record] {
    let held = List.size(records);
    let n = Nat.min(Nat.min(limit, 10), held);
    List.sliceToArray(records, held - n, held)
  };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
