/// Stable memory, today's Motoko: enhanced orthogonal persistence. The records
/// are an ordinary stable variable in the heap, and the heap itself (Wasm
/// memory, 64-bit) is kept across upgrades, so an upgrade copies nothing and its
/// cost does not depend on how much is stored.
import List "mo:core/List";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Principal "mo:core/Principal";
import IC "mo:core/InternetComputer";
import Records "../lib/Records";
import StoreKit "../lib/StoreKit";

persistent actor StableMemoryEop {
  type Record = Records.Record;

  let ledger = StoreKit.newLedger();
  let hourlyRecords = StoreKit.newHourlyRecords();
  var records = List.empty<Record>();
  var recordBytes = 0;

  public shared func addRecords(count : Nat) : async StoreKit.AddResult {
    let held = List.size(records);
    switch (StoreKit.admitAdd(ledger, hourlyRecords, count, held)) { case (?error) return #err(error); case null {} };
    var id = held;
    while (id < held + count) {
      let record = Records.generate(Nat64.fromNat(id));
      recordBytes += Records.encodedSize(record);
      List.add(records, record);
      id += 1;
    };
    let operation = StoreKit.finishOperation(ledger, "add", count);
    #ok({ added = count; records = List.size(records); instructions = operation.instructions })
  };

  /// Empties the store. Controllers only (the lab canister resets stores for visitors).
  public shared ({ caller }) func clear() : async StoreKit.ClearResult {
    if (not Principal.isController(caller)) return #err(StoreKit.notController());
    let dropped = List.size(records);
    records := List.empty<Record>();
    recordBytes := 0;
    #ok(StoreKit.finishOperation(ledger, "clear", dropped))
  };

  public shared ({ caller }) func configure(limits : StoreKit.Limits) : async StoreKit.ConfigureResult {
    if (not Principal.isController(caller)) return #err(StoreKit.notController());
    StoreKit.configure(ledger, limits)
  };

  public query func stats() : async StoreKit.Stats {
    StoreKit.stats(ledger, "eop", "stable variables in a heap that survives upgrades (enhanced orthogonal persistence)", List.size(records), recordBytes, 0)
  };

  public query func getRecords(start : Nat, limit : Nat) : async StoreKit.RecordsResult {
    let held = List.size(records);
    switch (StoreKit.checkPage(start, limit, held)) { case (?error) return #err(error); case null {} };
    #ok(List.sliceToArray(records, start, Nat.min(held, start + limit)))
  };

  /// Checks every record against what was added: the proof that an upgrade dropped nothing.
  public query func verify() : async StoreKit.Verification {
    var mismatches = 0;
    var firstMismatch : ?Nat64 = null;
    var expectedId : Nat64 = 0;
    for (record in List.values(records)) {
      if (record.id != expectedId or not Records.matches(record)) {
        mismatches += 1;
        if (firstMismatch == null) firstMismatch := ?expectedId;
      };
      expectedId += 1;
    };
    { records = List.size(records); mismatches; firstMismatch; instructions = IC.performanceCounter(0) }
  };

  public query func upgradeHistory() : async [StoreKit.UpgradeCost] { StoreKit.history(ledger) };

  // No data moves in either hook; they only take the measurements.
  system func preupgrade() { StoreKit.finishPreUpgrade(ledger) };
  system func postupgrade() {
    StoreKit.startPostUpgrade(ledger);
    StoreKit.finishPostUpgrade(ledger, List.size(records));
  };

  /// Every method takes a few small numbers: larger ingress is dropped before it costs anything.
  system func inspect({ arg : Blob }) : Bool { arg.size() <= 256 };
};
