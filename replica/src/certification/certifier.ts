// The certifier keeps the working state tree and the latest signed version. Changes bump a version
// number; whoever needs a certificate covering version v waits for a round that includes it. One
// round signs once for every change and waiter that arrived before it started, so 50 concurrent
// calls cost one BLS signature, not 50.

import { signState, type SignedState } from './certificate.ts';
import type { SubnetKeys } from './keys.ts';
import { withTime, type StateTree } from './state-tree.ts';

interface Waiter {
  version: number;
  resolve: (signed: SignedState) => void;
  reject: (error: unknown) => void;
}

export class Certifier {
  readonly keys: SubnetKeys;
  #tree: StateTree;
  #version = 0;
  #latest: SignedState | undefined;
  #waiters: Waiter[] = [];
  #scheduled = false;
  #clock: () => bigint;
  /** Called before each round so the owner can fold fresh state (canisters, time) into the tree. */
  beforeRound: (() => void) | undefined;

  constructor(keys: SubnetKeys, tree: StateTree, clock: () => bigint) {
    this.keys = keys;
    this.#tree = tree;
    this.#clock = clock;
  }

  get tree(): StateTree {
    return this.#tree;
  }
  get version(): number {
    return this.#version;
  }
  get latest(): SignedState | undefined {
    return this.#latest;
  }

  /** Applies a change to the working tree; returns the version that includes it. */
  update(change: (tree: StateTree) => StateTree): number {
    const next = change(this.#tree);
    if (next !== this.#tree) {
      this.#tree = next;
      this.#version++;
    }
    return this.#version;
  }

  /** A signed state that includes `version` (default: everything so far). */
  certified(version = this.#version): Promise<SignedState> {
    if (this.#latest && this.#latest.version >= version) return Promise.resolve(this.#latest);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ version, resolve, reject });
      this.#schedule();
    });
  }

  /** A signed state no older than `maxAgeNs` that includes every change made so far. */
  fresh(maxAgeNs: bigint): Promise<SignedState> {
    const latest = this.#latest;
    if (latest && latest.version >= this.#version && this.#clock() - latest.timeNs <= maxAgeNs) {
      return Promise.resolve(latest);
    }
    return new Promise((resolve, reject) => {
      // Bump the version so the round runs even when nothing changed (only time moved on).
      this.#waiters.push({ version: ++this.#version, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A macrotask, so requests that arrive in the same I/O turn join this round.
    setTimeout(() => this.#round(), 0);
  }

  #round(): void {
    this.#scheduled = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    try {
      this.beforeRound?.();
      const last = this.#latest?.timeNs ?? 0n;
      const now = this.#clock();
      const time = now > last ? now : last + 1n; // certified time never goes backwards
      this.#tree = withTime(this.#tree, time);
      this.#latest = signState(this.keys, this.#tree, this.#version);
      for (const w of waiters) w.resolve(this.#latest);
    } catch (error) {
      for (const w of waiters) w.reject(error);
    }
  }
}
