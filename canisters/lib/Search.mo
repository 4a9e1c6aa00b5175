/// The search both composite-query canisters agree on: what a valid query is,
/// what a hit looks like, and how a document matches.
import Text "mo:core/Text";
import Array "mo:core/Array";
import Iter "mo:core/Iter";
import Nat "mo:core/Nat";
import Char "mo:core/Char";
import Nat32 "mo:core/Nat32";
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

  /// For each term, the set of vocabulary words it starts (bit i for `Records.words[i]`):
  /// "cani" stands for {canister}, "st" for {stable, state}. Computed once per search.
  public func termSets(terms : [Text]) : [Nat32] {
    Array.map<Text, Nat32>(terms, func(term) {
      var set : Nat32 = 0;
      for ((i, word) in Array.enumerate(Records.words)) {
        if (Text.startsWith(word, #text term)) set |= (1 : Nat32) << Nat32.fromNat(i);
      };
      set
    })
  };

  /// A document matches when every term starts one of its body's words; with word sets
  /// precomputed, that is one AND per term, so a scan of thousands of documents stays cheap.
  public func matches(documentWords : Nat32, terms : [Nat32]) : Bool {
    Array.all<Nat32>(terms, func(set) = documentWords & set != 0)
  };
};
