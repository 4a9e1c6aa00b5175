// Certificates (certification.md#certification, certificates.cddl): a pruned state tree and the
// subnet's BLS signature over its root hash. Signing costs ~11 ms, so one signature covers a batch.

import { encodeCbor } from './cbor.ts';
import { signStateRoot, type SubnetKeys } from './keys.ts';
import { rootHash, stateWitness, timeOf, type StateTree } from './state-tree.ts';

export interface SignedState {
  readonly tree: StateTree;
  readonly rootHash: Uint8Array;
  readonly signature: Uint8Array;
  readonly timeNs: bigint;
  /** The certifier's version number this state includes (every change up to it). */
  readonly version: number;
}

export function signState(keys: SubnetKeys, tree: StateTree, version: number): SignedState {
  const hash = rootHash(tree);
  return { tree, rootHash: hash, signature: signStateRoot(keys, hash), timeNs: timeOf(tree) ?? 0n, version };
}

/** The CBOR certificate `{tree, signature}` revealing `paths` (and /time) of a signed state. */
export function certificateFor(signed: SignedState, paths: Uint8Array[][]): Uint8Array {
  return encodeCbor({ tree: stateWitness(signed.tree, paths), signature: signed.signature });
}
