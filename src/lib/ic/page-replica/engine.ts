// The page replica's engine, without the worker around it: the replica, the IC's HTTP interface
// and the saved state over any ReplicaStore (IndexedDB in the worker, a Map in the tests). Portable:
// no DOM, no Node API, so vitest runs exactly what the worker runs.
import { Replica, type ReplicaOptions } from '@scaling-wg/replica';
import { subnetKeys, type StateRootSigner, type SubnetKeys } from '@scaling-wg/replica/certification';
import { schedulerEngine, HttpInterface } from '@scaling-wg/replica/http';
import { KvState, type ReplicaStore } from '@scaling-wg/replica/store';

/** How often rounds that no certificate followed are saved (npm run replica flushes every second too). */
export const FLUSH_INTERVAL_MS = 1000;

export interface PageEngine {
  replica: Replica;
  api: HttpInterface;
  state: KvState;
  keys: SubnetKeys;
  /** Canisters read back from the store (0 on a first visit or after a reset). */
  restoredCanisters: number;
  /** Saves what changed now, unless nothing did; resolves once it is stored. */
  commit(): Promise<void>;
  /** Stops the flush timer and the replica (what is saved stays saved). */
  stop(): Promise<void>;
}

/**
 * The saved state, read in one request that starts before the subnet keys are derived (tens of
 * ms of this thread, which the read overlaps), for the restore to read from instead of a request
 * per record, canister memory and module. Reads after release(), or once anything was written,
 * go to the store itself.
 */
class PreloadedStore implements ReplicaStore {
  readonly #inner: ReplicaStore;
  #loaded: Promise<Map<string, Uint8Array> | undefined> | undefined;
  constructor(inner: ReplicaStore) {
    this.#inner = inner;
    // A failed read costs only the time: the store answers each read itself then.
    this.#loaded = inner.entries('').then(
      (entries) => new Map(entries),
      () => undefined,
    );
  }
  release(): void {
    this.#loaded = undefined;
  }
  async #snapshot(): Promise<Map<string, Uint8Array> | undefined> {
    return this.#loaded && (await this.#loaded);
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    const loaded = await this.#snapshot();
    return loaded ? loaded.get(key) : this.#inner.get(key);
  }
  async keys(prefix: string): Promise<string[]> {
    const loaded = await this.#snapshot();
    return loaded ? [...loaded.keys()].filter((k) => k.startsWith(prefix)).sort() : this.#inner.keys(prefix);
  }
  async entries(prefix: string): Promise<Array<[string, Uint8Array]>> {
    const loaded = await this.#snapshot();
    if (!loaded) return this.#inner.entries(prefix);
    return [...loaded].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  writeBatch(entries: Map<string, Uint8Array | undefined>): Promise<void> {
    this.release();
    return this.#inner.writeBatch(entries);
  }
  close(): Promise<void> {
    this.release();
    return this.#inner.close();
  }
}

function readSecrets(store: ReplicaStore): Promise<[Uint8Array | undefined, Uint8Array | undefined]> {
  return Promise.all([store.get('subnet/root-secret'), store.get('subnet/node-secret')]);
}

async function loadKeys(store: ReplicaStore, secrets: ReturnType<typeof readSecrets>): Promise<SubnetKeys> {
  const [root, node] = await secrets;
  if (root && node) return subnetKeys(root, node);
  const keys = subnetKeys();
  await store.writeBatch(
    new Map([
      ['subnet/root-secret', keys.rootSecretKey],
      ['subnet/node-secret', keys.nodeSecretKey],
    ]),
  );
  return keys;
}

/**
 * Starts the replica on the state in `store` (throws StateFormatError when it is unreadable).
 * `replicaOptions` are for tests (limits, time); the page uses the defaults.
 */
