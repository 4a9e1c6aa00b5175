/// The sharding demo's index canister: it creates bucket canisters (an actor
/// class) as data arrives, routes every key to one bucket, and answers lookups
/// itself or tells a client which bucket to ask directly (sessions 2023-04-20,
/// 2023-05-25).
///
/// Routing scheme: a directory with fill-the-newest placement. The index keeps
/// one directory entry per key (key -> bucket, owner). A new key goes to the
/// newest bucket; when that bucket holds `bucketCapacity` keys, the index creates
/// the next bucket and new keys go there. Why this and not hashing: adding a
/// bucket never moves an existing key (hash-mod-N moves most keys, consistent
/// hashing still moves some and needs a migration protocol while both copies
/// exist), a lookup is one map read, and bucket count follows the data rather
/// than being fixed up front. The price is the directory itself: the index holds
/// an entry per key, which the caps below bound; a system that outgrows one index
/// shards the directory too, or routes by key ranges so that the index holds one
/// entry per bucket instead of per key.
///
/// Public, so it defends itself: key and value sizes, entries per caller,
/// total buckets, cycles per bucket and writes per minute are capped; only
/// controllers configure.
import Map "mo:core/Map";
import List "mo:core/List";
import Array "mo:core/Array";
import Text "mo:core/Text";
import Nat "mo:core/Nat";
import Principal "mo:core/Principal";
import Error "mo:core/Error";
import Cycles "mo:core/Cycles";
import Time "mo:core/Time";
import Errors "../lib/Errors";
import RateLimit "../lib/RateLimit";
import RuntimeStats "../lib/RuntimeStats";
import Sharding "../lib/Sharding";
import Bucket "../sharding-bucket/main";

