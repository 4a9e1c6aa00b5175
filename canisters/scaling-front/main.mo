/// The horizontal-scaling demo's front canister. It owns eight worker canisters (an actor class,
/// created on `setup`) and runs the same workload, 32 jobs of 1.8 billion instructions each,
/// spread round-robin over the first 1, 2, 4 or 8 of them. Every job answers with the subnet's
/// time of the round it ran in, so the report says in how many rounds the workload finished and
/// how many jobs completed in each: throughput per round, measured by the subnet's own rounds.
///
/// Why jobs this heavy: a subnet caps execution per round per thread (7 billion instructions,
/// MAX_INSTRUCTIONS_PER_ROUND) and runs at most one message per canister at a time on its four
/// execution threads. Light jobs all finish in the first round whatever the canister count, so
/// the cap never shows. A job of 1.8 billion instructions stays under the 2 billion slice (it is
/// never time-sliced), and four of them fill a thread's round: one canister completes four jobs
/// a round, four canisters sixteen, and eight canisters still sixteen, because only four threads
/// run (with eight threads they would finish all 32 in one round). 32 jobs are more than one
/// round of four full threads holds, so the plateau at eight is the threads' cap, not the end of
/// the work. The subnet's figures are the IC's, unscaled; the price is real computation, about
/// 58 billion counted instructions per run (seconds on the local replica).
///
/// Limits: canister counts 1 to 8, one run at a time, 20 runs an hour from everyone together,
/// of which one caller may start half (anonymous visitors together count as one caller).
import Array "mo:core/Array";
import List "mo:core/List";
import Nat "mo:core/Nat";
import Nat64 "mo:core/Nat64";
import Int "mo:core/Int";
import Principal "mo:core/Principal";
import Time "mo:core/Time";
import Error "mo:core/Error";
import Cycles "mo:core/Cycles";
import Errors "../lib/Errors";
import RateLimit "../lib/RateLimit";
import Worker "../scaling-worker/main";

