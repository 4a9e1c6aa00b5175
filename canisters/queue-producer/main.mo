/// The producer of the queues demo: sends a burst of calls to the consumer canister, two ways.
///   without backpressure: every call at once. The IC keeps at most 500 messages in a canister's
///     queue to another (DEFAULT_QUEUE_CAPACITY); past that, ic0.call_perform refuses the call
///     and Motoko raises the refusal at the call site, so those items are lost unless kept.
///   with backpressure: the items wait in the producer's own queue and go out in windows of at
///     most `window` calls in flight; a refused call goes back into the queue and is retried.
/// After every await the producer records the subnet's time (the same for every message of a
/// round), what it has sent, what was refused, what completed and how long its own queue is, so
/// the page can plot a burst round by round.
///
/// Limits: bursts of 1 to 1,000 calls, windows of 1 to 400, one burst at a time, 60 bursts an
/// hour from everyone together.
import List "mo:core/List";
import Nat "mo:core/Nat";
import Principal "mo:core/Principal";
import Time "mo:core/Time";
import Error "mo:core/Error";
import Errors "../lib/Errors";
import RejectCodes "../lib/RejectCodes";
import RateLimit "../lib/RateLimit";

persistent actor QueueProducer {
  type Consumer = actor { work : shared Nat -> async Nat };

  public type Point = {
    /// The subnet's time when the producer ran (one value per round).
    at : Int;
    sent : Nat;
    refused : Nat;
    completed : Nat;
    /// Items waiting in the producer's own queue (always 0 without backpressure).
    queued : Nat;
  };

  public type BurstReport = {
    backpressure : Bool;
    items : Nat;
    window : Nat;
    /// Calls the IC accepted (some may have been retries of refused ones).
    sent : Nat;
    /// Calls the IC refused at call_perform.
    refused : Nat;
    /// Items the consumer answered.
    completed : Nat;
    /// Items lost: refused and never retried.
    lost : Nat;
    /// The first refusal, as Motoko reports it: code and message.
    firstRefusal : ?Text;
    timeline : [Point];
    elapsedNanos : Int;
  };
  public type BurstResult = { #ok : BurstReport; #err : Errors.Error };

  let maxItems = 1_000;
  let maxWindow = 400;
  let hourly = RateLimit.new(60, 3600);
  var consumer : ?Principal = null;
  /// When the running burst started; a burst that trapped half-way frees the producer after 2 minutes.
  var busySince : ?Int = null;

  public shared ({ caller }) func setConsumer(id : Principal) : async { #ok; #err : Errors.Error } {
    if (not Principal.isController(caller)) return #err(#notAuthorized("only a controller sets the consumer"));
    consumer := ?id;
    #ok
  };

  func describe(error : Error.Error) : Text = RejectCodes.name(error) # ": " # Error.message(error);

  public shared func burst(items : Nat, backpressure : Bool, window : Nat) : async BurstResult {
    if (items == 0 or items > maxItems) return #err(#invalidArgument("a burst has 1 to " # Nat.toText(maxItems) # " calls"));
    if (backpressure and (window == 0 or window > maxWindow)) return #err(#invalidArgument("the window holds 1 to " # Nat.toText(maxWindow) # " calls"));
    let target : Consumer = switch consumer {
      case (?id) actor (Principal.toText(id));
      case null return #err(#unavailable("no consumer is set yet (a controller calls setConsumer)"));
    };
    switch busySince {
      case (?since) if (Time.now() - since < 120_000_000_000) return #err(#rateLimited({ message = "another burst is running"; retryAfterSeconds = 2 }));
      case null {};
    };
    switch (RateLimit.takeNow(hourly)) {
      case (#wait(seconds)) return #err(#rateLimited({ message = "visitors ran many bursts in the last hour"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    busySince := ?Time.now();
    let started = Time.now();
    let timeline = List.empty<Point>();
    var sent = 0;
    var refused = 0;
    var completed = 0;
    var firstRefusal : ?Text = null;
    // The producer's own queue: items not yet accepted by the IC.
    var queue = List.empty<Nat>();
    for (i in Nat.range(0, items)) List.add(queue, i);

    func note() {
      let at = Time.now();
      let point = { at; sent; refused; completed; queued = if backpressure List.size(queue) else 0 };
      switch (List.last(timeline)) {
        case (?last) if (last.at == at) { List.put(timeline, List.size(timeline) - 1 : Nat, point); return };
        case null {};
      };
      List.add(timeline, point);
    };

    note();
    var lost = 0;
    label sending while (List.size(queue) > 0) {
      let take = if backpressure Nat.min(window, List.size(queue)) else List.size(queue);
      let batch = List.sliceToArray(queue, 0, take);
      queue := List.fromArray(List.sliceToArray(queue, take, List.size(queue)));
      let inFlight = List.empty<async Nat>();
      for (item in batch.vals()) {
        try {
          List.add(inFlight, target.work(item));
          sent += 1;
        } catch (error) {
          refused += 1;
          if (firstRefusal == null) firstRefusal := ?describe(error);
          if backpressure List.add(queue, item) else lost += 1;
        };
      };
      note();
      for (call in List.values(inFlight)) {
        try { ignore await call; completed += 1 } catch (_) {};
        note();
      };
      if (not backpressure) break sending;
    };
    busySince := null;
    #ok({
      backpressure; items; window; sent; refused; completed; lost; firstRefusal;
      timeline = List.toArray(timeline);
      elapsedNanos = Time.now() - started;
    })
  };

  public query func limits() : async { maxItems : Nat; maxWindow : Nat; consumer : ?Principal } { { maxItems; maxWindow; consumer } };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 64 };
};