export async function startPageEngine(
  store: ReplicaStore,
  replicaOptions: Omit<ReplicaOptions, 'subnetId'> = {},
  options: {
    /**
     * Signs state roots on another thread (the worker passes signer-worker.ts's): each
     * certificate's signature is then computed while its state is captured and written.
     * Default: in this thread, after the state's write has started.
     */
    concurrentSigner?: (keys: SubnetKeys) => { sign: StateRootSigner; close(): void };
  } = {},
): Promise<PageEngine> {
  // The two secrets first (the database answers requests in order), then the rest of the state.
  const secrets = readSecrets(store);
  const preloaded = new PreloadedStore(store);
  const keys = await loadKeys(store, secrets);
  const signer = options.concurrentSigner?.(keys);
  const replica = await Replica.create({ log: 'quiet', ...replicaOptions, subnetId: keys.subnetId });
  const state = new KvState(preloaded);
  let restored;
  try {
    restored = await state.restore(replica.scheduler, replica.management);
  } catch (error) {
    signer?.close();
    await replica.tearDown();
    throw error;
  } finally {
    preloaded.release();
  }
  // Only calls and rounds (timers, heartbeats, inter-canister messages, time-sliced executions)
  // change state; queries never persist. A commit is skipped only when none of them happened since
  // the last one (no call accepted or finished, no round) and nothing periodic is due, as
  // npm run replica does.
  let dirty = true;
  let committedSinceFlush = false;
  let committedRound = -1;
  let committedCalls = -1;
  const commit = (): Promise<void> => {
    const calls = api.registry.size;
    // Nothing new: durable once the commits already taken (e.g. by the flush timer) are.
    if (!dirty && replica.scheduler.round === committedRound && calls === committedCalls && !replica.scheduler.hasPeriodicWork()) return state.written();
    dirty = false;
    committedSinceFlush = true;
    committedRound = replica.scheduler.round;
    committedCalls = calls;
    // Captured now (synchronously), written in the background; a failed write makes the next commit write all.
    return state.commit(replica.scheduler, replica.management, api.registry).then(
      () => undefined,
      (error: unknown) => {
        dirty = true;
        throw error;
      },
    );
  };
  const api: HttpInterface = new HttpInterface({
    engine: schedulerEngine(replica.scheduler),
    keys,
    // Before a certificate reveals an outcome (or a call as processing), the state that produced
    // it, with the scheduler's state and the calls in flight, is in the store.
    beforeCertify: commit,
    signStateRoot: signer?.sign,
    concurrentSigner: signer !== undefined,
    onCall: (entry) => {
      if (entry.kind === 'call') dirty = true;
    },
  });
  // Completed calls keep their replies for the store from the start (a replay after a reload reads them).
  api.registry.keepForDisk();
  api.restoreCompletedCalls(restored.completedCalls);
  // Calls in flight at the last commit read as processing again; the scheduler's state from the
  // same commit (their queues, call contexts and callbacks) then continues them where they were.
  api.restoreInflightCalls(restored.inflightCalls);
  if (restored.schedulerState) replica.scheduler.restore(restored.schedulerState);
  // What was just restored is what the store holds: the first certificate after a reload does not
  // commit (a commit compares every page of every heap, tens of MB on a demo page) until a call,
  // a round or periodic work changes something. scheduler.restore() sets the round counter and
  // runs no round before the next turn of the event loop, so a round it runs is still seen.
  dirty = false;
  committedRound = replica.scheduler.round;
  committedCalls = api.registry.size;
  // Rounds that no certificate follows (a timer, a heartbeat, a downstream call finishing after
  // its ingress call was answered) are saved within a second, like npm run replica's flush timer.
  // A second with no commit at all folds the store's journal into its keys (KvState.compact),
  // off the path of any call.
  const flushTimer = setInterval(() => {
    const idle = !committedSinceFlush;
    committedSinceFlush = false;
    void commit()
      .then(() => (idle && !committedSinceFlush ? state.compact() : undefined))
      .catch(() => {});
  }, FLUSH_INTERVAL_MS);
  return {
    replica,
    api,
    state,
    keys,
    restoredCanisters: restored.canisters,
    commit,
    async stop() {
      clearInterval(flushTimer);
      signer?.close();
      await replica.tearDown();
    },
  };
}