persistent actor ScalingFront {
  public type RoundCount = {
    /// The subnet's time of the round (one value per round).
    at : Int;
    /// Jobs that ran in that round.
    completed : Nat;
  };

  public type RunReport = {
    canisters : Nat;
    jobs : Nat;
    jobInstructions : Nat64;
    /// Rounds in which jobs ran: distinct round times the workers reported.
    rounds : Nat;
    perRound : [RoundCount];
    /// Jobs each worker ran, in worker order.
    perCanister : [Nat];
    /// Instructions the jobs took, summed as each worker counted them.
    instructions : Nat64;
    /// Jobs whose call failed (none unless the subnet refused or a worker trapped).
    failed : Nat;
    /// Subnet time from the round that sent the jobs to the round the last answer arrived.
    elapsedNanos : Int;
  };
  public type RunResult = { #ok : RunReport; #err : Errors.Error };

  /// What a worker answers for a job (its own JobReport, structurally).
  type JobReport = { at : Int; instructions : Nat64; loops : Nat32 };

  public type WorkerInfo = { index : Nat; canisterId : Principal };
  public type SetupResult = { #ok : [WorkerInfo]; #err : Errors.Error };

  let maxWorkers = 8;
  let jobs = 32;
  let jobInstructions : Nat64 = 1_800_000_000;
  /// Cycles the front keeps for itself after paying for its workers.
  let cyclesReserve = 500_000_000_000;

  var workers : [Worker.Worker] = [];
  var settingUp = false;
  let hourly = RateLimit.new(20, 3600);
  let shares = RateLimit.newShares();
  /// When the running workload started; a run that trapped half-way frees the front after 2 minutes.
  var busySince : ?Int = null;

  /// Creates the eight workers (once). Controllers only: each costs cycles.
  public shared ({ caller }) func setup(cyclesPerWorker : Nat) : async SetupResult {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller of the front may create workers"));
    if (workers.size() > 0 or settingUp) return #err(#invalidArgument("the workers exist already (" # Nat.toText(workers.size()) # ")"));
    let needed = maxWorkers * cyclesPerWorker + cyclesReserve;
    if (Cycles.balance() < needed) return #err(#limitReached("the front holds " # Nat.toText(Cycles.balance()) # " cycles and needs " # Nat.toText(needed)));
    settingUp := true;
    let created = List.empty<Worker.Worker>();
    for (index in Nat.range(0, maxWorkers)) {
      try {
        List.add(created, await (with cycles = cyclesPerWorker) Worker.Worker({ index }));
      } catch (error) {
        settingUp := false;
        // Workers made so far stay owned by the front but unused; a retry starts over.
        return #err(#unavailable("creating worker " # Nat.toText(index) # " failed: " # Error.message(error)));
      };
    };
    workers := List.toArray(created);
    settingUp := false;
    #ok(describe())
  };

  func describe() : [WorkerInfo] = Array.tabulate<WorkerInfo>(workers.size(), func(i) = { index = i; canisterId = Principal.fromActor(workers[i]) });

  public query func listWorkers() : async [WorkerInfo] { describe() };

  /// Upgrades every worker to the worker code built into this front. Controllers only; run it
  /// after upgrading the front when the worker code changed (the front is the workers' only controller).
  public shared ({ caller }) func upgradeWorkers() : async SetupResult {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller of the front may upgrade its workers"));
    for ((index, worker) in workers.enumerate()) {
      try {
        ignore await (system Worker.Worker)(#upgrade(worker))({ index });
      } catch (error) {
        return #err(#unavailable("upgrading worker " # Nat.toText(index) # " failed: " # Error.message(error)));
      };
    };
    #ok(describe())
  };

  /// Runs the workload over the first `canisters` workers and reports it round by round.
  public shared ({ caller }) func run(canisters : Nat) : async RunResult {
    if (canisters == 0 or canisters > maxWorkers) return #err(#invalidArgument("spread the work over 1 to " # Nat.toText(maxWorkers) # " canisters"));
    if (workers.size() < canisters) return #err(#unavailable("the front has " # Nat.toText(workers.size()) # " workers (a controller calls setup)"));
    let now = Time.now();
    switch busySince {
      case (?since) if (now - since < 120_000_000_000) return #err(#rateLimited({ message = "another run is in progress"; retryAfterSeconds = 3 }));
      case null {};
    };
    // Anonymous visitors share one principal, so together they count as one caller.
    switch (RateLimit.takeShare(hourly, shares, caller, 2, 1, now)) {
      case (#share(seconds)) return #err(#rateLimited({ message = "you started half of this hour's runs"; retryAfterSeconds = seconds }));
      case (#wait(seconds)) return #err(#rateLimited({ message = "visitors started many runs in the last hour"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    busySince := ?now;
    // Every job is sent before the first is awaited: they all wait in the workers' queues.
    let calls = List.empty<(Nat, async JobReport)>();
    var failed = 0;
    for (j in Nat.range(0, jobs)) {
      let w = j % canisters;
      try { List.add(calls, (w, workers[w].job(jobInstructions))) } catch (_) { failed += 1 };
    };
    let times = List.empty<Int>();
    let perCanister = Array.toVarArray<Nat>(Array.repeat<Nat>(0, canisters));
    var instructions : Nat64 = 0;
    for ((w, call) in List.values(calls)) {
      try {
        let report = await call;
        List.add(times, report.at);
        perCanister[w] += 1;
        instructions +%= report.instructions;
      } catch (_) { failed += 1 };
    };
    busySince := null;
    List.sortInPlace<Int>(times, Int.compare);
    let perRound = List.empty<RoundCount>();
    for (at in List.values(times)) {
      let merged = switch (List.last(perRound)) {
        case (?last) if (last.at == at) { List.put(perRound, List.size(perRound) - 1 : Nat, { at; completed = last.completed + 1 }); true } else false;
        case null false;
      };
      if (not merged) List.add(perRound, { at; completed = 1 });
    };
    #ok({
      canisters;
      jobs;
      jobInstructions;
      rounds = List.size(perRound);
      perRound = List.toArray(perRound);
      perCanister = Array.fromVarArray(perCanister);
      instructions;
      failed;
      elapsedNanos = Time.now() - now;
    })
  };

  public query func limits() : async { maxWorkers : Nat; jobs : Nat; jobInstructions : Nat64; workers : Nat } {
    { maxWorkers; jobs; jobInstructions; workers = workers.size() }
  };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
