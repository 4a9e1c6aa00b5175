/// A fixed-window rate limit, kept in stable state: at most `limit` events (or
/// units of work) per `windowNanos`. Used where a stranger's call costs the
/// canister real work (upgrades, resets, adding records) and a per-caller limit
/// would not help (new principals are free).
import Time "mo:core/Time";
import Int "mo:core/Int";
import Nat "mo:core/Nat";
import Map "mo:core/Map";
import Principal "mo:core/Principal";

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

  /// Gives back `amount` units taken in the current window (when a later check refused the work).
  public func refund(self : RateLimit, amount : Nat) { self.count -= Nat.min(amount, self.count) };

  /// Who spent how much of a global limit's current window, so that no caller spends it alone.
  /// Holds at most one entry per event of the window (the limit bounds its size).
  public type Shares = { var window : Int; counts : Map.Map<Principal, Nat> };

  public func newShares() : Shares = { var window = 0; counts = Map.empty<Principal, Nat>() };

  /// The most one caller may take from a window of `self`: a 1/`parts` share (at least 1).
  public func shareOf(self : RateLimit, parts : Nat) : Nat = Nat.max(1, self.limit / Nat.max(1, parts));

  /// Takes `amount` units of the global `self` for `caller`, who may take at most
  /// shareOf(self, parts) per window: #share when the caller's share is spent (the rest stays
  /// for others), #wait when the window itself is.
  public func takeShare(self : RateLimit, shares : Shares, caller : Principal, parts : Nat, amount : Nat, now : Int) : { #ok; #wait : Nat; #share : Nat } {
    if (now - self.windowStart >= self.windowNanos or shares.window != self.windowStart) {
      // A new window (or one this record has not seen): everyone's share is whole again.
      Map.clear(shares.counts);
    };
    let spent = switch (Map.get(shares.counts, Principal.compare, caller)) { case (?n) n; case null 0 };
    if (spent + amount > shareOf(self, parts)) {
      let remaining = if (now - self.windowStart >= self.windowNanos) 0 else Int.abs(self.windowStart + self.windowNanos - now);
      return #share(Nat.max(1, (remaining + 999_999_999) / 1_000_000_000));
    };
    switch (takeMany(self, now, amount)) {
      case (#wait(seconds)) #wait(seconds);
      case (#ok) {
        shares.window := self.windowStart;
        Map.add(shares.counts, Principal.compare, caller, spent + amount);
        #ok
      };
    };
  };
};
