/// The consumer of the queues demo: each call does a little work and answers. Only the producer
/// canister (set by a controller) may call it, so strangers cannot fill its queues.
import Principal "mo:core/Principal";
import Nat "mo:core/Nat";
import Error "mo:core/Error";
import Errors "../lib/Errors";

persistent actor QueueConsumer {
  var producer : ?Principal = null;
  var handled = 0;

  public shared ({ caller }) func setProducer(id : Principal) : async { #ok; #err : Errors.Error } {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller sets the producer"));
    producer := ?id;
    #ok
  };

  /// One unit of work: a short loop, so each message costs a few thousand instructions.
  public shared ({ caller }) func work(item : Nat) : async Nat {
    if (?caller != producer) throw Error.reject("only the producer canister sends work here");
    var acc = item;
    var i = 0;
    while (i < 200) { acc := (acc * 31 + i) % 1_000_003; i += 1 };
    handled += 1;
    acc
  };

  public query func stats() : async { handled : Nat } { { handled } };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
