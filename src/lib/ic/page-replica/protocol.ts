// Messages between the page (client.ts) and the page replica's Web Worker (worker.ts).

export type ToWorker =
  /**
   * Start (or, after a failure, try again to start) the replica. `prepared`: the engine version
   * the site was built with and the prepared modules it emitted, by module cache key (absent in
   * dev, where nothing is cached).
   */
  | { type: 'start'; prepared?: PreparedFiles }
  /** One request of the IC's HTTP interface, as @dfinity/agent sent it through its `fetch`. */
  | { type: 'http'; id: number; method: string; path: string; contentType?: string; body: Uint8Array }
  /**
   * The modules (module cache keys) an install is about to load: fetch their prepared files (or
   * read them from IndexedDB) now, all at once, rather than one by one as each install asks.
   */
  | { type: 'prefetch'; keys: string[] }
  /** Empty the saved state and start over with a fresh replica (new root key, no canisters). */
  | { type: 'reset' };

export interface PreparedFiles {
  engine: string;
  files: Record<string, { url: string; sha256: string }>;
}

/** Why the worker cannot serve: the saved state is unreadable (a reset helps) or storage failed. */
export type WorkerFailureKind = 'state-incompatible' | 'storage' | 'internal';

export type FromWorker =
  /** Another tab of this site runs the page replica; this one waits for it to close. */
  | { type: 'waiting-for-lock' }
  | { type: 'ready'; restoredCanisters: number; rootKey: string }
  | { type: 'failed'; kind: WorkerFailureKind; message: string }
  /** ms: how long the worker took to answer (engine and HTTP interface, no transport). */
  | { type: 'http'; id: number; status: number; contentType?: string; body?: Uint8Array | string; ms: number };

/** Between the replica's worker and its signer (signer-worker.ts): the subnet's keys once, then one root hash per certificate. */
export type ToSigner = { type: 'keys'; rootSecretKey: Uint8Array; nodeSecretKey: Uint8Array } | { type: 'sign'; id: number; rootHash: Uint8Array };
export type FromSigner = { id: number; signature: Uint8Array } | { id: number; error: string };

/** The Web Lock held by the tab whose worker owns the saved state (one owner across tabs). */
export const OWNER_LOCK = 'wg-page-replica-owner';
/** The IndexedDB database and object store holding the page replica's state. */
export const DATABASE = 'wg-page-replica';
export const STORE = 'state';
/**
 * Beside it, canister modules after the replica's passes (metering, dirty pages), keyed by engine
 * version and module hash: content-addressed, so a reset keeps them.
 */
export const PREPARED_STORE = 'prepared-modules';
