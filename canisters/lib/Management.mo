/// The part of the management canister (aaaaa-aa) the demo canisters use, typed
/// after its Candid interface (IC interface spec, "The IC management canister",
/// ic.did). Candid subtyping lets a caller name fewer record fields than the
/// reply carries, so only the fields used here are listed.
module {
  public type CanisterId = Principal;

  public type UpgradeOptions = {
    skip_pre_upgrade : ?Bool;
    /// `#keep` is required to upgrade a canister built with enhanced orthogonal
    /// persistence; classic canisters must leave it out.
    wasm_memory_persistence : ?{ #keep; #replace };
  };

  public type InstallMode = { #install; #reinstall; #upgrade : ?UpgradeOptions };

  public type InstallCodeArgs = {
    mode : InstallMode;
    canister_id : CanisterId;
    wasm_module : Blob;
    arg : Blob;
    sender_canister_version : ?Nat64;
  };

  public type CanisterStatus = {
    status : { #running; #stopping; #stopped };
    module_hash : ?Blob;
    memory_size : Nat;
    cycles : Nat;
  };

  public type Snapshot = { id : Blob; taken_at_timestamp : Nat64; total_size : Nat64 };

  public type ChunkHash = { hash : Blob };

  public type InstallChunkedCodeArgs = {
    mode : InstallMode;
    target_canister : CanisterId;
    store_canister : ?CanisterId;
    chunk_hashes_list : [ChunkHash];
    wasm_module_hash : Blob;
    arg : Blob;
    sender_canister_version : ?Nat64;
  };

  public type Service = actor {
    install_code : InstallCodeArgs -> async ();
    canister_status : { canister_id : CanisterId } -> async CanisterStatus;
    stop_canister : { canister_id : CanisterId } -> async ();
    start_canister : { canister_id : CanisterId } -> async ();
    take_canister_snapshot : { canister_id : CanisterId; replace_snapshot : ?Blob } -> async Snapshot;
    load_canister_snapshot : { canister_id : CanisterId; snapshot_id : Blob; sender_canister_version : ?Nat64 } -> async ();
    upload_chunk : { canister_id : CanisterId; chunk : Blob } -> async ChunkHash;
    clear_chunk_store : { canister_id : CanisterId } -> async ();
    install_chunked_code : InstallChunkedCodeArgs -> async ();
  };

  public let ic : Service = actor ("aaaaa-aa");
};
