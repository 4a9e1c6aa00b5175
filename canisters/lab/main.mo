/// The lab: controls the three stable-memory stores and lets anyone trigger a
/// real upgrade of one of them, so a visitor can watch what survives and what
/// it cost. The lab is a controller of each store; it reinstalls the store's
/// own module in upgrade mode, which runs pre_upgrade, swaps the instance and
/// runs post_upgrade exactly as a code change would.
///
/// Where the module comes from: a Motoko canister cannot embed a module built
/// in the other persistence mode, and the lab must not hold code a stranger
/// could swap, so a controller uploads each store's Wasm once after deploying
/// (beginModuleUpload + appendModuleChunk, chunked because ingress messages are
/// capped at 2 MiB), and registers each store's canister id. Visitors can then
/// only ask for "the same code again", never for different code.
///
/// Public methods are rate-limited (a per-store interval and a global hourly
/// budget): an upgrade costs the store up to its data's worth of instructions,
/// and nothing a stranger calls may burn cycles without bound.
import List "mo:core/List";
import Nat "mo:core/Nat";
import Principal "mo:core/Principal";
import Time "mo:core/Time";
import Error "mo:core/Error";
import VarArray "mo:core/VarArray";
import Blob "mo:core/Blob";
import Errors "../lib/Errors";
import Management "../lib/Management";
import RateLimit "../lib/RateLimit";
import StoreKit "../lib/StoreKit";

