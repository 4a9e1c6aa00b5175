/// The composite-query demo's front canister. It owns K partition canisters
/// (an actor class, created on `setup`) and answers one search two ways:
///
/// - `search`, a composite query: the front calls every partition's query
///   method within one non-replicated execution; no consensus, so it answers in
///   about the time of a query plus the fan-out (sessions 2022-10-20, 2023-06-15).
/// - `searchUpdate`, an update: the same fan-out with ordinary inter-canister
///   calls, each a replicated message; slower, but its result is agreed on by
///   the subnet (and may change state, which this one does not).
///
/// Both return the same hits plus what each partition spent, so the page can
/// put latency and cost side by side. Composite queries reach only canisters on
/// the caller's subnet; the partitions qualify because the front creates them
/// (create_canister places a canister on its creator's subnet).
import Array "mo:core/Array";
import List "mo:core/List";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Principal "mo:core/Principal";
import Error "mo:core/Error";
import Cycles "mo:core/Cycles";
import IC "mo:core/InternetComputer";
import Errors "../lib/Errors";
import Search "../lib/Search";
import Partition "../composite-partition/main";

persistent actor CompositeFront {
  public type PartitionReport = {
    partition : Nat;
    canisterId : Principal;
    matches : Nat;
    returned : Nat;
    /// Instructions the partition reported for its own search.
    instructions : Nat64;
    /// Set when this partition failed; the search then carries the others' hits.
    error : ?Text;
  };

  public type SearchReport = {
    /// "composite query" or "update": which path answered.
    path : Text;
    terms : [Text];
    /// The first `limit` hits across all partitions, by id.
    hits : [Search.Hit];
    totalMatches : Nat;
    partitions : [PartitionReport];
    /// Instructions the front itself spent (issuing calls, merging), summed over
    /// its executions between awaits (performance counter 0 restarts at each await).
    frontInstructions : Nat64;
  };

  public type SearchResult = { #ok : SearchReport; #err : Errors.Error };

  public type PartitionInfo = { partition : Nat; canisterId : Principal; documents : Nat };
  public type SetupResult = { #ok : [PartitionInfo]; #err : Errors.Error };

  public type SetupArgs = {
    /// Number of partitions to create (1 to 8).
    partitions : Nat;
    /// Documents each partition generates (1 to 10000).
    documentsPerPartition : Nat;
    /// Cycles given to each new partition canister (creation costs cycles on the IC).
    cyclesPerPartition : Nat;
  };

  let maxPartitions = 8;
  /// Cycles the front keeps for itself after paying for its partitions.
  let cyclesReserve = 500_000_000_000;
  let maxDocuments = 10_000;

  var partitions : [Partition.Partition] = [];
  var documentsPerPartition = 0;
  var settingUp = false;

  /// Creates the partition canisters. Controllers only, once.
  public shared ({ caller }) func setup(args : SetupArgs) : async SetupResult {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller of the front may create partitions"));
    if (partitions.size() > 0 or settingUp) return #err(#invalidArgument("the partitions exist already (" # Nat.toText(partitions.size()) # ")"));
    if (args.partitions == 0 or args.partitions > maxPartitions) return #err(#invalidArgument("partitions must be between 1 and " # Nat.toText(maxPartitions)));
    if (args.documentsPerPartition == 0 or args.documentsPerPartition > maxDocuments) return #err(#invalidArgument("documentsPerPartition must be between 1 and " # Nat.toText(maxDocuments)));
    let needed = args.partitions * args.cyclesPerPartition + cyclesReserve;
    if (Cycles.balance() < needed) return #err(#limitReached(
      "the front holds " # Nat.toText(Cycles.balance()) # " cycles; " # Nat.toText(args.partitions) # " partitions of " #
      Nat.toText(args.cyclesPerPartition) # " plus a reserve of " # Nat.toText(cyclesReserve) # " need " # Nat.toText(needed)
    ));
    settingUp := true;
    let created = List.empty<Partition.Partition>();
    for (index in Nat.range(0, args.partitions)) {
      try {
        let partition = await (with cycles = args.cyclesPerPartition) Partition.Partition({ index; documents = args.documentsPerPartition });
        List.add(created, partition);
      } catch (error) {
        settingUp := false;
        // Partitions made so far stay owned by the front but unused; a retry starts over.
        return #err(#unavailable("creating partition " # Nat.toText(index) # " failed: " # Error.message(error)));
      };
    };
    partitions := List.toArray(created);
    documentsPerPartition := args.documentsPerPartition;
    settingUp := false;
    #ok(describe())
  };

  func describe() : [PartitionInfo] = Array.tabulate<PartitionInfo>(
    partitions.size(),
    func(i) = { partition = i; canisterId = Principal.fromActor(partitions[i]); documents = documentsPerPartition },
  );

  public query func listPartitions() : async [PartitionInfo] { describe() };

  /// Upgrades every partition to the partition code built into this front. Controllers only;
  /// run it after upgrading the front when the partition code changed (the front is the
  /// partitions' only controller). Stops at the first failure; a retry continues safely.
  public shared ({ caller }) func upgradePartitions() : async SetupResult {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller of the front may upgrade its partitions"));
    for ((index, partition) in partitions.enumerate()) {
      try {
        ignore await (system Partition.Partition)(#upgrade(partition))({ index; documents = documentsPerPartition });
      } catch (error) {
        return #err(#unavailable("upgrading partition " # Nat.toText(index) # " failed: " # Error.message(error)));
      };
    };
    #ok(describe())
  };

  func checkSearch(searchText : Text, limit : Nat) : { #ok : [Text]; #err : Errors.Error } {
    let terms = switch (Search.parse(searchText, limit)) { case (#ok(terms)) terms; case (#err(error)) return #err(error) };
    if (partitions.size() == 0) return #err(#unavailable("the front has no partitions yet (a controller calls setup)"));
    #ok(terms)
  };

  /// Collects the partitions' answers in partition order and merges the hits by id.
  /// Both search paths use it, so they can only differ in how the calls travel.
  class Merge(path : Text, terms : [Text], limit : Nat) {
    let reports = List.empty<PartitionReport>();
    let hits = List.empty<Search.Hit>();
    var totalMatches = 0;
    /// Instructions the front spent, summed over its executions between awaits.
    public var frontInstructions : Nat64 = 0;

    public func answer(index : Nat, result : Search.PartitionResult) {
      let canisterId = Principal.fromActor(partitions[index]);
      switch result {
        case (#ok(answer)) {
          List.addAll(hits, answer.hits.vals());
          totalMatches += answer.matches;
          List.add(reports, { partition = index; canisterId; matches = answer.matches; returned = answer.hits.size(); instructions = answer.instructions; error = null });
        };
        case (#err(error)) failure(index, debug_show (error));
      };
    };

    public func failure(index : Nat, message : Text) {
      List.add(reports, { partition = index; canisterId = Principal.fromActor(partitions[index]); matches = 0; returned = 0; instructions = 0 : Nat64; error = ?message });
    };

    public func report() : SearchReport {
      List.sortInPlace<Search.Hit>(hits, func(a, b) = Nat64.compare(a.id, b.id));
      let merged = List.sliceToArray(hits, 0, Nat.min(limit, List.size(hits)));
      frontInstructions += IC.performanceCounter(0);
      { path; terms; hits = merged; totalMatches; partitions = List.toArray(reports); frontInstructions }
    };
  };

  // The two methods below are the same loop on purpose: a composite query may
  // only call query methods, and Motoko does not let it share an async helper
  // (async*) with an update, so only the synchronous parts are shared (Merge).

  public composite query func search(searchText : Text, limit : Nat) : async SearchResult {
    let terms = switch (checkSearch(searchText, limit)) { case (#ok(terms)) terms; case (#err(error)) return #err(error) };
    let merge = Merge("composite query", terms, limit);
    // Issue every call before awaiting any: the partitions work in parallel.
    let pending = List.empty<async Search.PartitionResult>();
    for (partition in partitions.vals()) List.add(pending, partition.search(searchText, limit));
    for ((index, future) in List.enumerate(pending)) {
      merge.frontInstructions += IC.performanceCounter(0);
      try { merge.answer(index, await future) } catch (error) { merge.failure(index, Error.message(error)) };
    };
    #ok(merge.report())
  };

  public func searchUpdate(searchText : Text, limit : Nat) : async SearchResult {
    let terms = switch (checkSearch(searchText, limit)) { case (#ok(terms)) terms; case (#err(error)) return #err(error) };
    let merge = Merge("update", terms, limit);
    let pending = List.empty<async Search.PartitionResult>();
    for (partition in partitions.vals()) List.add(pending, partition.search(searchText, limit));
    for ((index, future) in List.enumerate(pending)) {
      merge.frontInstructions += IC.performanceCounter(0);
      try { merge.answer(index, await future) } catch (error) { merge.failure(index, Error.message(error)) };
    };
    #ok(merge.report())
  };

  /// Drops oversized ingress before it is paid for (every method takes a few bytes).
  system func inspect({ arg : Blob }) : Bool { arg.size() <= 1024 };
};
