/// The canister of the optimistic-UI demo: a short shared list of notes. Adding one is an update
/// call, so its result is certified only after the subnet has agreed on it; the page can show the
/// note at once (optimistically) or only when the certified reply arrives, and must take it back
/// when the canister refuses it.
///
/// Limits: a note is 1 to 80 characters, the same text is not accepted twice in a row (the
/// refusal the demo uses for its rollback path), the list keeps the latest 50, and everyone
/// together adds at most 600 notes an hour.
import Array "mo:core/Array";
import List "mo:core/List";
import Nat "mo:core/Nat";
import Text "mo:core/Text";
import Time "mo:core/Time";
import Errors "../lib/Errors";
import RateLimit "../lib/RateLimit";

persistent actor OptimisticNotes {
  public type Note = { id : Nat; text : Text; at : Int };
  public type AddResult = { #ok : Note; #err : Errors.Error };

  let maxChars = 80;
  let kept = 50;
  let hourly = RateLimit.new(600, 3600);
  var notes = List.empty<Note>();
  var nextId = 1;

  public shared func add(text : Text) : async AddResult {
    let size = text.size();
    if (size == 0 or size > maxChars) return #err(#invalidArgument("a note holds 1 to " # Nat.toText(maxChars) # " characters; this one has " # Nat.toText(size)));
    switch (List.last(notes)) {
      case (?last) if (last.text == text) return #err(#invalidArgument("the latest note already says exactly this"));
      case null {};
    };
    switch (RateLimit.takeNow(hourly)) {
      case (#wait(seconds)) return #err(#rateLimited({ message = "visitors added many notes in the last hour"; retryAfterSeconds = seconds }));
      case (#ok) {};
    };
    let note = { id = nextId; text; at = Time.now() };
    nextId += 1;
    List.add(notes, note);
    if (List.size(notes) > kept) notes := List.fromArray<Note>(List.sliceToArray<Note>(notes, List.size(notes) - kept, List.size(notes)));
    #ok(note)
  };

  /// The latest notes, newest first (at most 10).
  public query func latest() : async [Note] {
    let n = Nat.min(10, List.size(notes));
    let slice = List.sliceToArray<Note>(notes, List.size(notes) - n, List.size(notes));
    Array.tabulate<Note>(n, func(i) = slice[n - 1 - i])
  };

  system func inspect({ arg : Blob }) : Bool { arg.size() <= 512 };
};
