/// The search both composite-query canisters agree on: what a valid query is,
/// what a hit looks like, and how a document matches.
import Text "mo:core/Text";
import Array "mo:core/Array";
import Iter "mo:core/Iter";
import Nat "mo:core/Nat";
import Char "mo:core/Char";
import Errors "Errors";
import Records "Records";

module {
  public type Hit = { id : Nat64; title : Text; body : Text; partition : Nat };

  /// What a partition answers: its matches (the first `limit` of them as hits)
  /// and the instructions it spent (performance counter 0 at the end of its search).
  public type PartitionResult = {
    #ok : { partition : Nat; canisterId : Principal; matches : Nat; hits : [Hit]; instructions : Nat64 };
    #err : Errors.Error;
  };

  public let maxQueryBytes = 64;
  public let maxTerms = 4;
  public let maxLimit = 50;

  /// Splits a query into lower-case terms, or says what is wrong with it.
  public func parse(searchText : Text, limit : Nat) : { #ok : [Text]; #err : Errors.Error } {
    if (searchText.size() > maxQueryBytes or Text.encodeUtf8(searchText).size() > maxQueryBytes) {
      return #err(#invalidArgument("the query is longer than " # Nat.toText(maxQueryBytes) # " bytes"));
    };
    if (limit == 0 or limit > maxLimit) return #err(#invalidArgument("limit must be between 1 and " # Nat.toText(maxLimit)));
    let terms = Iter.toArray(Text.tokens(Text.toLower(searchText), #predicate(Char.isWhitespace)));
    if (terms.size() == 0) return #err(#invalidArgument("the query is empty; type one to " # Nat.toText(maxTerms) # " words"));
    if (terms.size() > maxTerms) return #err(#invalidArgument("at most " # Nat.toText(maxTerms) # " words per query"));
    #ok(terms)
  };

  /// A document matches when its title or body contains every term (substring match, so "cani" finds "canister").
  public func matches(document : Records.Record, terms : [Text]) : Bool {
    Array.all<Text>(terms, func(term) = Text.contains(document.body, #text term) or Text.contains(Text.toLower(document.title), #text term))
  };
};
