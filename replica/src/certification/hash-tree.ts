// Hash trees (certification.md#certification-encoding, certificates.cddl):
//   [0] empty | [1, left, right] fork | [2, label, subtree] labeled | [3, value] leaf | [4, digest] pruned
// and the certified state tree kept as a persistent (immutable, path-copying) labeled tree whose
// subtrees are treaps keyed by label. The fork shape is free in the spec; the treap shape lets one
// insertion or removal rehash O(log n) nodes, and an old version stays valid for witnesses after
// the state moved on (a certificate and its witnesses must come from the same version).

import { sha256 } from './sha256.ts';
import { compareBytes, concatBytes } from '../ic/bytes.ts';
import { domainSeparator } from './representation-independent-hash.ts';

export type HashTree = [0] | [1, HashTree, HashTree] | [2, Uint8Array, HashTree] | [3, Uint8Array] | [4, Uint8Array];

export const EMPTY = 0;
export const FORK = 1;
export const LABELED = 2;
export const LEAF = 3;
export const PRUNED = 4;

const EMPTY_SEPARATOR = domainSeparator('ic-hashtree-empty');
const FORK_SEPARATOR = domainSeparator('ic-hashtree-fork');
const LABELED_SEPARATOR = domainSeparator('ic-hashtree-labeled');
const LEAF_SEPARATOR = domainSeparator('ic-hashtree-leaf');
const EMPTY_DIGEST = sha256(EMPTY_SEPARATOR);

export const leafDigest = (value: Uint8Array): Uint8Array => sha256(concatBytes(LEAF_SEPARATOR, value));
export const labeledDigest = (label: Uint8Array, sub: Uint8Array): Uint8Array => sha256(concatBytes(LABELED_SEPARATOR, label, sub));
export const forkDigest = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(concatBytes(FORK_SEPARATOR, left, right));

/** reconstruct(t) of the spec: the root hash a certificate signs. */
export function reconstruct(tree: HashTree): Uint8Array {
  switch (tree[0]) {
    case EMPTY:
      return EMPTY_DIGEST;
    case FORK:
      return forkDigest(reconstruct(tree[1]), reconstruct(tree[2]));
    case LABELED:
      return labeledDigest(tree[1], reconstruct(tree[2]));
    case LEAF:
      return leafDigest(tree[1]);
    case PRUNED:
      return tree[1];
  }
}

// ---------------------------------------------------------------------------------------------
// Lookup in a (possibly pruned) hash tree, as certification.md#lookup defines it.

export type LookupResult = { status: 'found'; value: Uint8Array | HashTree } | { status: 'absent' } | { status: 'unknown' } | { status: 'error' };

type LabelSearch = { found: HashTree } | 'absent' | 'unknown' | 'less' | 'greater';

function findLabel(label: Uint8Array, tree: HashTree): LabelSearch {
  switch (tree[0]) {
    case LABELED: {
      const cmp = compareBytes(label, tree[1]);
      if (cmp === 0) return { found: tree[2] };
      return cmp < 0 ? 'less' : 'greater';
    }
    case FORK: {
      const left = findLabel(label, tree[1]);
      if (left === 'greater' || left === 'unknown') {
        const right = findLabel(label, tree[2]);
        if (right === 'less') return left === 'greater' ? 'absent' : 'unknown';
        return right;
      }
      return left;
    }
    case PRUNED:
      return 'unknown';
    default:
      return 'absent';
  }
}

export function lookupPath(path: (Uint8Array | string)[], tree: HashTree): LookupResult {
  if (path.length === 0) {
    if (tree[0] === LEAF) return { status: 'found', value: tree[1] };
    if (tree[0] === PRUNED) return { status: 'unknown' };
    return { status: 'found', value: tree };
  }
  const [head, ...rest] = path;
  const label = typeof head === 'string' ? new TextEncoder().encode(head) : head;
  const search = findLabel(label, tree);
  if (typeof search === 'object') return lookupPath(rest, search.found);
  if (search === 'unknown') return { status: 'unknown' };
  if (tree[0] === LEAF) return { status: 'error' };
  return { status: 'absent' };
}

// ---------------------------------------------------------------------------------------------
// The persistent labeled tree.

export type StateNode = StateLeaf | StateSubtree;
export interface StateLeaf {
  readonly kind: 'leaf';
  readonly value: Uint8Array;
  digest?: Uint8Array;
}
export interface StateSubtree {
  readonly kind: 'subtree';
  readonly root: TreapNode | null;
}
interface TreapNode {
  readonly label: Uint8Array;
  readonly child: StateNode;
  readonly priority: number;
  readonly left: TreapNode | null;
  readonly right: TreapNode | null;
  digest?: Uint8Array;
}

