/// Bounds that keep a public asset canister healthy when strangers call it. Uploads need the
/// Prepare or Commit permission anyway; these caps bound what even a permitted caller (or a
/// leaked deploy key) can pile up.
module {
  /// Batches expire 5 minutes after their last activity (DFINITY's BATCH_EXPIRY_NANOS).
  public let batchExpiryNanos : Int = 300_000_000_000;
  /// Below the 2 MiB ingress message limit, leaving room for the Candid envelope.
  public let maxChunkBytes : Nat = 2_000_000;
  public let maxChunksPerBatch : Nat = 20_000;
  public let maxOpenBatchesPerCaller : Nat = 32;
  public let maxOpenBatches : Nat = 256;
  /// Uncommitted chunk bytes across all batches.
  public let maxPendingBytes : Nat = 536_870_912; // 512 MiB
  public let maxOperationsPerCommit : Nat = 20_000;
  public let maxAssets : Nat = 100_000;
  public let maxKeyBytes : Nat = 1024;
  public let maxHeadersPerAsset : Nat = 32;
  public let maxHeaderValueBytes : Nat = 8192;
  public let maxPrincipalsPerPermission : Nat = 64;
};
