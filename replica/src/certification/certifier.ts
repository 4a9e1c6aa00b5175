// The certifier keeps the working state tree and the latest signed version. Changes bump a version
// number; whoever needs a certificate covering version v waits for a round that includes it. One
// round signs once for every change and waiter that arrived before it started, so 50 concurrent
// calls cost one BLS signature, not 50.

import type { SignedState } from './certificate.ts';
import { signStateRoot, type SubnetKeys } from './keys.ts';
import { rootHash, withTime, type StateTree } from './state-tree.ts';

/** Signs a state root hash; async so a worker thread (or Web Worker) can do the ~11 ms of BLS. */
export type StateRootSigner = (rootHash: Uint8Array) => Promise<Uint8Array> | Uint8Array;

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
  #signing = false;
  #clock: () => bigint;
  #signer: StateRootSigner;
  /**
   * Called at the start of each round, synchronously, so the owner can fold fresh state
   * (canisters) into the tree. A returned promise is awaited, alongside the signature, before the
   * signed state is handed to anyone.
   */
  beforeRound: (() => void | Promise<void>) | undefined;
  /**
   * Makes the state the round certifies durable (e.g. writes it to the disk or IndexedDB); the
   * promise it returns is awaited alongside the signature, before the signed state is handed to
   * anyone. Called in the same synchronous step as beforeRound and the root hash, so both
   * describe the same moment: before beforeRound with an in-thread signer (whose signing then
   * runs while the write is under way), right after the hash is handed to the signer when
   * `concurrentSigner` says it signs on another thread (the state is then captured meanwhile).
   */
  persist: (() => void | Promise<void>) | undefined;
  /** The signer works on another thread: it is handed the root hash before `persist` runs. */
  readonly concurrentSigner: boolean;

  constructor(keys: SubnetKeys, tree: StateTree, clock: () => bigint, signer?: StateRootSigner, options: { concurrentSigner?: boolean } = {}) {
    this.keys = keys;
    this.#tree = tree;
    this.#clock = clock;
    this.#signer = signer ?? ((hash) => signStateRoot(keys, hash));
    this.concurrentSigner = signer !== undefined && options.concurrentSigner === true;
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

  /** A new signed state, whatever the latest is (e.g. the engine changed state the tree reveals). */
  refresh(): Promise<SignedState> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ version: ++this.#version, resolve, reject });
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
    // One signature in flight at a time; whoever arrives meanwhile joins the next round.
    if (this.#scheduled || this.#signing) return;
    this.#scheduled = true;
    // A macrotask, so requests that arrive in the same I/O turn join this round.
    setTimeout(() => void this.#round(), 0);
  }

  async #round(): Promise<void> {
    this.#scheduled = false;
    this.#signing = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    try {
      // Everything up to the awaits is synchronous: the tree and what persist made durable
      // describe the same moment, whatever executes while we wait.
      const persistedFirst = this.concurrentSigner ? undefined : this.persist?.();
      const refreshed = this.beforeRound?.();
      const last = this.#latest?.timeNs ?? 0n;
      const now = this.#clock();
      const time = now > last ? now : last + 1n; // certified time never goes backwards
      this.#tree = withTime(this.#tree, time);
      const tree = this.#tree;
      const version = this.#version;
      const hash = rootHash(tree);
      const signing = Promise.resolve(this.#signer(hash));
      let durable = persistedFirst;
      if (this.concurrentSigner) {
        try {
          durable = this.persist?.();
        } catch (error) {
          signing.catch(() => {}); // this round fails with the persist error
          throw error;
        }
      }
      const [signature] = await Promise.all([signing, durable, refreshed]);
      const signed: SignedState = { tree, rootHash: hash, signature, timeNs: time, version };
      if (!this.#latest || this.#latest.version <= version) this.#latest = signed;
      for (const w of waiters) w.resolve(signed);
      // Those who arrived while we signed and need nothing newer are served by this signature.
      const stillWaiting: Waiter[] = [];
      for (const w of this.#waiters) w.version <= version ? w.resolve(signed) : stillWaiting.push(w);
      this.#waiters = stillWaiting;
    } catch (error) {
      for (const w of waiters) w.reject(error);
    } finally {
      this.#signing = false;
      if (this.#waiters.length > 0) this.#schedule();
    }
  }
}