export const EMPTY_SUBTREE: StateSubtree = { kind: 'subtree', root: null };
export const stateLeaf = (value: Uint8Array): StateLeaf => ({ kind: 'leaf', value });

/** A deterministic priority (FNV-1a of the label), so the shape depends only on the content. */
function priorityOf(label: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of label) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

const node = (from: TreapNode, changes: Partial<Pick<TreapNode, 'child' | 'left' | 'right'>>): TreapNode => ({
  label: from.label,
  priority: from.priority,
  child: changes.child ?? from.child,
  left: 'left' in changes ? changes.left! : from.left,
  right: 'right' in changes ? changes.right! : from.right,
});

function treapInsert(t: TreapNode | null, label: Uint8Array, child: StateNode): TreapNode {
  if (t === null) return { label, child, priority: priorityOf(label), left: null, right: null };
  const cmp = compareBytes(label, t.label);
  if (cmp === 0) return node(t, { child });
  if (cmp < 0) {
    const left = treapInsert(t.left, label, child);
    if (left.priority > t.priority) return node(left, { right: node(t, { left: left.right }) });
    return node(t, { left });
  }
  const right = treapInsert(t.right, label, child);
  if (right.priority > t.priority) return node(right, { left: node(t, { right: right.left }) });
  return node(t, { right });
}

function treapMerge(a: TreapNode | null, b: TreapNode | null): TreapNode | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.priority > b.priority) return node(a, { right: treapMerge(a.right, b) });
  return node(b, { left: treapMerge(a, b.left) });
}

function treapRemove(t: TreapNode | null, label: Uint8Array): TreapNode | null {
  if (t === null) return null;
  const cmp = compareBytes(label, t.label);
  if (cmp === 0) return treapMerge(t.left, t.right);
  if (cmp < 0) {
    const left = treapRemove(t.left, label);
    return left === t.left ? t : node(t, { left });
  }
  const right = treapRemove(t.right, label);
  return right === t.right ? t : node(t, { right });
}

function treapGet(t: TreapNode | null, label: Uint8Array): StateNode | undefined {
  while (t !== null) {
    const cmp = compareBytes(label, t.label);
    if (cmp === 0) return t.child;
    t = cmp < 0 ? t.left : t.right;
  }
  return undefined;
}

/** The child at `label`, if any. */
export function getChild(subtree: StateSubtree, label: Uint8Array): StateNode | undefined {
  return treapGet(subtree.root, label);
}

/** All (label, child) pairs in label order. */
export function children(subtree: StateSubtree): Array<[Uint8Array, StateNode]> {
  const out: Array<[Uint8Array, StateNode]> = [];
  const walk = (t: TreapNode | null): void => {
    if (t === null) return;
    walk(t.left);
    out.push([t.label, t.child]);
    walk(t.right);
  };
  walk(subtree.root);
  return out;
}

export function withChild(subtree: StateSubtree, label: Uint8Array, child: StateNode): StateSubtree {
  return { kind: 'subtree', root: treapInsert(subtree.root, label, child) };
}

export function withoutChild(subtree: StateSubtree, label: Uint8Array): StateSubtree {
  const root = treapRemove(subtree.root, label);
  return root === subtree.root ? subtree : { kind: 'subtree', root };
}

/** Returns a new tree with `value` at `path` (creating subtrees on the way), or without it if undefined. */
export function setPath(tree: StateSubtree, path: Uint8Array[], value: StateNode | undefined): StateSubtree {
  const [label, ...rest] = path;
  if (rest.length === 0) return value === undefined ? withoutChild(tree, label) : withChild(tree, label, value);
  const existing = getChild(tree, label);
  const sub = existing?.kind === 'subtree' ? existing : EMPTY_SUBTREE;
  const updated = setPath(sub, rest, value);
  if (updated === sub) return tree;
  if (updated.root === null) return withoutChild(tree, label);
  return withChild(tree, label, updated);
}

export function getPath(tree: StateNode, path: Uint8Array[]): StateNode | undefined {
  let current: StateNode | undefined = tree;
  for (const label of path) {
    if (current?.kind !== 'subtree') return undefined;
    current = getChild(current, label);
  }
  return current;
}

// Digests (cached on the immutable nodes).