persistent actor ShardingIndex {
  type Error = Errors.Error;

  public type Config = {
    /// Keys a bucket takes before the index creates the next one.
    bucketCapacity : Nat;
    maxBuckets : Nat;
    maxEntriesPerCaller : Nat;
    /// Cycles each new bucket canister receives (creation itself costs cycles on the IC).
    cyclesPerBucket : Nat;
  };

  public type BucketInfo = { bucket : Nat; bucketId : Principal; keys : Nat; capacity : Nat };
  public type Location = { key : Text; bucket : Nat; bucketId : Principal };
  public type LocationResult = { #ok : Location; #err : Error };
  public type ConfigResult = { #ok : Config; #err : Error };
  public type BucketStatsReport = {
    index : { keys : Nat; memory : RuntimeStats.MemoryStats };
    buckets : [{ info : BucketInfo; stats : ?Sharding.BucketStats; error : ?Text }];
  };

  type Slot = { bucket : Bucket.Bucket; var keys : Nat };
  type Route = { bucket : Nat; owner : Principal };

  /// Cycles the index keeps for itself when paying for a new bucket, so creating buckets
  /// can never leave it frozen.
  let cyclesReserve = 500_000_000_000;

  /// Ceilings a controller cannot configure past.
  let ceilingCapacity = 1_000;
  let ceilingBuckets = 50;
  let ceilingPerCaller = 1_000;

  var config : Config = {
    bucketCapacity = 5;
    maxBuckets = 10;
    maxEntriesPerCaller = 20;
    cyclesPerBucket = 1_000_000_000_000;
  };

  /// Writes (put, delete) from all callers together per minute. Per-caller limits do not
  /// stop a stranger with many principals; this bounds the cycles writes can burn.
  let writesPerMinute = 300;
  let writeLimit = RateLimit.new(writesPerMinute, 60);

  func admitWrite() : ?Error = switch (RateLimit.takeNow(writeLimit)) {
    case (#ok) null;
    case (#wait(seconds)) ?#rateLimited({
      message = "the index takes at most " # Nat.toText(writesPerMinute) # " writes a minute from all callers together";
      retryAfterSeconds = seconds;
    });
  };

  /// Fair shares: no caller holds more than a third of all slots (however high
  /// maxEntriesPerCaller is set), and new keys from all callers together are capped per hour,
  /// of which one caller may claim a third. Fresh principals cost nothing, so the hourly cap is
  /// what keeps a swarm of them from taking every slot at once; anonymous callers may not write.
  let fairShareParts = 3;
  let newKeysPerHour = 60;
  let newKeyLimit = RateLimit.new(newKeysPerHour, 3600);
  let newKeyShares = RateLimit.newShares();

  /// Gives back one new key `caller` took from the hour's budget in the window that started at
  /// `window`, when the put was refused after all; nothing once that window has ended (the next
  /// one starts whole anyway).
  func refundNewKey(caller : Principal, window : Int) {
    if (newKeyLimit.windowStart != window or newKeyShares.window != window) return;
    RateLimit.refund(newKeyLimit, 1);
    switch (Map.get(newKeyShares.counts, Principal.compare, caller)) {
      case (?n) if (n > 1) Map.add(newKeyShares.counts, Principal.compare, caller, n - 1 : Nat) else Map.remove(newKeyShares.counts, Principal.compare, caller);
      case null {};
    };
  };

  func totalCapacity() : Nat = config.maxBuckets * config.bucketCapacity;

  /// The most keys one caller may hold: maxEntriesPerCaller, and at most a fair share of all slots.
  func holdingCap() : Nat = Nat.min(config.maxEntriesPerCaller, Nat.max(1, totalCapacity() / fairShareParts));

  func refuseAnonymous(caller : Principal) : ?Error {
    if (Principal.isAnonymous(caller)) ?#notAuthorized("sign in to write: keys belong to the principal that stores them, and anonymous callers would all share one") else null
  };

  let buckets = List.empty<Slot>();
  let directory = Map.empty<Text, Route>();
  let entriesPerCaller = Map.empty<Principal, Nat>();

  /// True while a bucket is being created. Motoko futures belong to the message
  /// that made them, so other puts cannot wait on it; they are told to retry in a
  /// second instead of creating a bucket each (a burst at the capacity boundary
  /// would otherwise create several).
  transient var creatingBucket = false;

  func info(i : Nat) : BucketInfo {
    let slot = List.at(buckets, i);
    { bucket = i; bucketId = Principal.fromActor(slot.bucket); keys = slot.keys; capacity = config.bucketCapacity }
  };

  func countOf(caller : Principal) : Nat = switch (Map.get(entriesPerCaller, Principal.compare, caller)) {
    case (?n) n;
    case null 0;
  };

  func adjustCount(caller : Principal, delta : Int) {
    let next = countOf(caller) + delta;
    if (next <= 0) Map.remove(entriesPerCaller, Principal.compare, caller)
    else Map.add(entriesPerCaller, Principal.compare, caller, Nat.fromInt(next));
  };

  /// The newest bucket while it has room, else null.
  func openBucket() : ?Nat {
    let n = List.size(buckets);
    if (n > 0 and List.at(buckets, n - 1).keys < config.bucketCapacity) ?(n - 1) else null
  };

  /// Finds the bucket a new key goes to, creating one when the newest is full.
  func placeNewKey() : async* { #ok : Nat; #err : Error } {
    switch (openBucket()) { case (?i) return #ok(i); case null {} };
    if (List.size(buckets) >= config.maxBuckets) {
      return #err(#limitReached("all " # Nat.toText(config.maxBuckets) # " buckets are full (" # Nat.toText(config.bucketCapacity) # " keys each); delete keys to make room"));
    };
    if (creatingBucket) return #err(#rateLimited({ message = "a new bucket is being created; try again in a moment"; retryAfterSeconds = 1 }));
    if (Cycles.balance() < config.cyclesPerBucket + cyclesReserve) {
      return #err(#limitReached(
        "the index holds " # Nat.toText(Cycles.balance()) # " cycles, too few to give a new bucket " # Nat.toText(config.cyclesPerBucket) #
        " and keep " # Nat.toText(cyclesReserve) # " for itself; top it up (e.g. dfx canister deposit-cycles)"
      ));
    };
    creatingBucket := true;
    let index = List.size(buckets);
    try {
      let bucket = await (with cycles = config.cyclesPerBucket) Bucket.Bucket({ bucket = index; index = Principal.fromActor(ShardingIndex) });
      List.add(buckets, { bucket; var keys = 0 });
      creatingBucket := false;
      #ok(index)
    } catch (error) {
      creatingBucket := false;
      #err(#unavailable("creating bucket " # Nat.toText(index) # " failed: " # Error.message(error)))
    }
  };

  /// Stores `value` under `key`. A key belongs to whoever first stored it.
  public shared ({ caller }) func put(key : Text, value : Text) : async Sharding.PutResult {
    switch (refuseAnonymous(caller)) { case (?error) return #err(error); case null {} };
    switch (Sharding.checkKey(key)) { case (?error) return #err(error); case null {} };
    switch (Sharding.checkValue(value)) { case (?error) return #err(error); case null {} };
    switch (admitWrite()) { case (?error) return #err(error); case null {} };
    switch (Map.get(directory, Text.compare, key)) {
      case (?route) {
        if (route.owner != caller) return #err(#notAuthorized("the key \"" # key # "\" belongs to another caller"));
        let slot = List.at(buckets, route.bucket);
        return try { await slot.bucket.put(key, value, caller) } catch (error) {
          #err(#unavailable("bucket " # Nat.toText(route.bucket) # " did not answer: " # Error.message(error)))
        };
      };
      case null {};
    };
    if (Map.size(directory) >= totalCapacity()) {
      return #err(#limitReached("all " # Nat.toText(config.maxBuckets) # " buckets are full (" # Nat.toText(config.bucketCapacity) # " keys each); delete keys to make room"));
    };
    if (countOf(caller) >= holdingCap()) {
      return #err(#limitReached(
        "you hold " # Nat.toText(countOf(caller)) # " keys, the most one caller may (" # Nat.toText(config.maxEntriesPerCaller) #
        " per caller, and no more than a third of the index's " # Nat.toText(totalCapacity()) # " slots); delete some first"
      ));
    };
    switch (RateLimit.takeShare(newKeyLimit, newKeyShares, caller, fairShareParts, 1, Time.now())) {
      case (#ok) {};
      case (#wait(seconds)) return #err(#rateLimited({ message = "the index takes at most " # Nat.toText(newKeysPerHour) # " new keys an hour from all callers together"; retryAfterSeconds = seconds }));
      case (#share(seconds)) return #err(#rateLimited({ message = "you have added your share of this hour's new keys (" # Nat.toText(RateLimit.shareOf(newKeyLimit, fairShareParts)) # "); the rest is kept for other callers"; retryAfterSeconds = seconds }));
    };
    // A put refused from here on stored nothing: it gives back the new key it took from the
    // hour's budget, or a caller told to retry while a bucket is created (as a burst at a
    // bucket's boundary is) would spend their share on refusals.
    let window = newKeyLimit.windowStart;
    let refused = func(error : Error) : Sharding.PutResult {
      refundNewKey(caller, window);
      #err(error)
    };
    let target = switch (await* placeNewKey()) { case (#ok(i)) i; case (#err(error)) return refused(error) };
    // The key may have been claimed while placeNewKey awaited a bucket creation.
    if (Map.containsKey(directory, Text.compare, key)) return refused(#rateLimited({ message = "the key \"" # key # "\" was just claimed by a concurrent call"; retryAfterSeconds = 1 }));
    if (countOf(caller) >= holdingCap()) return refused(#limitReached("you hold the most keys one caller may; delete some first"));
    // Reserve before awaiting the bucket, so concurrent puts see the slot as taken.
    let slot = List.at(buckets, target);
    Map.add(directory, Text.compare, key, { bucket = target; owner = caller });
    slot.keys += 1;
    adjustCount(caller, 1);
    let result = try { await slot.bucket.put(key, value, caller) } catch (error) {
      #err(#unavailable("bucket " # Nat.toText(target) # " did not answer: " # Error.message(error)))
    };
    switch result {
      case (#ok(_)) {};
      case (#err(error)) {
        Map.remove(directory, Text.compare, key);
        slot.keys -= 1;
        adjustCount(caller, -1);
        return refused(error);
      };
    };
    result
  };

  /// Deletes one of the caller's keys (and frees its place in the caller's quota).
  public shared ({ caller }) func delete(key : Text) : async Sharding.RemoveResult {
    switch (refuseAnonymous(caller)) { case (?error) return #err(error); case null {} };
    switch (Sharding.checkKey(key)) { case (?error) return #err(error); case null {} };
    let route = switch (Map.get(directory, Text.compare, key)) {
      case (?route) route;
      case null return #err(#notFound("no key \"" # key # "\""));
    };
    if (route.owner != caller) return #err(#notAuthorized("the key \"" # key # "\" belongs to another caller"));
    switch (admitWrite()) { case (?error) return #err(error); case null {} };
    let slot = List.at(buckets, route.bucket);
    let result = try { await slot.bucket.remove(key) } catch (error) {
      return #err(#unavailable("bucket " # Nat.toText(route.bucket) # " did not answer: " # Error.message(error)));
    };
    switch result {
      case (#ok(_)) {
        // Only now: a failed remove must leave the directory pointing at the data.
        if (Map.containsKey(directory, Text.compare, key)) {
          Map.remove(directory, Text.compare, key);
          slot.keys -= 1;
          adjustCount(caller, -1);
        };
      };
      case (#err(_)) {};
    };
    result
  };

  /// Which bucket holds `key`: step one of a direct read (step two: the bucket's `get`).
  public query func locate(key : Text) : async LocationResult {
    switch (Sharding.checkKey(key)) { case (?error) return #err(error); case null {} };
    switch (Map.get(directory, Text.compare, key)) {
      case (?route) #ok({ key; bucket = route.bucket; bucketId = Principal.fromActor(List.at(buckets, route.bucket).bucket) });
      case null #err(#notFound("no key \"" # key # "\""));
    }
  };

  /// A read through the index: it looks the bucket up and asks it, in one composite query.
  public composite query func get(key : Text) : async Sharding.EntryResult {
    switch (Sharding.checkKey(key)) { case (?error) return #err(error); case null {} };
    let route = switch (Map.get(directory, Text.compare, key)) {
      case (?route) route;
      case null return #err(#notFound("no key \"" # key # "\""));
    };
    try { await List.at(buckets, route.bucket).bucket.get(key) } catch (error) {
      #err(#unavailable("bucket " # Nat.toText(route.bucket) # " did not answer: " # Error.message(error)))
    }
  };

  public query func listBuckets() : async [BucketInfo] {
    Array.tabulate<BucketInfo>(List.size(buckets), info)
  };

  /// Every bucket's own figures (keys, memory), gathered in one composite query.
  public composite query func bucketStats() : async BucketStatsReport {
    let pending = List.empty<async Sharding.BucketStats>();
    for (slot in List.values(buckets)) List.add(pending, slot.bucket.stats());
    let rows = List.empty<{ info : BucketInfo; stats : ?Sharding.BucketStats; error : ?Text }>();
    for ((i, future) in List.enumerate(pending)) {
      let row = try { { info = info(i); stats = ?(await future); error = null } } catch (error) {
        { info = info(i); stats = null; error = ?Error.message(error) }
      };
      List.add(rows, row);
    };
    { index = { keys = Map.size(directory); memory = RuntimeStats.memory() }; buckets = List.toArray(rows) }
  };

  /// The caller's keys and where they live (at most maxEntriesPerCaller of them).
  public shared query ({ caller }) func myKeys() : async [Location] {
    let mine = List.empty<Location>();
    for ((key, route) in Map.entries(directory)) {
      if (route.owner == caller) List.add(mine, { key; bucket = route.bucket; bucketId = Principal.fromActor(List.at(buckets, route.bucket).bucket) });
    };
    List.toArray(mine)
  };

  public type UpgradeBucketsResult = { #ok : [BucketInfo]; #err : Error };

  /// Upgrades every bucket to the bucket code built into this index. Controllers only; run it
  /// after upgrading the index when the bucket code changed (a bucket's code changes only
  /// through its creator, which is its only controller). Stops at the first failure: the
  /// buckets before it run the new code, the rest the old, and a retry continues safely.
  public shared ({ caller }) func upgradeBuckets() : async UpgradeBucketsResult {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller of the index may upgrade its buckets"));
    for ((i, slot) in List.enumerate(buckets)) {
      try {
        // Under enhanced orthogonal persistence, #upgrade keeps the bucket's heap (wasm_memory_persistence = keep).
        ignore await (system Bucket.Bucket)(#upgrade(slot.bucket))({ bucket = i; index = Principal.fromActor(ShardingIndex) });
      } catch (error) {
        return #err(#unavailable("upgrading bucket " # Nat.toText(i) # " failed: " # Error.message(error)));
      };
    };
    #ok(Array.tabulate<BucketInfo>(List.size(buckets), info))
  };

  public query func getConfig() : async Config { config };

  public shared ({ caller }) func configure(next : Config) : async ConfigResult {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller of the index may change its configuration"));
    if (next.bucketCapacity == 0 or next.bucketCapacity > ceilingCapacity) return #err(#invalidArgument("bucketCapacity must be between 1 and " # Nat.toText(ceilingCapacity)));
    if (next.maxBuckets == 0 or next.maxBuckets > ceilingBuckets) return #err(#invalidArgument("maxBuckets must be between 1 and " # Nat.toText(ceilingBuckets)));
    if (next.maxEntriesPerCaller == 0 or next.maxEntriesPerCaller > ceilingPerCaller) return #err(#invalidArgument("maxEntriesPerCaller must be between 1 and " # Nat.toText(ceilingPerCaller)));
    config := next;
    #ok(config)
  };

  /// Drops oversized ingress before it is paid for: a put is a 64-byte key and a
  /// 1 KiB value plus Candid framing. (The methods check sizes themselves too.)
  system func inspect({ arg : Blob }) : Bool { arg.size() <= 4096 };
};
