/// The caller of the bounded-wait demo: starts the same slow job on the callee either as a
/// guaranteed-response call, which waits however long the job takes, or as a bounded-wait
/// (best-effort) call with a timeout: if no reply has come when the deadline passes, the system
/// answers the caller with SYS_UNKNOWN, and the caller cannot tell whether the job ran.
///
/// Limits: jobs of 1 to 20 seconds, timeouts of 1 to 30 seconds, 120 calls an hour from everyone.
import Nat "mo:core/Nat";
import Nat32 "mo:core/Nat32";
import Principal "mo:core/Principal";
import Time "mo:core/Time";
import Error "mo:core/Error";
import Errors "../lib/Errors";
import RejectCodes "../lib/RejectCodes";
import RateLimit "../lib/RateLimit";

persistent actor BoundedCaller {
  type Job = { id : Nat; seconds : Nat; startedAt : Int; finishedAt : Int; steps : Nat };
  type Callee = actor { slowJob : shared (Nat, Nat) -> async Job };

  public type CallReport = {
    jobId : Nat;
    /// "guaranteed" or "bounded-wait".
    kind : Text;
    timeoutSeconds : Nat;
    /// "replied", or the reject code as the spec names it (SYS_UNKNOWN, CANISTER_REJECT, …).
    outcome : Text;
    message : Text;
    job : ?Job;
    startedAt : Int;
    elapsedNanos : Int;
  };
  public type CallResult = { #ok : CallReport; #err : Errors.Error };

  let hourly = RateLimit.new(120, 3600);
  var callee : ?Principal = null;
  var nextJob = 1;

  public shared ({ caller }) func setCallee(id : Principal) : async { #ok; #err : Errors.Error } {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller sets the callee"));
    callee := ?id;
    #ok
  };

  /// Runs a job of `seconds` on the callee; `timeoutSeconds` = 0 makes a guaranteed-response call.
  public shared func call(seconds : Nat, timeoutSeconds : Nat) : async CallResult {
    if (seconds == 0 or seconds > 20) return #err(#invalidArgument("a job takes 1 to 20 seconds"));
    if (timeoutSeconds > 30) return #err(#invalidArgument("the timeout is 1 to 30 seconds (0 for a guaranteed-response call)"));
    let target : Callee = switch callee {
      case (?id) actor (Principal.toText(id));
      case null return #err(#unavailable("no callee is set yet (a controller calls setCallee)"));
    };
    switch (RateLimit.takeNow(hourly)) {
      case (#wait(s)) return #err(#rateLimited({ message = "visitors made many calls in the last hour"; retryAfterSeconds = s }));
      case (#ok) {};
    };
    let jobId = nextJob;
    nextJob += 1;
    let startedAt = Time.now();
    let kind = if (timeoutSeconds == 0) "guaranteed" else "bounded-wait";
    try {
      let job = if (timeoutSeconds == 0) await target.slowJob(jobId, seconds) else await (with timeout = Nat32.fromNat(timeoutSeconds)) target.slowJob(jobId, seconds);
      #ok({ jobId; kind; timeoutSeconds; outcome = "replied"; message = ""; job = ?job; startedAt; elapsedNanos = Time.now() - startedAt })
    } catch (error) {
      #ok({ jobId; kind; timeoutSeconds; outcome = RejectCodes.name(error); message = Error.message(error); job = null; startedAt; elapsedNanos = Time.now() - startedAt })
    }
  };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
