// The package's `@scaling-wg/replica/certification` entry: the subnet's keys and what clients and
// benchmarks check certificates with (CBOR, hash trees, request ids). Portable: no Node module.
export { subnetKeys, randomSecret, signStateRoot, verifyStateRoot, type SubnetKeys } from './keys.ts';
export type { StateRootSigner } from './certifier.ts';
export { encodeCbor, decodeCbor, CborDecodeError, type CborValue, type CborMap } from './cbor.ts';
export { lookupPath, reconstruct, type HashTree, type LookupResult } from './hash-tree.ts';
export { requestIdOf, domainSeparator } from './representation-independent-hash.ts';
