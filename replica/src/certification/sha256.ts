// SHA-256 for everything certification/ hashes. The implementation is chosen once, by the
// platform, never swapped at run time: node:crypto where the process is Node (reached through
// process.getBuiltinModule, which bundlers do not follow, so browser bundles stay portable),
// @noble/hashes everywhere else (browsers, Web Workers). Both give the same digests; node:crypto
// is a few times faster on the small inputs hash trees are made of.

import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

interface NodeHash {
  hash(algorithm: 'sha256', data: Uint8Array, encoding: 'buffer'): Uint8Array;
}

function platformSha256(): (data: Uint8Array) => Uint8Array {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const node = getBuiltin?.('node:crypto') as NodeHash | undefined;
  if (!node?.hash) return nobleSha256;
  return (data) => {
    const digest = node.hash('sha256', data, 'buffer');
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  };
}

const implementation = platformSha256();

export function sha256(data: Uint8Array): Uint8Array {
  return implementation(data);
}
