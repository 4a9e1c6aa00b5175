// An Azle canister for the metering tests: Azle's output (QuickJS compiled to Wasm plus this
// bundle) is the largest module the replica has to instrument.
import { IDL, performanceCounter, query, update } from 'azle';

export default class {
  count: bigint = 0n;

  // Pure integer work in JavaScript: a 32-bit xorshift generator iterated n times.
  @query([IDL.Nat32], IDL.Nat32)
  spin(n: number): number {
    let x = 2463534242;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
    }
    return x;
  }

  // The same loop, returning its result and the instructions counted so far (counter 0).
  @query([IDL.Nat32], IDL.Tuple(IDL.Nat32, IDL.Nat64))
  spinCounted(n: number): [number, bigint] {
    let x = 2463534242;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
    }
    return [x, performanceCounter(0)];
  }

  @update([], IDL.Nat64)
  increment(): bigint {
    this.count += 1n;
    return this.count;
  }
}
