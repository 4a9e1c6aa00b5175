/// Stable memory, the working group's answer: the records live in a stable
/// structure written straight into a `Region` of stable memory, so there is
/// nothing to copy on upgrade. Compiled with classic persistence, the same as
/// stable-memory-classic, so the two differ only in where the data lives: the
/// heap is wiped on every upgrade here too, and whatever survives is what the
/// region holds.
///
/// The structure is an append-only log with a fixed-width index, the layout of
/// ic-stable-structures' StableVec/StableLog (session 2022-08-18):
///   index region: record i at byte i * 12 = [data offset : Nat64][length : Nat32]
///   data region:  [id : Nat64][score : Nat32][title length : Nat16][title][body length : Nat16][body]
///                 (lib/RecordLayout.mo writes and reads it)
/// All integers little-endian, as Region stores them. Reading record i costs
/// two loads, whatever the number of records.
import Region "mo:core/Region";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Principal "mo:core/Principal";
import Text "mo:core/Text";
import Array "mo:core/Array";
import IC "mo:core/InternetComputer";
import Records "../lib/Records";
import RecordLayout "../lib/RecordLayout";
import StoreKit "../lib/StoreKit";

persistent actor StableMemoryRegion {
  type Record = Records.Record;

  let ledger = StoreKit.newLedger();
  let hourlyRecords = StoreKit.newHourlyRecords();
  let index = Region.new();
  let data = Region.new();
  var recordCount = 0;
  var dataEnd : Nat64 = 0;
  var recordBytes = 0;

  let slotBytes : Nat64 = 12;
  let pageBytes : Nat64 = 65536;
  /// Region.grow's failure sentinel (Region.mo: "returns 2^64 - 1").
  let growFailed : Nat64 = 0xFFFF_FFFF_FFFF_FFFF;

  /// Grows `region` so that bytes [0, end) are addressable; false when stable memory is exhausted.
  func ensureCapacity(region : Region.Region, end : Nat64) : Bool {
    let needed = (end + pageBytes - 1) / pageBytes;
    let current = Region.size(region);
    if (needed <= current) return true;
    Region.grow(region, needed - current) != growFailed
  };

  func read(i : Nat) : Record {
    let slot = Nat64.fromNat(i) * slotBytes;
    RecordLayout.load(data, Region.loadNat64(index, slot), decodeText).0
  };

  // Only this canister writes the region, always valid UTF-8; a failure here
  // means the region is corrupt, which `verify` reports as a mismatch.
  func decodeText(bytes : Blob) : Text = switch (Text.decodeUtf8(bytes)) {
    case (?text) text;
    case null "\u{FFFD}";
  };

  public shared func addRecords(count : Nat) : async StoreKit.AddResult {
    switch (StoreKit.admitAdd(ledger, hourlyRecords, count, recordCount)) { case (?error) return #err(error); case null {} };
    let batch = Array.tabulate<Record>(count, func(k) = Records.generate(Nat64.fromNat(recordCount + k)));
    var batchBytes : Nat64 = 0;
    for (record in batch.vals()) batchBytes += Nat64.fromNat(Records.encodedSize(record));
    // Grow both regions before writing anything, so a full stable memory leaves the store unchanged.
    if (not ensureCapacity(data, dataEnd + batchBytes) or not ensureCapacity(index, Nat64.fromNat(recordCount + count) * slotBytes)) {
      return #err(#limitReached("stable memory cannot grow any further; ask the lab canister to reset the store"));
    };
    for (record in batch.vals()) {
      let size = RecordLayout.store(data, dataEnd, record);
      let slot = Nat64.fromNat(recordCount) * slotBytes;
      Region.storeNat64(index, slot, dataEnd);
      Region.storeNat32(index, slot + 8, Nat64.toNat32(size));
      dataEnd += size;
      recordBytes += Nat64.toNat(size);
      recordCount += 1;
    };
    let operation = StoreKit.finishOperation(ledger, "add", count);
    #ok({ added = count; records = recordCount; instructions = operation.instructions })
  };

  /// Empties the store (its pages stay allocated and are reused: regions never shrink).
  /// Controllers only (the lab canister resets stores for visitors).
  public shared ({ caller }) func clear() : async StoreKit.ClearResult {
    if (not Principal.isController(caller)) return #err(StoreKit.notController());
    let dropped = recordCount;
    recordCount := 0;
    dataEnd := 0;
    recordBytes := 0;
    #ok(StoreKit.finishOperation(ledger, "clear", dropped))
  };

  public shared ({ caller }) func configure(limits : StoreKit.Limits) : async StoreKit.ConfigureResult {
    if (not Principal.isController(caller)) return #err(StoreKit.notController());
    StoreKit.configure(ledger, limits)
  };

  public query func stats() : async StoreKit.Stats {
    let pages = Nat64.toNat(Region.size(index) + Region.size(data));
    StoreKit.stats(ledger, "region", "a stable structure written directly into a stable-memory Region (nothing to copy on upgrade)", recordCount, recordBytes, pages)
  };

  public query func getRecords(start : Nat, limit : Nat) : async StoreKit.RecordsResult {
    switch (StoreKit.checkPage(start, limit, recordCount)) { case (?error) return #err(error); case null {} };
    #ok(Array.tabulate<Record>(Nat.min(recordCount, start + limit) - start, func(k) = read(start + k)))
  };

  /// Checks every record against what was added: the proof that an upgrade dropped nothing.
  public query func verify() : async StoreKit.Verification {
    var mismatches = 0;
    var firstMismatch : ?Nat64 = null;
    var i = 0;
    while (i < recordCount) {
      let record = read(i);
      if (record.id != Nat64.fromNat(i) or not Records.matches(record)) {
        mismatches += 1;
        if (firstMismatch == null) firstMismatch := ?Nat64.fromNat(i);
      };
      i += 1;
    };
    { records = recordCount; mismatches; firstMismatch; instructions = IC.performanceCounter(0) }
  };

  public query func upgradeHistory() : async [StoreKit.UpgradeCost] { StoreKit.history(ledger) };

  // No data moves in either hook; they only take the measurements.
  system func preupgrade() { StoreKit.finishPreUpgrade(ledger) };
  system func postupgrade() {
    StoreKit.startPostUpgrade(ledger);
    StoreKit.finishPostUpgrade(ledger, recordCount);
  };

  /// Every method takes a few small numbers: larger ingress is dropped before it costs anything.
  system func inspect({ arg : Blob }) : Bool { arg.size() <= 256 };
};
