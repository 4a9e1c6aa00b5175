/// The callee of the bounded-wait demo: a job that takes `seconds` of the subnet's time to finish,
/// because it awaits itself (one message, hence at least one round, per step) until that much time
/// has passed. It notes every job it finishes, so a caller that gave up waiting can later learn
/// that the work was done anyway. Only the caller canister (set by a controller) starts jobs.
///
/// Limits: jobs of 1 to 20 seconds (and 250,000 steps, so that a replica whose time stands still still ends them), at most 4 running at once; the last 50 finished jobs are kept.
import List "mo:core/List";
import Nat "mo:core/Nat";
import Principal "mo:core/Principal";
import Time "mo:core/Time";
import Error "mo:core/Error";
import Errors "../lib/Errors";

persistent actor SlowCallee {
  public type Job = { id : Nat; seconds : Nat; startedAt : Int; finishedAt : Int; steps : Nat };

  let maxSeconds = 20;
  let maxRunning = 4;
  /// Steps a job takes at most, whatever the clock says (a replica whose time stands still).
  let maxSteps = 250_000;
  var caller : ?Principal = null;
  var running = 0;
  var finished = List.empty<Job>();

  public shared ({ caller = who }) func setCaller(id : Principal) : async { #ok; #err : Errors.Error } {
    if (not Principal.isController(who)) return #err(#notAuthorized("only a controller sets the caller"));
    caller := ?id;
    #ok
  };

  func step() : async () {};

  public shared ({ caller = who }) func slowJob(id : Nat, seconds : Nat) : async Job {
    if (?who != caller) throw Error.reject("only the caller canister starts jobs here");
    if (seconds == 0 or seconds > maxSeconds) throw Error.reject("a job takes 1 to " # Nat.toText(maxSeconds) # " seconds");
    if (running >= maxRunning) throw Error.reject("already " # Nat.toText(running) # " jobs running; try again shortly");
    running += 1;
    let startedAt = Time.now();
    var steps = 0;
    try {
      while (Time.now() - startedAt < seconds * 1_000_000_000 and steps < maxSteps) {
        await step();
        steps += 1;
      };
    } finally {
      running -= 1;
    };
    let job = { id; seconds; startedAt; finishedAt = Time.now(); steps };
    List.add(finished, job);
    if (List.size(finished) > 50) finished := List.fromArray<Job>(List.sliceToArray<Job>(finished, List.size(finished) - 50, List.size(finished)));
    job
  };

  /// The finished job with this id, if the callee finished it.
  public query func job(id : Nat) : async ?Job { List.find<Job>(finished, func(j) = j.id == id) };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
