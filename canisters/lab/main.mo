/// The lab: controls the three stable-memory stores and lets anyone trigger a
/// real upgrade of one of them, so a visitor can watch what survives and what
/// it cost. The lab is a controller of each store; it reinstalls the store's
/// own module in upgrade mode, which runs pre_upgrade, swaps the instance and
/// runs post_upgrade exactly as a code change would.
///
/// Where the module comes from: a Motoko canister cannot embed a module built
/// in the other persistence mode, and the lab must not hold code a stranger
/// could swap, so a controller uploads each store's Wasm once after deploying
/// (uploadModule, or beginModuleUpload + appendModuleChunk in chunks for a module
/// larger than one chunk, since ingress messages are capped at 2 MiB), and
/// registers each store's canister id. Visitors can then
/// only ask for "the same code again", never for different code.
///
/// Public methods are rate-limited (a per-store interval and a global hourly
/// budget): an upgrade costs the store up to its data's worth of instructions,
/// and nothing a stranger calls may burn cycles without bound.
import List "mo:core/List";
import Map "mo:core/Map";
import Nat "mo:core/Nat";
import Principal "mo:core/Principal";
import Time "mo:core/Time";
import Error "mo:core/Error";
import VarArray "mo:core/VarArray";
import Blob "mo:core/Blob";
import Cycles "mo:core/Cycles";
import Int "mo:core/Int";
import Nat64 "mo:core/Nat64";
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
  /// No caller spends a global budget alone: each may take a quarter of an hour's upgrades and
  /// a quarter of its resets (anonymous visitors together count as one caller).
  let sharesPerCaller = 4;
  let upgradeShares = RateLimit.newShares();
  let resetShares = RateLimit.newShares();

  func spendShare(limit : RateLimit.RateLimit, shares : RateLimit.Shares, caller : Principal, what : Text) : ?Error {
    switch (RateLimit.takeShare(limit, shares, caller, sharesPerCaller, 1, Time.now())) {
      case (#ok) null;
      case (#wait(seconds)) ?#rateLimited({ message = "the lab's hourly " # what # " budget is spent"; retryAfterSeconds = seconds });
      case (#share(seconds)) ?#rateLimited({
        message = "you have used your share of the lab's hourly " # what # " budget (" # Nat.toText(RateLimit.shareOf(limit, sharesPerCaller)) # "); the rest is kept for other visitors";
        retryAfterSeconds = seconds;
      });
    };
  };

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
    switch (beginUpload(slotOf(which), nameOf(which), size)) { case (?error) #err(error); case null #ok(info(which)) };
  };

  /// Appends the next chunk; the module is ready once all announced bytes arrived.
  public shared ({ caller }) func appendModuleChunk(which : Which, chunk : Blob) : async InfoResult {
    if (not Principal.isController(caller)) return #err(notController());
    switch (appendChunk(slotOf(which), chunk)) { case (?error) #err(error); case null #ok(info(which)) };
  };

  /// A whole module of at most one chunk's size in one call: beginModuleUpload and
  /// appendModuleChunk together (one message where a deploy would send two).
  public shared ({ caller }) func uploadModule(which : Which, wasm : Blob) : async InfoResult {
    if (not Principal.isController(caller)) return #err(notController());
    switch (uploadWhole(slotOf(which), nameOf(which), wasm)) { case (?error) #err(error); case null #ok(info(which)) };
  };

  func uploadWhole(slot : Slot, name : Text, wasm : Blob) : ?Error {
    switch (beginUpload(slot, name, wasm.size())) {
      case (?error) ?error;
      case null appendChunk(slot, wasm);
    };
  };

  func beginUpload(slot : Slot, name : Text, size : Nat) : ?Error {
    if (size == 0 or size > maxModuleBytes) return ?#invalidArgument(
      "module size must be between 1 and " # Nat.toText(maxModuleBytes) # " bytes (gzip the Wasm if it is larger)"
    );
    if (slot.busy) return ?#rateLimited({ message = name # " is being upgraded; try again when it is done"; retryAfterSeconds = 1 });
    List.clear(slot.chunks);
    slot.expectedBytes := size;
    slot.receivedBytes := 0;
    slot.wasm := null;
    null
  };

  func appendChunk(slot : Slot, chunk : Blob) : ?Error {
    if (slot.expectedBytes == 0) return ?#invalidArgument("call beginModuleUpload first");
    if (chunk.size() == 0 or chunk.size() > maxChunkBytes) return ?#invalidArgument(
      "a chunk must hold between 1 and " # Nat.toText(maxChunkBytes) # " bytes"
    );
    if (slot.receivedBytes + chunk.size() > slot.expectedBytes) return ?#invalidArgument(
      "this chunk would make the module " # Nat.toText(slot.receivedBytes + chunk.size()) # " bytes, more than the " #
      Nat.toText(slot.expectedBytes) # " announced; restart with beginModuleUpload"
    );
    List.add(slot.chunks, chunk);
    slot.receivedBytes += chunk.size();
    if (slot.receivedBytes == slot.expectedBytes and List.size(slot.chunks) == 1) {
      // A module sent in one chunk (every store and target module is under a chunk's size) is
      // the chunk itself: copying it byte by byte through a [var Nat8] (a word per byte) cost
      // a deploy tens of millions of instructions and left megabytes of garbage in the heap.
      slot.wasm := ?chunk;
      List.clear(slot.chunks);
    } else if (slot.receivedBytes == slot.expectedBytes) {
      let bytes = VarArray.repeat<Nat8>(0, slot.expectedBytes);
      var at = 0;
      for (part in List.values(slot.chunks)) {
        for (byte in part.vals()) { bytes[at] := byte; at += 1 };
      };
      slot.wasm := ?Blob.fromVarArray(bytes);
      List.clear(slot.chunks);
    };
    null
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
    switch (spendShare(hourlyUpgrades, upgradeShares, caller, "code change")) {
      case (?error) { RateLimit.refund(slot.upgradeLimit, 1); return #err(error) };
      case null {};
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
    switch (spendShare(hourlyResets, resetShares, caller, "reset")) {
      case (?error) { RateLimit.refund(slot.resetLimit, 1); return #err(error) };
      case null {};
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

  // ---- The snapshots demo and the chunked-install demo ----
  //
  // Two more canisters the lab controls. `snapshot-target`: visitors fill it, and through the
  // lab snapshot it, wipe it with a mistaken reinstall and load the snapshot back.
  // `install-target`: visitors reinstall it from a module over 2 MiB that their browser sends in
  // chunks. The rules are the stores': a controller registers each canister and uploads the
  // only module the lab will put on it (for the install target: the hash of the only module the
  // lab will install); visitors trigger steps, never choose code. Every step is rate-limited
  // like an upgrade (one of each kind per canister every storeIntervalSeconds, all counted in
  // the hourly upgrade budget), and a caller's steps and upgrades together take at most its
  // share of that budget (`stepsPerCallerPerHour` in opsStatus).

  public type Target = { #snapshot; #install };

  public type StepReport = {
    /// "snapshot", "break", "restore" or "install".
    step : Text;
    at : Int;
    caller : Principal;
    /// From the first management call of the step to the last reply, in nanoseconds.
    elapsedNanos : Int;
    /// The target's cycle balance before and after (what the management canister charged it).
    targetCyclesBefore : Nat;
    targetCyclesAfter : Nat;
    /// The lab's own balance before and after (what the calls and their bytes cost the lab).
    labCyclesBefore : Nat;
    labCyclesAfter : Nat;
    /// Size of the snapshot taken or loaded; 0 for other steps.
    snapshotBytes : Nat;
    /// The target's records and checksum after the step (snapshot target only).
    records : Nat;
    checksum : Nat32;
    /// The module hash the target reports after the step.
    moduleHash : ?Blob;
    outcome : Text;
  };
  public type StepResult = { #ok : StepReport; #err : Error };

  public type SnapshotState = { id : Blob; takenAt : Nat64; totalSize : Nat64; records : Nat; checksum : Nat32 };

  public type TargetInfo = { target : Target; canisterId : ?Principal; moduleBytes : Nat; moduleReady : Bool };
  public type TargetResult = { #ok : TargetInfo; #err : Error };

  public type InstallSession = { id : Nat; caller : Principal; expiresAt : Int; chunks : Nat; bytes : Nat };
  public type InstallPlan = {
    /// sha256 of the one module the lab installs on the install target (null until a controller sets it).
    moduleHash : ?Blob;
    moduleBytes : Nat;
    maxChunkBytes : Nat;
    session : ?InstallSession;
  };
  public type BeginInstallResult = { #ok : InstallSession; #err : Error };
  public type ChunkReport = { hash : Blob; chunks : Nat; bytes : Nat; elapsedNanos : Int; labCyclesBefore : Nat; labCyclesAfter : Nat };
  public type ChunkResult = { #ok : ChunkReport; #err : Error };

  public type OpsStatus = {
    snapshotTarget : TargetInfo;
    installTarget : TargetInfo;
    snapshot : ?SnapshotState;
    /// The latest steps on either target, newest first.
    steps : [StepReport];
    install : InstallPlan;
    stepsPerCallerPerHour : Nat;
    settings : Settings;
  };

  type TargetStats = actor { getStats : shared query () -> async { records : Nat; checksum : Nat32 } };

  /// upload_chunk's limit (interface spec: chunks of at most 1 MiB).
  let installChunkBytes = 1_048_576;
  /// The largest padded module a controller may register: 8 chunks.
  let maxInstallModuleBytes = 8 * 1_048_576;
  /// A visitor's upload must finish within this time, or the next visitor may start over.
  let installSessionNanos = 120_000_000_000;
  let keptSteps = 8;

  let snapshotSlot = newSlot();
  let installSlot = newSlot();
  let takeLimit = RateLimit.new(1, settings.storeIntervalSeconds);
  let breakLimit = RateLimit.new(1, settings.storeIntervalSeconds);
  let restoreLimit = RateLimit.new(1, settings.storeIntervalSeconds);
  let installLimit = RateLimit.new(1, settings.storeIntervalSeconds);
  var snapshot : ?SnapshotState = null;
  var steps = List.empty<StepReport>();
  var installModuleHash : ?Blob = null;
  var installModuleBytes = 0;
  var nextSessionId = 1;
  var session : ?{ id : Nat; caller : Principal; expiresAt : Int; hashes : List.List<Blob>; var bytes : Nat } = null;
  // Retired: the per-caller step cap and count earlier versions kept. Nothing reads them; they stay
  // declared because enhanced orthogonal persistence refuses an upgrade that drops a stable
  // field ("Memory-incompatible program upgrade"), and deployed labs hold them.
  let stepsPerCallerPerHour = 40;
  let callerSteps = Map.empty<Principal, Nat>();
  var callerWindowStart : Int = 0;

  func targetSlot(target : Target) : Slot = switch target { case (#snapshot) snapshotSlot; case (#install) installSlot };
  func targetName(target : Target) : Text = switch target { case (#snapshot) "snapshot-target"; case (#install) "install-target" };

  func targetInfo(target : Target) : TargetInfo {
    let slot = targetSlot(target);
    { target; canisterId = slot.canisterId; moduleBytes = slot.receivedBytes; moduleReady = slot.wasm != null }
  };

  func currentSession() : ?InstallSession = switch session {
    case (?s) if (s.expiresAt > Time.now()) ?{ id = s.id; caller = s.caller; expiresAt = s.expiresAt; chunks = List.size(s.hashes); bytes = s.bytes } else null;
    case null null;
  };

  /// Everything a visitor's step must pass, in order: registered, not busy, the step's interval,
  /// then the caller's share and the hourly budget of code changes, which upgrades spend too (one
  /// budget, one per-caller share of it: spendShare). A caller whose share is spent is refused
  /// before anything of the hourly budget is taken, and a refused step gives its interval back.
  func admitStep(target : Target, limit : RateLimit.RateLimit, what : Text, caller : Principal) : ?Error {
    let slot = targetSlot(target);
    if (slot.canisterId == null) return ?#unavailable(targetName(target) # " is not registered with the lab yet (a controller calls registerTarget)");
    if (slot.busy) return ?#rateLimited({ message = targetName(target) # " is in the middle of another step"; retryAfterSeconds = 1 });
    switch (RateLimit.takeNow(limit)) {
      case (#wait(seconds)) return ?#rateLimited({ message = "someone asked the lab to " # what # " moments ago"; retryAfterSeconds = seconds });
      case (#ok) {};
    };
    switch (spendShare(hourlyUpgrades, upgradeShares, caller, "code change")) {
      case (?error) { RateLimit.refund(limit, 1); ?error };
      case null null;
    }
  };

  func record(report : StepReport) {
    List.add(steps, report);
    if (List.size(steps) > keptSteps) steps := List.fromArray(List.sliceToArray(steps, List.size(steps) - keptSteps, List.size(steps)));
  };

  func cyclesOf(id : Principal) : async* (Nat, ?Blob) {
    let status = await Management.ic.canister_status({ canister_id = id });
    (status.cycles, status.module_hash)
  };

  func statsOf(id : Principal) : async* { records : Nat; checksum : Nat32 } {
    let target : TargetStats = actor (Principal.toText(id));
    await target.getStats()
  };

  /// Registers a demo canister with the lab, after checking that the lab controls it.
  public shared ({ caller }) func registerTarget(target : Target, canisterId : Principal) : async TargetResult {
    if (not Principal.isController(caller)) return #err(notController());
    try {
      ignore await Management.ic.canister_status({ canister_id = canisterId });
    } catch (error) {
      return #err(#notAuthorized("the lab cannot read the status of " # Principal.toText(canisterId) # " (" # Error.message(error) # "); make the lab a controller of it first"));
    };
    targetSlot(target).canisterId := ?canisterId;
    #ok(targetInfo(target))
  };

  /// Starts the upload of the module the lab reinstalls on a target (the snapshot target's own module, or the install target's unpadded one).
  public shared ({ caller }) func beginTargetModuleUpload(target : Target, size : Nat) : async TargetResult {
    if (not Principal.isController(caller)) return #err(notController());
    switch (beginUpload(targetSlot(target), targetName(target), size)) { case (?error) #err(error); case null #ok(targetInfo(target)) };
  };

  /// A target's whole module of at most one chunk's size in one call (as uploadModule for a store).
  public shared ({ caller }) func uploadTargetModule(target : Target, wasm : Blob) : async TargetResult {
    if (not Principal.isController(caller)) return #err(notController());
    switch (uploadWhole(targetSlot(target), targetName(target), wasm)) { case (?error) #err(error); case null #ok(targetInfo(target)) };
  };

  public shared ({ caller }) func appendTargetModuleChunk(target : Target, chunk : Blob) : async TargetResult {
    if (not Principal.isController(caller)) return #err(notController());
    switch (appendChunk(targetSlot(target), chunk)) { case (?error) #err(error); case null #ok(targetInfo(target)) };
  };

  /// The only module the lab installs on the install target from chunks: its sha256 and size.
  public shared ({ caller }) func setInstallModule(hash : Blob, size : Nat) : async { #ok : InstallPlan; #err : Error } {
    if (not Principal.isController(caller)) return #err(notController());
    if (hash.size() != 32) return #err(#invalidArgument("the hash must be a 32-byte SHA-256"));
    if (size == 0 or size > maxInstallModuleBytes) return #err(#invalidArgument("the module must be between 1 and " # Nat.toText(maxInstallModuleBytes) # " bytes"));
    installModuleHash := ?hash;
    installModuleBytes := size;
    session := null;
    #ok(installPlan())
  };

  func installPlan() : InstallPlan = { moduleHash = installModuleHash; moduleBytes = installModuleBytes; maxChunkBytes = installChunkBytes; session = currentSession() };

  /// The unpadded module of the install target, for the browser to pad (src/demos/shared/wasm-padding.ts).
  public query func installBaseModule() : async ?Blob { installSlot.wasm };

  public query func opsStatus() : async OpsStatus {
    {
      snapshotTarget = targetInfo(#snapshot);
      installTarget = targetInfo(#install);
      snapshot;
      steps = List.toArray(List.reverse(steps));
      install = installPlan();
      stepsPerCallerPerHour = RateLimit.shareOf(hourlyUpgrades, sharesPerCaller);
      settings;
    }
  };

  /// Runs a step's management calls with the target marked busy, and reports what they cost.
  func runStep(target : Target, step : Text, caller : Principal, work : Principal -> async* (Nat, Text)) : async* StepResult {
    let slot = targetSlot(target);
    let id = switch (slot.canisterId) { case (?id) id; case null return #err(#unavailable(targetName(target) # " is not registered")) };
    slot.busy := true;
    let labBefore = Cycles.balance();
    let started = Time.now();
    try {
      let (targetBefore, _) = await* cyclesOf(id);
      let (snapshotBytes, outcome) = await* work(id);
      let elapsedNanos = Time.now() - started;
      let (targetAfter, moduleHash) = await* cyclesOf(id);
      let stats = if (target == #snapshot) await* statsOf(id) else { { records = 0; checksum = 0 : Nat32 } };
      slot.busy := false;
      let report = {
        step; at = Time.now(); caller; elapsedNanos;
        targetCyclesBefore = targetBefore; targetCyclesAfter = targetAfter;
        labCyclesBefore = labBefore; labCyclesAfter = Cycles.balance();
        snapshotBytes; records = stats.records; checksum = stats.checksum; moduleHash; outcome;
      };
      record(report);
      log(slot, step, caller, outcome);
      #ok(report)
    } catch (error) {
      // Never leave the target stopped because a step failed half-way.
      try { await Management.ic.start_canister({ canister_id = id }) } catch (_) {};
      slot.busy := false;
      let message = step # " on " # targetName(target) # " failed: " # Error.message(error);
      log(slot, step, caller, message);
      #err(#unavailable(message))
    };
  };

  /// Stops the snapshot target, snapshots it (replacing the previous snapshot), starts it again.
  public shared ({ caller }) func takeSnapshot() : async StepResult {
    switch (admitStep(#snapshot, takeLimit, "take a snapshot", caller)) { case (?error) return #err(error); case null {} };
    await* runStep(#snapshot, "snapshot", caller, func(id : Principal) : async* (Nat, Text) {
      // Read just before stopping: nothing changes while the canister is stopped.
      let before = await* statsOf(id);
      await Management.ic.stop_canister({ canister_id = id });
      let taken = await Management.ic.take_canister_snapshot({ canister_id = id; replace_snapshot = do ? { snapshot!.id } });
      await Management.ic.start_canister({ canister_id = id });
      snapshot := ?{ id = taken.id; takenAt = taken.taken_at_timestamp; totalSize = taken.total_size; records = before.records; checksum = before.checksum };
      (Nat64.toNat(taken.total_size), "snapshot of " # Nat.toText(before.records) # " records")
    })
  };

  /// The mistake: reinstalls the snapshot target's own module, which starts it from empty state.
  public shared ({ caller }) func breakTarget() : async StepResult {
    let wasm = switch (snapshotSlot.wasm) { case (?w) w; case null return #err(#unavailable("the lab has no module for snapshot-target yet (a controller uploads it)")) };
    switch (admitStep(#snapshot, breakLimit, "reinstall the canister", caller)) { case (?error) return #err(error); case null {} };
    await* runStep(#snapshot, "break", caller, func(id : Principal) : async* (Nat, Text) {
      await Management.ic.install_code({ mode = #reinstall; canister_id = id; wasm_module = wasm; arg = to_candid (()); sender_canister_version = null });
      (0, "reinstalled: the same code, empty state")
    })
  };

  /// Stops the snapshot target, loads the snapshot, starts it again.
  public shared ({ caller }) func restoreSnapshot() : async StepResult {
    let taken = switch snapshot { case (?s) s; case null return #err(#notFound("there is no snapshot yet: take one first")) };
    switch (admitStep(#snapshot, restoreLimit, "load the snapshot", caller)) { case (?error) return #err(error); case null {} };
    await* runStep(#snapshot, "restore", caller, func(id : Principal) : async* (Nat, Text) {
      await Management.ic.stop_canister({ canister_id = id });
      await Management.ic.load_canister_snapshot({ canister_id = id; snapshot_id = taken.id; sender_canister_version = null });
      await Management.ic.start_canister({ canister_id = id });
      (Nat64.toNat(taken.totalSize), "loaded the snapshot of " # Nat.toText(taken.records) # " records")
    })
  };

  /// Opens an upload of the install target's module for `caller`: clears the chunk store.
  public shared ({ caller }) func beginInstall() : async BeginInstallResult {
    if (installModuleHash == null) return #err(#unavailable("no module is registered for install-target yet (a controller calls setInstallModule)"));
    switch (currentSession()) {
      case (?open) {
        let seconds = Int.abs(open.expiresAt - Time.now()) / 1_000_000_000 + 1;
        return #err(#rateLimited({ message = "another visitor is uploading right now"; retryAfterSeconds = seconds }));
      };
      case null {};
    };
    switch (admitStep(#install, installLimit, "install in chunks", caller)) { case (?error) return #err(error); case null {} };
    let id = switch (installSlot.canisterId) { case (?id) id; case null return #err(#unavailable("install-target is not registered")) };
    try { await Management.ic.clear_chunk_store({ canister_id = id }) } catch (error) {
      return #err(#unavailable("clearing the chunk store of install-target failed: " # Error.message(error)));
    };
    let opened = { id = nextSessionId; caller; expiresAt = Time.now() + installSessionNanos; hashes = List.empty<Blob>(); var bytes = 0 };
    nextSessionId += 1;
    session := ?opened;
    #ok({ id = opened.id; caller; expiresAt = opened.expiresAt; chunks = 0; bytes = 0 })
  };

  func openSession(sessionId : Nat, caller : Principal) : ?{ id : Nat; caller : Principal; expiresAt : Int; hashes : List.List<Blob>; var bytes : Nat } {
    switch session {
      case (?s) if (s.id == sessionId and s.caller == caller and s.expiresAt > Time.now()) ?s else null;
      case null null;
    }
  };

  /// Passes one chunk (at most 1 MiB) to the install target's chunk store.
  public shared ({ caller }) func uploadInstallChunk(sessionId : Nat, chunk : Blob) : async ChunkResult {
    let s = switch (openSession(sessionId, caller)) { case (?s) s; case null return #err(#notFound("upload session " # Nat.toText(sessionId) # " is not open for you (expired or replaced); begin again")) };
    if (chunk.size() == 0 or chunk.size() > installChunkBytes) return #err(#invalidArgument("a chunk holds between 1 and " # Nat.toText(installChunkBytes) # " bytes"));
    if (s.bytes + chunk.size() > installModuleBytes) return #err(#invalidArgument("this chunk would take the upload past the module's " # Nat.toText(installModuleBytes) # " bytes"));
    let id = switch (installSlot.canisterId) { case (?id) id; case null return #err(#unavailable("install-target is not registered")) };
    let labBefore = Cycles.balance();
    let started = Time.now();
    let stored = try { await Management.ic.upload_chunk({ canister_id = id; chunk }) } catch (error) {
      return #err(#unavailable("upload_chunk failed: " # Error.message(error)));
    };
    List.add(s.hashes, stored.hash);
    s.bytes += chunk.size();
    #ok({ hash = stored.hash; chunks = List.size(s.hashes); bytes = s.bytes; elapsedNanos = Time.now() - started; labCyclesBefore = labBefore; labCyclesAfter = Cycles.balance() })
  };

  /// Installs the install target from the uploaded chunks, if they make up the registered module.
  public shared ({ caller }) func installChunked(sessionId : Nat) : async StepResult {
    let s = switch (openSession(sessionId, caller)) { case (?s) s; case null return #err(#notFound("upload session " # Nat.toText(sessionId) # " is not open for you (expired or replaced); begin again")) };
    let hash = switch installModuleHash { case (?h) h; case null return #err(#unavailable("no module is registered for install-target")) };
    if (s.bytes != installModuleBytes) return #err(#invalidArgument("the chunks hold " # Nat.toText(s.bytes) # " bytes; the module has " # Nat.toText(installModuleBytes)));
    session := null;
    let hashes = List.toArray(List.map<Blob, Management.ChunkHash>(s.hashes, func(h) = { hash = h }));
    await* runStep(#install, "install", caller, func(id : Principal) : async* (Nat, Text) {
      await Management.ic.install_chunked_code({
        mode = #reinstall; target_canister = id; store_canister = null; chunk_hashes_list = hashes;
        wasm_module_hash = hash; arg = to_candid (()); sender_canister_version = null;
      });
      // The chunks are charged as memory while they sit in the store.
      await Management.ic.clear_chunk_store({ canister_id = id });
      (0, "installed from " # Nat.toText(hashes.size()) # " chunks")
    })
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
    for (limit in [takeLimit, breakLimit, restoreLimit, installLimit].vals()) limit.windowNanos := next.storeIntervalSeconds * 1_000_000_000;
    hourlyUpgrades.limit := next.upgradesPerHour;
    #ok(settings)
  };

  public query func status() : async Status {
    { stores = [info(#classic), info(#region), info(#eop)]; settings }
  };

  /// Drops oversized ingress before it is paid for: controllers send modules, visitors send the
  /// install target's chunks (1 MiB each) to uploadInstallChunk; every other method takes a few
  /// bytes. (Inter-canister calls skip inspection, so the methods check their input themselves.)
  system func inspect({ caller : Principal; arg : Blob; msg : {
    #appendModuleChunk : Any; #appendTargetModuleChunk : Any; #beginInstall : Any; #beginModuleUpload : Any;
    #beginTargetModuleUpload : Any; #breakTarget : Any; #configure : Any; #installBaseModule : Any;
    #installChunked : Any; #opsStatus : Any; #register : Any; #registerTarget : Any; #reset : Any;
    #restoreSnapshot : Any; #setInstallModule : Any; #status : Any; #takeSnapshot : Any; #upgrade : Any;
    #uploadInstallChunk : Any; #uploadModule : Any; #uploadTargetModule : Any;
  } }) : Bool {
    switch msg {
      case (#uploadInstallChunk _) arg.size() <= installChunkBytes + 64;
      case _ arg.size() <= 1024 or Principal.isController(caller);
    }
  };
};