export function digestOf(n: StateNode): Uint8Array {
  // Leaf digests are not kept: the treap node above caches the labeled digest that covers it.
  if (n.kind === 'leaf') return n.digest ?? leafDigest(n.value);
  return n.root === null ? EMPTY_DIGEST : treapDigest(n.root);
}

function treapDigest(t: TreapNode): Uint8Array {
  if (t.digest) return t.digest;
  const own = labeledDigest(t.label, digestOf(t.child));
  return (t.digest = combineDigests(t.left && treapDigest(t.left), own, t.right && treapDigest(t.right)));
}

// The fork shape of one treap node: fork(left, fork(own, right)), dropping missing sides.
function combineDigests(left: Uint8Array | null, own: Uint8Array, right: Uint8Array | null): Uint8Array {
  const ownAndRight = right ? forkDigest(own, right) : own;
  return left ? forkDigest(left, ownAndRight) : ownAndRight;
}
function combineTrees(left: HashTree | null, own: HashTree, right: HashTree | null): HashTree {
  const ownAndRight: HashTree = right ? [FORK, own, right] : own;
  return left ? [FORK, left, ownAndRight] : ownAndRight;
}

// ---------------------------------------------------------------------------------------------
// Witnesses: a pruned tree revealing everything below each requested path, plus the neighbouring
// labels that prove absence when a requested label does not exist.

interface PathTrie {
  all: boolean;
  next: Map<string, { label: Uint8Array; trie: PathTrie }>;
}

function buildTrie(paths: Uint8Array[][]): PathTrie {
  const root: PathTrie = { all: false, next: new Map() };
  for (const path of paths) {
    let t = root;
    for (const label of path) {
      if (t.all) break;
      const key = String.fromCharCode(...label);
      let entry = t.next.get(key);
      if (!entry) t.next.set(key, (entry = { label, trie: { all: false, next: new Map() } }));
      t = entry.trie;
    }
    t.all = true;
  }
  return root;
}

/** The whole node as a hash tree (nothing pruned). */
export function fullTree(n: StateNode): HashTree {
  if (n.kind === 'leaf') return [LEAF, n.value];
  if (n.root === null) return [EMPTY];
  const walk = (t: TreapNode): HashTree => combineTrees(t.left && walk(t.left), [LABELED, t.label, fullTree(t.child)], t.right && walk(t.right));
  return walk(n.root);
}

export function witness(tree: StateNode, paths: Uint8Array[][]): HashTree {
  return witnessNode(tree, buildTrie(paths));
}

function witnessNode(n: StateNode, trie: PathTrie): HashTree {
  if (trie.all) return fullTree(n);
  if (trie.next.size === 0) return [PRUNED, digestOf(n)];
  if (n.kind === 'leaf') return [PRUNED, digestOf(n)];
  if (n.root === null) return [EMPTY];
  const root = n.root;
  const wanted = [...trie.next.values()].map((w) => ({ ...w, absent: treapGet(root, w.label) === undefined })).sort((a, b) => compareBytes(a.label, b.label));
  return witnessTreap(root, wanted);
}

type Wanted = { label: Uint8Array; trie: PathTrie; absent: boolean };

function witnessTreap(t: TreapNode, wanted: Wanted[]): HashTree {
  const less: Wanted[] = [];
  const greater: Wanted[] = [];
  let here: PathTrie | undefined;
  for (const w of wanted) {
    const cmp = compareBytes(w.label, t.label);
    if (cmp === 0) here = w.trie;
    else (cmp < 0 ? less : greater).push(w);
  }
  const side = (sub: TreapNode | null, ws: Wanted[]): HashTree | null => {
    if (sub === null) return null;
    return ws.length > 0 ? witnessTreap(sub, ws) : [PRUNED, treapDigest(sub)];
  };
  // Show this node's label when it is requested, or as a bound that proves a requested label
  // absent. Otherwise prune it: besides being smaller, this keeps the agents' label comparison
  // (not lexicographic for a label that is a prefix of another, e.g. canister / canister_ranges)
  // from stopping at a label nobody asked for.
  let own: HashTree;
  if (here) own = [LABELED, t.label, witnessNode(t.child, here)];
  else if (wanted.some((w) => w.absent)) own = [LABELED, t.label, [PRUNED, digestOf(t.child)]];
  else own = [PRUNED, labeledDigest(t.label, digestOf(t.child))];
  return combineTrees(side(t.left, less), own, side(t.right, greater));
}
