/// One error vocabulary for every public demo canister: each case names what
/// went wrong, and its text says how to do better. Public methods answer bad
/// input with `#err`, never with a trap, so a caller can tell a refusal from a
/// crash.
module {
  public type Error = {
    /// The input is malformed or out of bounds (too long, too many, empty).
    #invalidArgument : Text;
    /// A cap that protects the canister is reached (records, buckets, entries per caller).
    #limitReached : Text;
    /// Too many requests of this kind lately; try again after the given number of seconds.
    #rateLimited : { message : Text; retryAfterSeconds : Nat };
    /// The caller may not do this (e.g. only controllers change configuration or code).
    #notAuthorized : Text;
    /// The thing asked for does not exist.
    #notFound : Text;
    /// Another canister this one depends on failed or is not set up yet.
    #unavailable : Text;
  };
};