persistent actor Lab {
  public type Which = { #classic; #region; #eop };
  type Error = Errors.Error;

  type Store = actor {
    stats : shared query () -> async StoreKit.Stats;
    clear : shared () -> async StoreKit.ClearResult;
  };

  type Slot = {
    var canisterId : ?Principal;
    var expectedBytes : Nat;
    chunks : List.List<Blob>;
    var receivedBytes : Nat;
    var wasm : ?Blob;
    var busy : Bool;
    var lastEvent : ?Event;
    upgradeLimit : RateLimit.RateLimit;
    resetLimit : RateLimit.RateLimit;
  };

  public type Event = { kind : Text; at : Int; caller : Principal; outcome : Text };

  public type StoreInfo = {
    which : Which;
    /// The canister name in dfx.json and the demos.
    name : Text;
    canisterId : ?Principal;
    persistence : Text;
    moduleBytes : Nat;
    moduleReady : Bool;
    lastEvent : ?Event;
  };

  public type Settings = {
    /// Seconds a store must rest between two upgrades (and between two resets).
    storeIntervalSeconds : Nat;
    /// Upgrades of all stores together per hour.
    upgradesPerHour : Nat;
  };

  public type Status = { stores : [StoreInfo]; settings : Settings };

  public type UpgradeReport = {
    which : Which;
    canisterId : Principal;
    /// The store's own account of the upgrade it just went through.
    stats : StoreKit.Stats;
    /// Wall time between asking the management canister and its reply, in nanoseconds.
    elapsedNanos : Int;
  };

  public type UpgradeResult = { #ok : UpgradeReport; #err : Error };
  public type ResetResult = { #ok : StoreKit.Operation; #err : Error };
  public type InfoResult = { #ok : StoreInfo; #err : Error };
  public type SettingsResult = { #ok : Settings; #err : Error };

  /// install_code's argument travels in one inter-canister message (2 MiB at most);
  /// the stores' modules are a few hundred KiB, gzipped Wasm is accepted as well.
  let maxModuleBytes = 1_900_000;
  let maxChunkBytes = 1_000_000;

  var settings : Settings = { storeIntervalSeconds = 5; upgradesPerHour = 120 };

  func newSlot() : Slot {
    {
      var canisterId = null;
      var expectedBytes = 0;
      chunks = List.empty<Blob>();
      var receivedBytes = 0;
      var wasm = null;
      var busy = false;
      var lastEvent = null;
      upgradeLimit = RateLimit.new(1, settings.storeIntervalSeconds);
      resetLimit = RateLimit.new(1, settings.storeIntervalSeconds);
    }
  };

  let classic = newSlot();
  let region = newSlot();
  let eop = newSlot();
  let hourlyUpgrades = RateLimit.new(settings.upgradesPerHour, 3600);
  /// Each reset lets visitors fill a store again; the stores' own hourly cap on added
  /// records bounds the work, this bounds how often the slate is wiped for everyone.
  let hourlyResets = RateLimit.new(60, 3600);

  func slotOf(which : Which) : Slot = switch which {
    case (#classic) classic;
    case (#region) region;
    case (#eop) eop;
  };

  func nameOf(which : Which) : Text = switch which {
    case (#classic) "stable-memory-classic";
    case (#region) "stable-memory-region";
    case (#eop) "stable-memory-eop";
  };

  /// Enhanced orthogonal persistence keeps the Wasm heap only if the upgrade says so.
  func upgradeOptions(which : Which) : Management.UpgradeOptions = switch which {
    case (#eop) ({ skip_pre_upgrade = null; wasm_memory_persistence = ?#keep });
    case (#classic or #region) ({ skip_pre_upgrade = null; wasm_memory_persistence = null });
  };

  func persistenceOf(which : Which) : Text = switch which {
    case (#eop) "enhanced orthogonal persistence (wasm64)";
    case (#classic or #region) "classic persistence (wasm32)";
  };

  func info(which : Which) : StoreInfo {
    let slot = slotOf(which);
    {
      which;
      name = nameOf(which);
      canisterId = slot.canisterId;
      persistence = persistenceOf(which);
      moduleBytes = slot.receivedBytes;
      moduleReady = slot.wasm != null;
      lastEvent = slot.lastEvent;
    }
  };

  func notController() : Error = #notAuthorized("only a controller of the lab may do this");

  func log(slot : Slot, kind : Text, caller : Principal, outcome : Text) {
    slot.lastEvent := ?{ kind; at = Time.now(); caller; outcome };
  };

  /// Remembers which canister is which store, after checking that the lab controls it.
  public shared ({ caller }) func register(which : Which, canisterId : Principal) : async InfoResult {
    if (not Principal.isController(caller)) return #err(notController());
    try {
      ignore await Management.ic.canister_status({ canister_id = canisterId });
    } catch (error) {
      return #err(#notAuthorized(
        "the lab cannot read the status of " # Principal.toText(canisterId) # " (" # Error.message(error) #
        "); make the lab a controller of it, e.g. dfx canister update-settings " # nameOf(which) # " --add-controller " # Principal.toText(Principal.fromActor(Lab))
      ));
    };
    slotOf(which).canisterId := ?canisterId;
    #ok(info(which))
  };

  /// Starts (or restarts) the upload of a store's module of `size` bytes.
  public shared ({ caller }) func beginModuleUpload(which : Which, size : Nat) : async InfoResult {
    if (not Principal.isController(caller)) return #err(notController());
    if (size == 0 or size > maxModuleBytes) return #err(#invalidArgument(
      "module size must be between 1 and " # Nat.toText(maxModuleBytes) # " bytes (gzip the Wasm if it is larger)"
    ));
    let slot = slotOf(which);
    if (slot.busy) return #err(#rateLimited({ message = nameOf(which) # " is being upgraded; try again when it is done"; retryAfterSeconds = 1 }));
    List.clear(slot.chunks);
    slot.expectedBytes := size;
    slot.receivedBytes := 0;
    slot.wasm := null;
    #ok(info(which))
  };

  /// Appends the next chunk; the module is ready once all announced bytes arrived.
  public shared ({ caller }) func appendModuleChunk(which : Which, chunk : Blob) : async InfoResult {
    if (not Principal.isController(caller)) return #err(notController());
    let slot = slotOf(which);
    if (slot.expectedBytes == 0) return #err(#invalidArgument("call beginModuleUpload first"));
    if (chunk.size() == 0 or chunk.size() > maxChunkBytes) return #err(#invalidArgument(
      "a chunk must hold between 1 and " # Nat.toText(maxChunkBytes) # " bytes"
    ));
    if (slot.receivedBytes + chunk.size() > slot.expectedBytes) return #err(#invalidArgument(
      "this chunk would make the module " # Nat.toText(slot.receivedBytes + chunk.size()) # " bytes, more than the " #
      Nat.toText(slot.expectedBytes) # " announced; restart with beginModuleUpload"
    ));
    List.add(slot.chunks, chunk);
    slot.receivedBytes += chunk.size();
    if (slot.receivedBytes == slot.expectedBytes) {
      let bytes = VarArray.repeat<Nat8>(0, slot.expectedBytes);
      var at = 0;
      for (part in List.values(slot.chunks)) {
        for (byte in part.vals()) { bytes[at] := byte; at += 1 };
      };
      slot.wasm := ?Blob.fromVarArray(bytes);
      List.clear(slot.chunks);
    };
    #ok(info(which))
  };

  /// Upgrades a store to the same module it runs: anyone may ask, within the rate limits.
  public shared ({ caller }) func upgrade(which : Which) : async UpgradeResult {
    let slot = slotOf(which);
    let (canisterId, wasm) = switch (slot.canisterId, slot.wasm) {
      case (?id, ?wasm) (id, wasm);
      case (null, _) return #err(#unavailable(nameOf(which) # " is not registered with the lab yet (a controller calls register)"));
      case (_, null) return #err(#unavailable("the lab has no module for " # nameOf(which) # " yet (a controller uploads it)"));
    };
    if (slot.busy) return #err(#rateLimited({ message = nameOf(which) # " is being upgraded or reset right now"; retryAfterSeconds = 1 }));
    switch (RateLimit.takeNow(slot.upgradeLimit)) {
      case (#wait(seconds)) return #err(#rateLimited({ message = nameOf(which) # " was upgraded moments ago"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    switch (RateLimit.takeNow(hourlyUpgrades)) {
      case (#wait(seconds)) return #err(#rateLimited({ message = "the lab's hourly upgrade budget is spent"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    slot.busy := true;
    let started = Time.now();
    try {
      await Management.ic.install_code({
        mode = #upgrade(?upgradeOptions(which));
        canister_id = canisterId;
        wasm_module = wasm;
        arg = to_candid (());
        sender_canister_version = null;
      });
    } catch (error) {
      slot.busy := false;
      let message = "the upgrade of " # nameOf(which) # " failed and it keeps running its previous state: " # Error.message(error);
      log(slot, "upgrade", caller, message);
      return #err(#unavailable(message));
    };
    let elapsedNanos = Time.now() - started;
    let store : Store = actor (Principal.toText(canisterId));
    let stats = try { await store.stats() } catch (error) {
      slot.busy := false;
      log(slot, "upgrade", caller, "upgraded; reading its stats failed: " # Error.message(error));
      return #err(#unavailable(nameOf(which) # " was upgraded but did not answer stats(): " # Error.message(error)));
    };
    slot.busy := false;
    log(slot, "upgrade", caller, "upgraded with " # Nat.toText(stats.records) # " records");
    #ok({ which; canisterId; stats; elapsedNanos })
  };

  /// Empties a store so a new visitor can start from zero: anyone may ask, within the rate limit.
  public shared ({ caller }) func reset(which : Which) : async ResetResult {
    let slot = slotOf(which);
    let canisterId = switch (slot.canisterId) {
      case (?id) id;
      case null return #err(#unavailable(nameOf(which) # " is not registered with the lab yet (a controller calls register)"));
    };
    if (slot.busy) return #err(#rateLimited({ message = nameOf(which) # " is being upgraded or reset right now"; retryAfterSeconds = 1 }));
    switch (RateLimit.takeNow(slot.resetLimit)) {
      case (#wait(seconds)) return #err(#rateLimited({ message = nameOf(which) # " was reset moments ago"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    switch (RateLimit.takeNow(hourlyResets)) {
      case (#wait(seconds)) return #err(#rateLimited({ message = "the lab's hourly reset budget is spent"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    slot.busy := true;
    let store : Store = actor (Principal.toText(canisterId));
    let result = try { await store.clear() } catch (error) {
      slot.busy := false;
      return #err(#unavailable("resetting " # nameOf(which) # " failed: " # Error.message(error)));
    };
    slot.busy := false;
    switch result {
      case (#ok(operation)) log(slot, "reset", caller, "dropped " # Nat.toText(operation.records) # " records");
      case (#err(_)) log(slot, "reset", caller, "refused by the store");
    };
    result
  };

  public shared ({ caller }) func configure(next : Settings) : async SettingsResult {
    if (not Principal.isController(caller)) return #err(notController());
    if (next.storeIntervalSeconds > 86_400) return #err(#invalidArgument("storeIntervalSeconds must be at most 86400"));
    if (next.upgradesPerHour == 0 or next.upgradesPerHour > 10_000) return #err(#invalidArgument("upgradesPerHour must be between 1 and 10000"));
    settings := next;
    for (slot in [classic, region, eop].vals()) {
      slot.upgradeLimit.windowNanos := next.storeIntervalSeconds * 1_000_000_000;
      slot.resetLimit.windowNanos := next.storeIntervalSeconds * 1_000_000_000;
    };
    hourlyUpgrades.limit := next.upgradesPerHour;
    #ok(settings)
  };

  public query func status() : async Status {
    { stores = [info(#classic), info(#region), info(#eop)]; settings }
  };

  /// Drops oversized ingress before it is paid for: only controllers send modules;
  /// every other method takes a few bytes. (Inter-canister calls skip inspection,
  /// so the methods check their input themselves as well.)
  system func inspect({ caller : Principal; arg : Blob }) : Bool {
    arg.size() <= 1024 or Principal.isController(caller)
  };
};
