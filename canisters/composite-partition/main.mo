/// One partition of the composite-query demo: a fixed slice of a generated
/// corpus, searched by a full scan over precomputed word sets.
/// Created by composite-front (this file is an actor class); anyone may query it
/// directly as well.
import Array "mo:core/Array";
import List "mo:core/List";
import Nat64 "mo:core/Nat64";
import Principal "mo:core/Principal";
import IC "mo:core/InternetComputer";
import Errors "../lib/Errors";
import Records "../lib/Records";
import Search "../lib/Search";

persistent actor class Partition(init : { index : Nat; documents : Nat }) = this {
  /// The corpus is a contiguous id range, so partitions never overlap and the
  /// union of all partitions is the whole corpus.
  let firstId = init.index * init.documents;
  let corpus : [Records.Record] = Array.tabulate<Records.Record>(
    init.documents,
    func(i) = Records.generate(Nat64.fromNat(firstId + i)),
  );
  /// Each document's set of vocabulary words: the search index, built once at creation.
  let wordSets : [Nat32] = Array.tabulate<Nat32>(init.documents, func(i) = Records.wordSet(Nat64.fromNat(firstId + i)));

  public query func info() : async { partition : Nat; documents : Nat; firstId : Nat } {
    { partition = init.index; documents = corpus.size(); firstId }
  };

  public query func search(searchText : Text, limit : Nat) : async Search.PartitionResult {
    let terms = switch (Search.parse(searchText, limit)) { case (#ok(terms)) terms; case (#err(error)) return #err(error) };
    let sets = Search.termSets(terms);
    var matches = 0;
    let hits = List.empty<Search.Hit>();
    for ((i, document) in Array.enumerate(corpus)) {
      if (Search.matches(wordSets[i], sets)) {
        matches += 1;
        if (matches <= limit) List.add(hits, { id = document.id; title = document.title; body = document.body; partition = init.index });
      };
    };
    #ok({
      partition = init.index;
      canisterId = Principal.fromActor(this);
      matches;
      hits = List.toArray(hits);
      instructions = IC.performanceCounter(0);
    })
  };
};
