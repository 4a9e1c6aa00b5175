/// One worker of the horizontal-scaling demo (an actor class, created by scaling-front, its only
/// controller). A job is a fixed amount of computation, measured by the instruction counter, and
/// answers with the subnet's time of the round it ran in, so the front can count rounds.
import Nat32 "mo:core/Nat32";
import Principal "mo:core/Principal";
import Time "mo:core/Time";
import Error "mo:core/Error";
import IC "mo:core/InternetComputer";

persistent actor class Worker(init : { index : Nat }) {
  public type JobReport = {
    /// The subnet's time when the job ran: the same for every message of a round.
    at : Int;
    /// Instructions the job took (ic0.performance_counter).
    instructions : Nat64;
    /// Passes of the inner loop the job made.
    loops : Nat32;
  };

  /// The most a job may ask for: below the IC's 2 billion instruction slice
  /// (MAX_INSTRUCTIONS_PER_SLICE), so a job is never time-sliced across rounds.
  let maxJobInstructions : Nat64 = 1_900_000_000;
  var handled = 0;

  /// Runs until the instruction counter reaches `instructions`, then answers. Only the front
  /// (this canister's controller) sends jobs, so strangers cannot queue work here.
  public shared ({ caller }) func job(instructions : Nat64) : async JobReport {
    if (not Principal.isController(caller)) throw Error.reject("only the scaling front sends jobs to its workers");
    if (instructions > maxJobInstructions) throw Error.reject("a job runs at most 1.9 billion instructions");
    // The work is the count itself: a loop the instruction counter measures as the IC's would,
    // the same per message on every worker, so only the scheduling differs between runs.
    var loops : Nat32 = 0;
    while (IC.performanceCounter(0) < instructions) {
      // About 100,000 instructions between two reads of the counter (a call into the system).
      var k : Nat32 = 0;
      while (k < 10_000) { k +%= 1 };
      loops +%= 1;
    };
    handled += 1;
    { at = Time.now(); instructions = IC.performanceCounter(0); loops }
  };

  public query func stats() : async { index : Nat; handled : Nat } { { index = init.index; handled } };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
