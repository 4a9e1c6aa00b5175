// SHA-256 for everything certification/ hashes. Portable by default (@noble/hashes); the Node
// server swaps in node:crypto (same digests, a few times faster on small inputs).

import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

let implementation: (data: Uint8Array) => Uint8Array = nobleSha256;

export function sha256(data: Uint8Array): Uint8Array {
  return implementation(data);
}

export function useSha256(fn: (data: Uint8Array) => Uint8Array): void {
  implementation = fn;
}
