/// A fixed-window rate limit, kept in stable state: at most `limit` events (or
/// units of work) per `windowNanos`. Used where a stranger's call costs the
/// canister real work (upgrades, resets, adding records) and a per-caller limit
/// would not help (new principals are free).
import Time "mo:core/Time";
import Int "mo:core/Int";
import Nat "mo:core/Nat";

module {
  public type RateLimit = {
    var windowStart : Int;
    var count : Nat;
    var limit : Nat;
    var windowNanos : Nat;
  };

  public func new(limit : Nat, windowSeconds : Nat) : RateLimit {
    { var windowStart = 0; var count = 0; var limit; var windowNanos = windowSeconds * 1_000_000_000 }
  };

  /// Counts one event at `now` if the window has room; otherwise returns how many
  /// whole seconds (at least 1) remain until it has.
  public func take(self : RateLimit, now : Int) : { #ok; #wait : Nat } = takeMany(self, now, 1);

  /// Counts `amount` units (e.g. records added) at once, all or nothing.
  public func takeMany(self : RateLimit, now : Int, amount : Nat) : { #ok; #wait : Nat } {
    if (now - self.windowStart >= self.windowNanos) {
      self.windowStart := now;
      self.count := 0;
    };
    if (self.count + amount <= self.limit) {
      self.count += amount;
      #ok
    } else {
      let remaining = Int.abs(self.windowStart + self.windowNanos - now);
      // Rounded up, so waiting the advertised seconds is always enough.
      #wait(Nat.max(1, (remaining + 999_999_999) / 1_000_000_000))
    }
  };

  public func takeNow(self : RateLimit) : { #ok; #wait : Nat } = take(self, Time.now());
};
