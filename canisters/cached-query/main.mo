/// The canister of the query-caching demo. `lookup` is a query that does a fixed amount of work
/// (about 5 million instructions of hashing) for a key and says how much it did; `lookupAt` does
/// the same and also reads the time. `touch` is an update that changes the canister's state.
/// The replica's query cache answers a repeated query without running it until the canister
/// executes a replicated message (such as `touch`), or, for `lookupAt`, until the time moves on.
///
/// Limits: keys 1 to 1,000 (queries cost the canister nothing on mainnet); `touch` 600 times an
/// hour from everyone together.
import Nat "mo:core/Nat";
import Nat32 "mo:core/Nat32";
import Nat64 "mo:core/Nat64";
import Time "mo:core/Time";
import IC "mo:core/InternetComputer";
import Errors "../lib/Errors";
import RateLimit "../lib/RateLimit";

persistent actor CachedQuery {
  public type Answer = {
    key : Nat;
    /// The result of the work: the same for the same key and state.
    digest : Nat32;
    /// How many times the state was changed when this answer was computed.
    version : Nat;
    /// The time the query read, for `lookupAt` (null for `lookup`).
    time : ?Int;
    /// Instructions the execution that produced this answer took.
    instructions : Nat64;
  };
  public type AnswerResult = { #ok : Answer; #err : Errors.Error };

  let hourly = RateLimit.new(600, 3600);
  var version = 0;

  func work(key : Nat) : Nat32 {
    var h : Nat32 = 2_166_136_261 ^ Nat32.fromNat(key % 4_294_967_296) ^ Nat32.fromNat(version % 4_294_967_296);
    var i = 0;
    while (i < 100_000) {
      h := (h ^ Nat32.fromNat(i % 256)) *% 16_777_619;
      i += 1;
    };
    h
  };

  func check(key : Nat) : ?Errors.Error = if (key == 0 or key > 1_000) ?#invalidArgument("keys are 1 to 1000") else null;

  public query func lookup(key : Nat) : async AnswerResult {
    switch (check(key)) { case (?e) return #err(e); case null {} };
    let digest = work(key);
    #ok({ key; digest; version; time = null; instructions = IC.performanceCounter(0) })
  };

  public query func lookupAt(key : Nat) : async AnswerResult {
    switch (check(key)) { case (?e) return #err(e); case null {} };
    let digest = work(key);
    #ok({ key; digest; version; time = ?Time.now(); instructions = IC.performanceCounter(0) })
  };

  /// Changes the state (a replicated execution): every cached answer of this canister is stale.
  public shared func touch() : async { #ok : Nat; #err : Errors.Error } {
    switch (RateLimit.takeNow(hourly)) {
      case (#wait(s)) return #err(#rateLimited({ message = "visitors changed the state many times in the last hour"; retryAfterSeconds = s }));
      case (#ok) {};
    };
    version += 1;
    #ok(version)
  };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
