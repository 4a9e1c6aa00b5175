// A canister for the metering tests and the bench: loops of known work, a B-tree map and a
// Region (stable memory) filled with N entries, so instruction counts can be compared with
// ic-stable-structures' published canbench figures.
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

  // Appends n 16-byte records (u64 key, u64 value) to a Region; returns the instructions.
  public func regionInsert(n : Nat64) : async Nat64 {
    let before = Prim.performanceCounter(0);
    let r = switch (region) {
      case (?r) r;
      case null { let r = Region.new(); region := ?r; r };
    };
    let bytes = n * 16;
    let pages = (bytes + 65535) / 65536;
    if (Region.size(r) < pages) ignore Region.grow(r, pages - Region.size(r));
    var i : Nat64 = 0;
    while (i < n) {
      Region.storeNat64(r, i * 16, i);
      Region.storeNat64(r, i * 16 + 8, i * 2);
      i += 1;
    };
    Prim.performanceCounter(0) - before
  };

  public query func size() : async Nat { Map.size(map) };
};
