// A canister for the metering tests and the bench: loops of known work, a B-tree map (mo:core's
// Map) and a Region (stable memory) filled with N entries, so instruction counts can be set next
// to ic-stable-structures' published canbench figures for BTreeMap and StableVec.
import Array "mo:core/Array";
import Blob "mo:core/Blob";
import Map "mo:core/Map";
import Nat64 "mo:core/Nat64";
import Region "mo:core/Region";
import Prim "mo:prim";

persistent actor {
  var map = Map.empty<Nat64, Nat64>();
  var region : ?Region.Region = null;

  // Pure integer work: a xorshift generator iterated n times (no allocation).
  public query func spin(n : Nat64) : async Nat64 {
    var x : Nat64 = 88172645463325252;
    var i : Nat64 = 0;
    while (i < n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      i += 1;
    };
    x
  };

  // The same loop in an update: a message that deterministic time slicing may pause.
  public func spinUpdate(n : Nat64) : async Nat64 {
    var x : Nat64 = 88172645463325252;
    var i : Nat64 = 0;
    while (i < n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      i += 1;
    };
    x
  };

  // As spinUpdate, but it first prints one line to the canister log and counts its calls.
  var spins : Nat64 = 0;
  public func spinLogged(n : Nat64) : async Nat64 {
    Prim.debugPrint("spinLogged " # debug_show n);
    spins += 1;
    var x : Nat64 = 88172645463325252;
    var i : Nat64 = 0;
    while (i < n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      i += 1;
    };
    x
  };

  // The same loop, returning what it cost as the canister itself sees it (performance counter 0).
  public query func spinCounted(n : Nat64) : async (Nat64, Nat64) {
    var x : Nat64 = 88172645463325252;
    var i : Nat64 = 0;
    while (i < n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      i += 1;
    };
    (x, Prim.performanceCounter(0))
  };

  // Inserts n pseudo-random u64 keys into the B-tree map; returns the instructions it took.
  public func mapInsert(n : Nat64) : async Nat64 {
    let before = Prim.performanceCounter(0);
    var x : Nat64 = 88172645463325252;
    var i : Nat64 = 0;
    while (i < n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      Map.add(map, Nat64.compare, x, i);
      i += 1;
    };
    Prim.performanceCounter(0) - before
  };

  // Looks up the keys mapInsert(n) inserted; returns the instructions it took.
  public query func mapGet(n : Nat64) : async Nat64 {
    let before = Prim.performanceCounter(0);
    var x : Nat64 = 88172645463325252;
    var i : Nat64 = 0;
    var found : Nat64 = 0;
    while (i < n) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      switch (Map.get(map, Nat64.compare, x)) { case (?_) found += 1; case null {} };
      i += 1;
    };
    assert found == n;
    Prim.performanceCounter(0) - before
  };

  // Appends n u64 values to a Region (a stable vector of u64); returns the instructions it took.
  public func regionAppend(n : Nat64) : async Nat64 {
    let before = Prim.performanceCounter(0);
    let r = switch (region) {
      case (?r) r;
      case null { let r = Region.new(); region := ?r; r };
    };
    let pages = (n * 8 + 65535) / 65536;
    if (Region.size(r) < pages) ignore Region.grow(r, pages - Region.size(r));
    var i : Nat64 = 0;
    while (i < n) {
      Region.storeNat64(r, i * 8, i);
      i += 1;
    };
    Prim.performanceCounter(0) - before
  };

  public query func size() : async Nat { Map.size(map) };

  public query func spinLoggedCalls() : async Nat64 { spins };

  // What one performance_counter call costs as seen from the canister: the IC charges 200.
  public query func counterDelta() : async Nat64 {
    let a = Prim.performanceCounter(0);
    let b = Prim.performanceCounter(0);
    b - a
  };

  // A reply of n bytes (plus Candid's few bytes of framing), to hit the response size limits.
  public query func bytes(n : Nat) : async Blob {
    Blob.fromArray(Array.tabulate<Nat8>(n, func _ = 7))
  };

  public func bytesUpdate(n : Nat) : async Blob {
    Blob.fromArray(Array.tabulate<Nat8>(n, func _ = 7))
  };
};
