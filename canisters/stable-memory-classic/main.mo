/// Stable memory, the 2022 way: records live in an ordinary heap structure, and
/// an upgrade serialises all of them into stable memory in pre_upgrade and reads
/// them back in post_upgrade. Compiled with classic persistence (wasm32): the
/// heap does not survive an upgrade, so everything must travel through that
/// copy, and its cost grows with the data until it no longer fits in the
/// upgrade's instruction limit (the problem session 2022-08-18 started from).
import List "mo:core/List";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Principal "mo:core/Principal";
import Runtime "mo:core/Runtime";
import IC "mo:core/InternetComputer";
import Records "../lib/Records";
import StoreKit "../lib/StoreKit";

persistent actor StableMemoryClassic {
  type Record = Records.Record;

  let ledger = StoreKit.newLedger();
  let hourlyRecords = StoreKit.newHourlyRecords();

  /// The working copy. `transient`: classic persistence drops it on upgrade.
  transient var records = List.empty<Record>();
  transient var recordBytes = 0;

  /// The serialised records, written in pre_upgrade and emptied again once
  /// post_upgrade has decoded them. Candid, as `to_candid` produces it.
  var upgradeStash : Blob = "";

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
    StoreKit.stats(ledger, "classic", "heap data copied to stable memory in pre_upgrade and back in post_upgrade (classic persistence)", List.size(records), recordBytes, 0)
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

  system func preupgrade() {
    upgradeStash := to_candid (List.toArray(records));
    StoreKit.finishPreUpgrade(ledger);
  };

  system func postupgrade() {
    StoreKit.startPostUpgrade(ledger);
    let restored : ?[Record] = from_candid (upgradeStash);
    switch (restored) {
      case (?array) {
        records := List.fromArray(array);
        for (record in array.vals()) recordBytes += Records.encodedSize(record);
      };
      // Trapping here rolls the upgrade back and keeps the old version running with its data.
      case null Runtime.trap("stable-memory-classic: the upgrade stash does not decode as [Record]; refusing to start without the data");
    };
    upgradeStash := "";
    StoreKit.finishPostUpgrade(ledger, List.size(records));
  };

  /// Every method takes a few small numbers: larger ingress is dropped before it costs anything.
  system func inspect({ arg : Blob }) : Bool { arg.size() <= 256 };
};
