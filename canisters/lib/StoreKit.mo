/// What the three stable-memory stores share: their public types (so all three
/// expose the same Candid interface and the demo can treat them alike), input
/// validation, and the bookkeeping of operation and upgrade costs.
///
/// Upgrade cost. An upgrade runs the old code's canister_pre_upgrade, then the
/// new code's start function and canister_post_upgrade (IC interface spec,
/// "Canister upgrades"). Motoko's runtime counts everything up to the user's
/// `postupgrade` hook (pre_upgrade with the writing out of stable variables,
/// then start and the reading back), and the hook itself is measured here with
/// performance counter 0 ("instructions executed in the current message",
/// ic0.performance_counter); the two together are the upgrade's cost.
/// The user pre-upgrade hook is measured separately too, so the page can show
/// how much of the cost is the store's own serialisation.
import List "mo:core/List";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Time "mo:core/Time";
import IC "mo:core/InternetComputer";
import Errors "Errors";
import RateLimit "RateLimit";
import RuntimeStats "RuntimeStats";
import Records "Records";

module {
  public type Record = Records.Record;
  public type Error = Errors.Error;

  public type Operation = {
    /// "add" or "clear".
    kind : Text;
    /// Records the operation touched.
    records : Nat;
    /// Instructions the operation's message executed (performance counter 0).
    instructions : Nat64;
    /// When it ran (nanoseconds since 1970-01-01).
    at : Int;
  };

  public type UpgradeCost = {
    /// Records held when the upgrade ran.
    records : Nat;
    /// The user pre_upgrade hook alone (the classic store serialises its records there).
    preUpgradeHookInstructions : Nat64;
    /// The user post_upgrade hook alone (the classic store decodes its records there).
    postUpgradeHookInstructions : Nat64;
    /// The runtime's share: writing and reading stable variables, start-up.
    runtimeInstructions : Nat64;
    /// Everything the upgrade executed in this canister: runtime plus post_upgrade hook
    /// (the pre_upgrade hook is inside the runtime's count).
    totalInstructions : Nat64;
    at : Int;
  };

  public type Stats = {
    /// "classic", "region" or "eop": which store this is.
    store : Text;
    /// How the store keeps data across upgrades, in one sentence.
    persistence : Text;
    records : Nat;
    maxRecords : Nat;
    maxBatch : Nat;
    /// Bytes of record data (encoded as the Region store lays it out; comparable across stores).
    recordBytes : Nat;
    memory : RuntimeStats.MemoryStats;
    /// Pages (64 KiB) of the store's own regions; 0 for stores that use none.
    regionPages : Nat;
    lastOperation : ?Operation;
    lastUpgrade : ?UpgradeCost;
    upgrades : Nat;
  };

  public type AddReport = { added : Nat; records : Nat; instructions : Nat64 };
  public type AddResult = { #ok : AddReport; #err : Error };
  public type ClearResult = { #ok : Operation; #err : Error };
  public type RecordsResult = { #ok : [Record]; #err : Error };
  public type Verification = {
    records : Nat;
    /// Records that differ from what was added (0 means nothing was dropped or changed).
    mismatches : Nat;
    firstMismatch : ?Nat64;
    instructions : Nat64;
  };
  public type Limits = { maxRecords : ?Nat; maxBatch : ?Nat };
  public type ConfigureResult = { #ok : { maxRecords : Nat; maxBatch : Nat }; #err : Error };

  /// Hard ceilings a controller cannot raise the limits past. They keep an upgrade of
  /// the classic store well inside the IC's install limit (50,000 records cost about
  /// 0.3B of its 300B instructions on the local replica) and the EOP store's Wasm
  /// memory around 200 MiB at the default cap.
  public let ceilingRecords = 100_000;
  public let ceilingBatch = 10_000;
  public let pageLimit = 100;
  let historyLength = 64;

  /// Per-store bookkeeping, kept in stable state by every store.
  public type Ledger = {
    var maxRecords : Nat;
    var maxBatch : Nat;
    var lastOperation : ?Operation;
    var lastUpgrade : ?UpgradeCost;
    var upgrades : Nat;
    /// Set at the end of the pre_upgrade hook, consumed by post_upgrade.
    var pendingPreUpgrade : ?Nat64;
    /// Performance counter 0 when the post_upgrade hook began.
    var postUpgradeStart : Nat64;
    history : List.List<UpgradeCost>;
  };

  public func newLedger() : Ledger {
    {
      var maxRecords = 50_000;
      var maxBatch = 5_000;
      var lastOperation = null;
      var lastUpgrade = null;
      var upgrades = 0;
      var pendingPreUpgrade = null;
      var postUpgradeStart = 0;
      history = List.empty<UpgradeCost>();
    }
  };

  /// Records all visitors together may add per hour: four stores' worth. With the lab's
  /// reset budget this bounds what strangers can make a store compute, not only what it holds.
  public let fillsPerHour = 4;

  /// Kept in its own stable variable by each store (added after the Ledger's type was fixed).
  public func newHourlyRecords() : RateLimit.RateLimit = RateLimit.new(fillsPerHour * 50_000, 3600);

  /// Checks an addRecords request against the batch, total and hourly caps; counts it when it passes.
  public func admitAdd(self : Ledger, hourly : RateLimit.RateLimit, count : Nat, held : Nat) : ?Error {
    switch (checkAdd(self, count, held)) { case (?error) return ?error; case null {} };
    hourly.limit := fillsPerHour * self.maxRecords;
    switch (RateLimit.takeMany(hourly, Time.now(), count)) {
      case (#ok) null;
      case (#wait(seconds)) ?#rateLimited({
        message = "visitors have added " # Nat.toText(hourly.limit) # " records to this store within the hour, " # Nat.toText(fillsPerHour) # " times its capacity";
        retryAfterSeconds = seconds;
      });
    }
  };

  /// Checks an addRecords request against the batch and total caps.
  public func checkAdd(self : Ledger, count : Nat, held : Nat) : ?Error {
    if (count == 0) return ?#invalidArgument("count must be at least 1");
    if (count > self.maxBatch) return ?#invalidArgument(
      "count " # Nat.toText(count) # " is above the batch limit of " # Nat.toText(self.maxBatch) # "; add in smaller batches"
    );
    if (held + count > self.maxRecords) return ?#limitReached(
      "the store holds " # Nat.toText(held) # " of at most " # Nat.toText(self.maxRecords) #
      " records; ask the lab canister to reset it, or add at most " # Nat.toText(self.maxRecords - held)
    );
    null
  };

  public func checkPage(start : Nat, limit : Nat, held : Nat) : ?Error {
    if (limit == 0 or limit > pageLimit) return ?#invalidArgument("limit must be between 1 and " # Nat.toText(pageLimit));
    if (start > held) return ?#invalidArgument("start " # Nat.toText(start) # " is past the last record (" # Nat.toText(held) # " held)");
    null
  };

  public func configure(self : Ledger, limits : Limits) : ConfigureResult {
    switch (limits.maxRecords) {
      case (?n) if (n == 0 or n > ceilingRecords) return #err(#invalidArgument("maxRecords must be between 1 and " # Nat.toText(ceilingRecords)));
      case null {};
    };
    switch (limits.maxBatch) {
      case (?n) if (n == 0 or n > ceilingBatch) return #err(#invalidArgument("maxBatch must be between 1 and " # Nat.toText(ceilingBatch)));
      case null {};
    };
    switch (limits.maxRecords) { case (?n) self.maxRecords := n; case null {} };
    switch (limits.maxBatch) { case (?n) self.maxBatch := n; case null {} };
    #ok({ maxRecords = self.maxRecords; maxBatch = self.maxBatch })
  };

  /// Records the current message as the last operation and returns it.
  public func finishOperation(self : Ledger, kind : Text, records : Nat) : Operation {
    let operation = { kind; records; instructions = IC.performanceCounter(0); at = Time.now() };
    self.lastOperation := ?operation;
    operation
  };

  public func finishPreUpgrade(self : Ledger) {
    self.pendingPreUpgrade := ?IC.performanceCounter(0);
  };

  /// Call first thing in the post_upgrade hook.
  public func startPostUpgrade(self : Ledger) {
    self.postUpgradeStart := IC.performanceCounter(0);
  };

  /// Call last thing in the post_upgrade hook.
  public func finishPostUpgrade(self : Ledger, records : Nat) {
    let hook = IC.performanceCounter(0) - self.postUpgradeStart;
    let runtime = Nat64.fromNat(RuntimeStats.lastUpgradeInstructions());
    let cost = {
      records;
      preUpgradeHookInstructions = switch (self.pendingPreUpgrade) { case (?n) n; case null 0 : Nat64 };
      postUpgradeHookInstructions = hook;
      runtimeInstructions = runtime;
      totalInstructions = runtime + hook;
      at = Time.now();
    };
    self.pendingPreUpgrade := null;
    self.lastUpgrade := ?cost;
    self.upgrades += 1;
    // Keep only the latest entries: the history is for a chart, not an audit log.
    if (List.size(self.history) >= historyLength) {
      let kept = List.toArray(self.history);
      List.clear(self.history);
      var i = kept.size() - historyLength + 1;
      while (i < kept.size()) { List.add(self.history, kept[i]); i += 1 };
    };
    List.add(self.history, cost);
  };

  public func stats(self : Ledger, store : Text, persistence : Text, records : Nat, recordBytes : Nat, regionPages : Nat) : Stats {
    {
      store;
      persistence;
      records;
      maxRecords = self.maxRecords;
      maxBatch = self.maxBatch;
      recordBytes;
      memory = RuntimeStats.memory();
      regionPages;
      lastOperation = self.lastOperation;
      lastUpgrade = self.lastUpgrade;
      upgrades = self.upgrades;
    }
  };

  public func history(self : Ledger) : [UpgradeCost] = List.toArray(self.history);

  public func notController() : Error = #notAuthorized("only a controller of this canister (such as the lab canister) may do this");
};
