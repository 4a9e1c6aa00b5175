/// Memory figures of the running canister.
///
/// mo:core does not expose the runtime's memory statistics, so this is the one
/// module that reaches into the compiler's primitives (`mo:⛔`); it keeps that
/// dependency in a single place.
import Prim "mo:⛔";

module {
  public type MemoryStats = {
    /// Bytes of live heap data as the Motoko runtime counts them.
    heapBytes : Nat;
    /// Size of the Wasm linear memory (what the IC bills and limits).
    wasmMemoryBytes : Nat;
    /// Size of the canister's stable memory (all regions plus the runtime's own use).
    stableMemoryBytes : Nat;
  };

  public func current() : MemoryStats {
    {
      heapBytes = Prim.rts_heap_size();
      wasmMemoryBytes = Prim.rts_memory_size();
      stableMemoryBytes = Prim.nat64ToNat(Prim.stableMemorySize()) * 65536;
    }
  };
};
