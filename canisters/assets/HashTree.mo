/// IC hash trees (interface spec, "Certification": encoding of certificates, lookup and
/// reconstruction), and a mutable certified tree of labeled paths that keeps every subtree
/// hash cached so an update rehashes only the nodes on the changed paths, and a witness
/// for a set of paths is built from cached hashes without hashing at query time.
import Map "mo:core/Map";
import List "mo:core/List";
import Blob "mo:core/Blob";
import Text "mo:core/Text";
import Nat "mo:core/Nat";
import Nat8 "mo:core/Nat8";
import Array "mo:core/Array";
import Sha256 "Sha256";
import Cbor "Cbor";

module {
  public type HashTree = {
    #empty;
    #fork : (HashTree, HashTree);
    #labeled : (Blob, HashTree);
    #leaf : Blob;
    #pruned : Blob;
  };

  // domain_sep(s) = byte(|s|) · s, written as literals because module fields must be static.
  let emptyDomain : Blob = "\11ic-hashtree-empty";
  let forkDomain : Blob = "\10ic-hashtree-fork";
  let labeledDomain : Blob = "\13ic-hashtree-labeled";
  let leafDomain : Blob = "\10ic-hashtree-leaf";

  public func emptyHash() : Blob = Sha256.hash(emptyDomain);
  public func forkHash(l : Blob, r : Blob) : Blob = Sha256.hashAll([forkDomain, l, r]);
  public func labeledHash(label_ : Blob, sub : Blob) : Blob = Sha256.hashAll([labeledDomain, label_, sub]);
  public func leafHash(value : Blob) : Blob = Sha256.hashAll([leafDomain, value]);

  /// reconstruct(t) from the spec: the root hash a witness stands for.
  public func reconstruct(t : HashTree) : Blob {
    switch t {
      case (#empty) emptyHash();
      case (#fork(l, r)) forkHash(reconstruct(l), reconstruct(r));
      case (#labeled(l, sub)) labeledHash(l, reconstruct(sub));
      case (#leaf(v)) leafHash(v);
      case (#pruned(h)) h;
    };
  };

  /// CBOR of a tree (certificates.cddl), with the self-describing tag.
  public func encode(t : HashTree) : Blob {
    let w = Cbor.writer();
    Cbor.writeSelfDescribeTag(w);
    writeTree(w, t);
    Cbor.toBlob(w);
  };

  func writeTree(w : Cbor.Writer, t : HashTree) {
    switch t {
      case (#empty) { Cbor.writeArrayHead(w, 1); Cbor.writeNat(w, 0) };
      case (#fork(l, r)) { Cbor.writeArrayHead(w, 3); Cbor.writeNat(w, 1); writeTree(w, l); writeTree(w, r) };
      case (#labeled(l, sub)) { Cbor.writeArrayHead(w, 3); Cbor.writeNat(w, 2); Cbor.writeBytes(w, l); writeTree(w, sub) };
      case (#leaf(v)) { Cbor.writeArrayHead(w, 2); Cbor.writeNat(w, 3); Cbor.writeBytes(w, v) };
      case (#pruned(h)) { Cbor.writeArrayHead(w, 2); Cbor.writeNat(w, 4); Cbor.writeBytes(w, h) };
    };
  };

  // ---------------------------------------------------------------------------------------
  // The mutable certified tree. Plain data (stable in a persistent actor) plus functions.

  /// Children are kept in a B-tree ordered bytewise, the order the spec requires for labels.
  public type Node = {
    var leaf : ?Blob;
    children : Map.Map<Blob, Node>;
    var cache : ?Cache; // null = this node or a descendant changed since the last `hash`
  };

  /// The children laid out as a balanced fork tree over their sorted labels; the shape is a
  /// function of the child count alone, so the witness and the hash always agree.
  type Cache = {
    hash : Blob;
    labels : [Blob];
    children : [Node];
    forks : Forks; // absent for a leaf or a node without children
  };

  type Forks = {
    #one : Nat; // index into labels
    #fork : (Blob, Nat, Nat, Forks, Forks); // hash, first index, end index (exclusive), left, right
    #none;
  };

  public func newNode() : Node = { var leaf = null; children = Map.empty<Blob, Node>(); var cache = null };

  /// Sets the leaf at `path` (creating labeled nodes on the way) and marks the path dirty.
  public func insert(root : Node, path : [Blob], value : Blob) {
    let node = descend(root, path, 0);
    node.leaf := ?value;
  };

  /// Replaces the whole subtree at `path` with a fresh node and returns it (for callers that
  /// want to rebuild a subtree, e.g. all responses certified for one expression path).
  public func resetAt(root : Node, path : [Blob]) : Node {
    let parent = descend(root, Array.sliceToArray<Blob>(path, 0, path.size() - 1), 0);
    let fresh = newNode();
    Map.add(parent.children, Blob.compare, path[path.size() - 1], fresh);
    fresh;
  };

  func descend(node : Node, path : [Blob], depth : Nat) : Node {
    node.cache := null;
    if (depth == path.size()) return node;
    let child = switch (Map.get(node.children, Blob.compare, path[depth])) {
      case (?c) c;
      case null {
        let c = newNode();
        Map.add(node.children, Blob.compare, path[depth], c);
        c;
      };
    };
    descend(child, path, depth + 1);
  };

  /// Removes the subtree at `path`, then any ancestors left without children or leaf.
  public func remove(root : Node, path : [Blob]) {
    ignore removeFrom(root, path, 0);
  };

  // Returns true when `node` became empty and its parent should drop it.
  func removeFrom(node : Node, path : [Blob], depth : Nat) : Bool {
    if (depth == path.size()) return true;
    switch (Map.get(node.children, Blob.compare, path[depth])) {
      case null false;
      case (?child) {
        node.cache := null;
        if (removeFrom(child, path, depth + 1)) Map.remove(node.children, Blob.compare, path[depth]);
        node.leaf == null and Map.isEmpty(node.children);
      };
    };
  };

  /// The root hash, recomputing only dirty nodes. Call at the end of every update that
  /// changed the tree (the result goes to CertifiedData.set).
  public func hash(node : Node) : Blob = refresh(node).hash;

  func refresh(node : Node) : Cache {
    switch (node.cache) {
      case (?c) return c;
      case null {};
    };
    let cache : Cache = switch (node.leaf) {
      case (?v) { { hash = leafHash(v); labels = []; children = []; forks = #none } };
      case null {
        let entries = Map.toArray(node.children);
        let labels = Array.map<(Blob, Node), Blob>(entries, func((l, _)) = l);
        let children = Array.map<(Blob, Node), Node>(entries, func((_, c)) = c);
        let labeled = Array.tabulate<Blob>(entries.size(), func i = labeledHash(labels[i], refresh(children[i]).hash));
        if (entries.size() == 0) {
          { hash = emptyHash(); labels; children; forks = #none };
        } else {
          let forks = buildForks(labeled, 0, entries.size());
          { hash = forksHash(forks, labeled); labels; children; forks };
        };
      };
    };
    node.cache := ?cache;
    cache;
  };

  func buildForks(labeled : [Blob], from : Nat, to : Nat) : Forks {
    if (to == from + 1) return #one(from);
    let mid = (from + to) / 2;
    let left = buildForks(labeled, from, mid);
    let right = buildForks(labeled, mid, to);
    #fork(forkHash(forksHash(left, labeled), forksHash(right, labeled)), from, to, left, right);
  };

  func forksHash(f : Forks, labeled : [Blob]) : Blob {
    switch f {
      case (#one(i)) labeled[i];
      case (#fork(h, _, _, _, _)) h;
      case (#none) emptyHash();
    };
  };

  /// The whole tree, unpruned.
  public func full(node : Node) : HashTree {
    let c = refresh(node);
    switch (node.leaf) {
      case (?v) #leaf(v);
      case null {
        func expand(f : Forks) : HashTree = switch f {
          case (#none) #empty;
          case (#one(i)) #labeled(c.labels[i], full(c.children[i]));
          case (#fork(_, _, _, l, r)) #fork(expand(l), expand(r));
        };
        expand(c.forks);
      };
    };
  };

  /// A witness revealing each of `paths`: a path that exists is revealed down to its node,
  /// whose subtree is included whole; for a path that does not exist, the witness reveals the
  /// labels on either side of the first missing label, which proves its absence (the spec's
  /// lookup returns Absent between two adjacent labeled nodes). Everything else is pruned.
  public func witness(node : Node, paths : [[Blob]]) : HashTree {
    witnessAt(node, paths, 0);
  };

  type Reveal = { index : Nat; var subpaths : List.List<[Blob]>; var whole : Bool; var labelOnly : Bool };

  func witnessAt(node : Node, paths : [[Blob]], depth : Nat) : HashTree {
    let c = refresh(node);
    for (p in paths.vals()) if (p.size() == depth) return full(node);
    if (node.leaf != null) return #pruned(c.hash);
    if (c.labels.size() == 0) return #empty;
    // Which child positions to reveal, and with which remaining paths.
    let reveals = Map.empty<Nat, Reveal>();
    func mark(i : Nat) : Reveal {
      switch (Map.get(reveals, Nat.compare, i)) {
        case (?r) r;
        case null {
          let r : Reveal = { index = i; var subpaths = List.empty<[Blob]>(); var whole = false; var labelOnly = true };
          Map.add(reveals, Nat.compare, i, r);
          r;
        };
      };
    };
    for (p in paths.vals()) {
      let target = p[depth];
      let (found, position) = search(c.labels, target);
      if (found) {
        let r = mark(position);
        r.labelOnly := false;
        List.add(r.subpaths, p);
      } else {
        // position = index of the first label greater than target
        if (position > 0) ignore mark(position - 1);
        if (position < c.labels.size()) ignore mark(position);
      };
    };
    func build(f : Forks) : HashTree {
      switch f {
        case (#none) #empty;
        case (#one(i)) {
          switch (Map.get(reveals, Nat.compare, i)) {
            case null #pruned(labeledHash(c.labels[i], refresh(c.children[i]).hash));
            case (?r) {
              if (r.labelOnly) #labeled(c.labels[i], #pruned(refresh(c.children[i]).hash)) else #labeled(c.labels[i], witnessAt(c.children[i], List.toArray(r.subpaths), depth + 1));
            };
          };
        };
        case (#fork(h, from, to, l, r)) {
          if (anyIn(reveals, from, to)) #fork(build(l), build(r)) else #pruned(h);
        };
      };
    };
    build(c.forks);
  };

  func anyIn(reveals : Map.Map<Nat, Reveal>, from : Nat, to : Nat) : Bool {
    for ((i, _) in Map.entriesFrom(reveals, Nat.compare, from)) return i < to;
    false;
  };

  // Binary search: (true, i) when labels[i] == target, else (false, first i with labels[i] > target).
  func search(labels : [Blob], target : Blob) : (Bool, Nat) {
    var lo = 0;
    var hi = labels.size();
    while (lo < hi) {
      let mid = (lo + hi) / 2;
      switch (Blob.compare(labels[mid], target)) {
        case (#less) lo := mid + 1;
        case (#greater) hi := mid;
        case (#equal) return (true, mid);
      };
    };
    (false, lo);
  };
};
