/// Figures only the Motoko runtime knows: memory sizes and the instructions of
/// the last upgrade.
///
/// mo:core does not expose these, so this is the one module that reaches into
/// the compiler's primitives (`mo:⛔`); it keeps that dependency in one place.
import Prim "mo:⛔";

module {
  public type MemoryStats = {
    /// Bytes of live heap data as the Motoko runtime counts them.
    heapBytes : Nat;
    /// Size of the Wasm linear memory (what the IC bills and limits).
    wasmMemoryBytes : Nat;
    /// Stable memory in use: regions plus the runtime's own use (e.g. serialised stable variables).
    stableMemoryBytes : Nat;
  };

  public func memory() : MemoryStats {
    {
      heapBytes = Prim.rts_heap_size();
      wasmMemoryBytes = Prim.rts_memory_size();
      // rts_stable_memory_size counts 64 KiB pages (checked against Region.grow on the local replica).
      stableMemoryBytes = Prim.rts_stable_memory_size() * 65536;
    }
  };

  /// The runtime's count of the last upgrade: all of canister_pre_upgrade (the user hook and
  /// the writing out of stable variables) plus canister_post_upgrade up to the user's
  /// `postupgrade` hook (start, reading stable variables back). Already final when the user
  /// hook runs; 0 before any upgrade.
  public func lastUpgradeInstructions() : Nat = Prim.rts_upgrade_instructions();
};
