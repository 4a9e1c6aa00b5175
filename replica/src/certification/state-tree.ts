// The certified state tree (index.md#state-tree): /time, /subnet, /canister_ranges, /request_status
// and /canister, as immutable versions built on hash-tree.ts. Every `with*` returns a new version.

import { uleb128, utf8 } from '../ic/bytes.ts';
import { encodeCbor } from './cbor.ts';
import { EMPTY_SUBTREE, digestOf, getPath, setPath, stateLeaf, witness, type HashTree, type StateNode, type StateSubtree } from './hash-tree.ts';

export type StateTree = StateSubtree;
export const EMPTY_STATE: StateTree = EMPTY_SUBTREE;

const L = {
  time: utf8('time'),
  subnet: utf8('subnet'),
  publicKey: utf8('public_key'),
  type: utf8('type'),
  canisterRanges: utf8('canister_ranges'),
  node: utf8('node'),
  requestStatus: utf8('request_status'),
  status: utf8('status'),
  reply: utf8('reply'),
  rejectCode: utf8('reject_code'),
  rejectMessage: utf8('reject_message'),
  errorCode: utf8('error_code'),
  canister: utf8('canister'),
  certifiedData: utf8('certified_data'),
  moduleHash: utf8('module_hash'),
  controllers: utf8('controllers'),
  metadata: utf8('metadata'),
};
export const STATE_LABELS = L;

/** /request_status/<id>: the call's lifecycle (https-interface.md#http-call-overview). */
export type RequestStatus =
  | { status: 'received' | 'processing' | 'done' }
  | { status: 'replied'; reply: Uint8Array }
  | { status: 'rejected'; rejectCode: number; rejectMessage: string; errorCode?: string };

export interface SubnetInfo {
  subnetId: Uint8Array;
  publicKeyDer: Uint8Array;
  canisterRanges: Array<[Uint8Array, Uint8Array]>;
  nodes: Array<{ nodeId: Uint8Array; publicKeyDer: Uint8Array }>;
}

/** What /canister/<id>/… reveals (index.md#state-tree-certified-data, #state-tree-canister-information). */
export interface CanisterCertifiedInfo {
  certifiedData: Uint8Array;
  moduleHash?: Uint8Array;
  controllers: Uint8Array[];
  metadata: Array<{ name: string; isPublic: boolean; content: Uint8Array }>;
}

export function withTime(tree: StateTree, timeNs: bigint): StateTree {
  return setPath(tree, [L.time], stateLeaf(uleb128(timeNs)));
}

export function timeOf(tree: StateTree): bigint | undefined {
  const leaf = getPath(tree, [L.time]);
  if (leaf?.kind !== 'leaf') return undefined;
  let n = 0n;
  let shift = 0n;
  for (const b of leaf.value) {
    n |= BigInt(b & 0x7f) << shift;
    shift += 7n;
  }
  return n;
}

export function withSubnet(tree: StateTree, subnet: SubnetInfo): StateTree {
  const ranges = encodeCbor(subnet.canisterRanges.map(([lo, hi]) => [lo, hi]));
  let sub: StateSubtree = EMPTY_SUBTREE;
  sub = setPath(sub, [L.publicKey], stateLeaf(subnet.publicKeyDer));
  sub = setPath(sub, [L.type], stateLeaf(utf8('application')));
  sub = setPath(sub, [L.canisterRanges], stateLeaf(ranges));
  for (const n of subnet.nodes) sub = setPath(sub, [L.node, n.nodeId, L.publicKey], stateLeaf(n.publicKeyDer));
  let out = setPath(tree, [L.subnet, subnet.subnetId], sub);
  // The sharded form (index.md#state-tree-canister-ranges): one shard per range, keyed by its start.
  out = setPath(out, [L.canisterRanges, subnet.subnetId], undefined);
  for (const [lo, hi] of subnet.canisterRanges) {
    out = setPath(out, [L.canisterRanges, subnet.subnetId, lo], stateLeaf(encodeCbor([[lo, hi]])));
  }
  return out;
}

// Thousands of statuses are alive at once: share the leaves that are the same for all of them.
const STATUS_LEAVES = new Map((['received', 'processing', 'replied', 'rejected', 'done'] as const).map((s) => [s, stateLeaf(utf8(s))]));

export function withRequestStatus(tree: StateTree, requestId: Uint8Array, status: RequestStatus | undefined): StateTree {
  if (status === undefined) return setPath(tree, [L.requestStatus, requestId], undefined);
  let sub: StateSubtree = setPath(EMPTY_SUBTREE, [L.status], STATUS_LEAVES.get(status.status)!);
  if (status.status === 'replied') sub = setPath(sub, [L.reply], stateLeaf(status.reply));
  if (status.status === 'rejected') {
    sub = setPath(sub, [L.rejectCode], stateLeaf(uleb128(status.rejectCode)));
    sub = setPath(sub, [L.rejectMessage], stateLeaf(utf8(status.rejectMessage)));
    if (status.errorCode) sub = setPath(sub, [L.errorCode], stateLeaf(utf8(status.errorCode)));
  }
  return setPath(tree, [L.requestStatus, requestId], sub);
}

export function hasRequestStatus(tree: StateTree, requestId: Uint8Array): boolean {
  return getPath(tree, [L.requestStatus, requestId]) !== undefined;
}

export function withCanister(tree: StateTree, canisterId: Uint8Array, info: CanisterCertifiedInfo | undefined): StateTree {
  if (info === undefined) return setPath(tree, [L.canister, canisterId], undefined);
  let sub: StateSubtree = setPath(EMPTY_SUBTREE, [L.certifiedData], stateLeaf(info.certifiedData));
  if (info.moduleHash) sub = setPath(sub, [L.moduleHash], stateLeaf(info.moduleHash));
  sub = setPath(sub, [L.controllers], stateLeaf(encodeCbor(info.controllers)));
  for (const m of info.metadata) sub = setPath(sub, [L.metadata, utf8(m.name)], stateLeaf(m.content));
  return setPath(tree, [L.canister, canisterId], sub);
}

export function rootHash(tree: StateTree): Uint8Array {
  return digestOf(tree);
}

/** A pruned tree revealing the requested paths, and always /time (https-interface.md#http-read-state). */
export function stateWitness(tree: StateTree, paths: Uint8Array[][]): HashTree {
  return witness(tree, [[L.time], ...paths]);
}

export function lookupState(tree: StateTree, path: Uint8Array[]): StateNode | undefined {
  return getPath(tree, path);
}
