// Canister ids (interface spec, "Principals"): an opaque id of 8 big-endian bytes of a
// canister index followed by 0x01 0x01. The local subnet owns indices 0 .. 2^20 - 1, and ids
// are handed out from index 1 (rrkah-fqaaa-aaaaa-aaaaq-cai), as on a local dfx network.
import { Principal } from '@dfinity/principal';

export const CANISTER_RANGE_START = 0n;
export const CANISTER_RANGE_END = 2n ** 20n - 1n;
export const FIRST_CANISTER_INDEX = 1n;

export function canisterIdFromIndex(index: bigint): Principal {
  const bytes = new Uint8Array(10);
  new DataView(bytes.buffer).setBigUint64(0, index);
  bytes[8] = 1;
  bytes[9] = 1;
  return Principal.fromUint8Array(bytes);
}

/** The canister index of an id in our range, or undefined for any other principal. */
export function canisterIndexOf(id: Principal): bigint | undefined {
  const bytes = id.toUint8Array();
  if (bytes.length !== 10 || bytes[8] !== 1 || bytes[9] !== 1) return undefined;
  const index = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0);
  return index >= CANISTER_RANGE_START && index <= CANISTER_RANGE_END ? index : undefined;
}

/** [lowest, highest] canister id of the local subnet (read_state canister_ranges). */
export const canisterRange = (): [Principal, Principal] => [canisterIdFromIndex(CANISTER_RANGE_START), canisterIdFromIndex(CANISTER_RANGE_END)];
