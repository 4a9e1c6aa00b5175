// The page backend's Web Worker: the replica engine and the IC's HTTP interface (CBOR, sender
// authentication, certificates signed with the subnet's BLS key) in the reader's tab, with the
// state kept in IndexedDB. The page's agents reach it through their `fetch` (client.ts): the same
// requests and certificate checks as against npm start's replica or mainnet.
//
// One owner across tabs: the worker holds the Web Lock OWNER_LOCK for as long as it runs. A second
// tab's worker waits for the lock (and says so) instead of opening the same state beside it.
import { decodePreparedModule, usePreparedModuleStore, type PreparedModule, type PreparedModuleStore } from '@scaling-wg/replica';
import { signStateRoot, type StateRootSigner, type SubnetKeys } from '@scaling-wg/replica/certification';
import { toHex } from '@scaling-wg/replica/ic';
import { StateFormatError } from '@scaling-wg/replica/store';
import { startPageEngine, type PageEngine } from './engine.ts';
import { openIdbStore, type IdbStore } from './idb-store.ts';
import { OWNER_LOCK, type FromSigner, type FromWorker, type PreparedFiles, type ToSigner, type ToWorker } from './protocol.ts';

// The engine yields to the event loop between steps of a call, with setImmediate where there is
// one. A worker has none, and its nested setTimeout(0) is clamped to 4 ms, several times per
// update: give it an unclamped one over a MessageChannel.
const immediate = globalThis as { setImmediate?: (callback: () => void) => void };
if (typeof immediate.setImmediate !== 'function') {
  const channel = new MessageChannel();
  const queue: Array<() => void> = [];
  channel.port1.onmessage = () => queue.shift()?.();
  immediate.setImmediate = (callback) => {
    queue.push(callback);
    channel.port2.postMessage(0);
  };
}

const post = (message: FromWorker) => (self as unknown as Worker).postMessage(message);

/**
 * State roots are signed in a second worker (signer-worker.ts), beside the state's capture and
 * write in this one. Where it cannot start, or once it fails, this worker signs itself (same
 * bytes, one thread).
 */
function signerWorker(keys: SubnetKeys): { sign: StateRootSigner; close(): void } {
  const pending = new Map<number, { rootHash: Uint8Array; resolve: (signature: Uint8Array) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let signer: Worker | undefined;
  const inThread = (rootHash: Uint8Array) => signStateRoot(keys, rootHash);
  const giveUp = (why: string) => {
    if (signer && why !== 'the replica stopped') console.warn(`page replica: signing certificates in the replica's worker (${why})`);
    signer?.terminate();
    signer = undefined;
    for (const { rootHash, resolve, reject } of pending.values()) {
      try {
        resolve(inThread(rootHash));
      } catch (error) {
        reject(error as Error);
      }
    }
    pending.clear();
  };
  try {
    signer = new Worker(new URL('./signer-worker.ts', import.meta.url), { type: 'module', name: 'page replica signer' });
    signer.addEventListener('message', (event: MessageEvent<FromSigner>) => {
      const answer = event.data;
      const entry = pending.get(answer.id);
      pending.delete(answer.id);
      if ('error' in answer) entry?.reject(new Error(`the certificate signer failed: ${answer.error}`));
      else entry?.resolve(answer.signature);
    });
    signer.addEventListener('error', (event) => giveUp(event.message || 'its script did not load'));
    const init: ToSigner = { type: 'keys', rootSecretKey: keys.rootSecretKey, nodeSecretKey: keys.nodeSecretKey };
    signer.postMessage(init);
  } catch (error) {
    giveUp((error as Error).message);
  }
  return {
    sign: (rootHash) => {
      if (!signer) return inThread(rootHash);
      const worker = signer;
      return new Promise<Uint8Array>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { rootHash, resolve, reject });
        const request: ToSigner = { type: 'sign', id, rootHash };
        worker.postMessage(request);
      });
    },
    // The replica stopped (a reset): certificates still being signed are signed here.
    close: () => giveUp('the replica stopped'),
  };
}

let store: IdbStore | undefined;
let running: Promise<PageEngine> | undefined;
/** Requests that arrive while the replica starts (or restarts after a reset) wait for it. */
let generation = 0;
/** Whether this worker holds OWNER_LOCK. */
let owner = false;
let requested = false;
let pendingReset = false;

/** What the site build emitted for this engine (the first start message says; absent in dev). */
let preparedFiles: PreparedFiles | undefined;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource)));
}

/** A prepared module the site build emitted, checked against its hash and key; undefined if none. */
async function fetchPrepared(files: PreparedFiles, key: string): Promise<PreparedModule | undefined> {
  const entry = files.files[key];
  if (!entry) return undefined;
  const response = await fetch(entry.url);
  if (!response.ok) throw new Error(`${entry.url}: HTTP ${response.status}`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  // Served as stored (gzip); a server that decoded it on the way (Content-Encoding) hands over the file.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b)
    bytes = new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  if ((await sha256Hex(bytes)) !== entry.sha256) throw new Error(`${entry.url} is not the file this site was built with`);
  return decodePreparedModule(bytes, `${files.engine} ${key}`);
}

/**
 * Prepared modules (metering, dirty pages) of this engine version: from IndexedDB, else the ones
 * the site build emitted (kept in IndexedDB then), else the engine prepares the module itself. A
 * file that fails to load or does not match costs only that time: the engine prepares instead.
 * `prefetch` starts a lookup early; the engine's `get` then takes its result.
 */
function preparedStore(idb: PreparedModuleStore, files: PreparedFiles): PreparedModuleStore & { prefetch(key: string): void } {
  const started = new Map<string, Promise<PreparedModule | undefined>>();
  const lookup = async (key: string) => {
    const stored = await idb.get(key).catch(() => undefined);
    if (stored) return stored;
    const built = await fetchPrepared(files, key).catch((error: unknown) => {
      console.warn(`page replica: the prepared module for ${key} is not usable, preparing it here: ${(error as Error).message}`);
      return undefined;
    });
    if (built) void idb.put(key, built).catch(() => {});
    return built;
  };
  return {
    prefetch: (key) => {
      if (!started.has(key)) started.set(key, lookup(key));
    },
    get: (key) => {
      const pending = started.get(key) ?? lookup(key);
      started.delete(key);
      return pending;
    },
    put: (key, module) => idb.put(key, module),
  };
}

let prepared: ReturnType<typeof preparedStore> | undefined;

async function boot(): Promise<PageEngine> {
  if (!store) {
    store = await openIdbStore();
    // Modules are prepared (metering, dirty pages) by the site build, or once per engine version
    // in this browser, not on every visit.
    if (preparedFiles) {
      prepared = preparedStore(store.preparedModules(preparedFiles.engine), preparedFiles);
      usePreparedModuleStore(prepared);
    }
  }
  const engine = await startPageEngine(store, {}, { concurrentSigner: typeof Worker === 'function' ? signerWorker : undefined });
  post({ type: 'ready', restoredCanisters: engine.restoredCanisters, rootKey: toHex(engine.keys.rootKeyDer) });
  return engine;
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const kind = error instanceof StateFormatError ? 'state-incompatible' : error instanceof DOMException ? 'storage' : 'internal';
  post({ type: 'failed', kind, message });
}

function start(): void {
  const mine = ++generation;
  running = boot();
  running.catch((error: unknown) => {
    if (mine === generation) fail(error);
  });
}

/** Once the lock is ours: a reset asked for while waiting runs first. */
function begin(): void {
  if (pendingReset) void reset().catch(fail);
  else start();
}

function withLock(): void {
  const locks = (self as unknown as { navigator: Navigator }).navigator.locks;
  // The lock is held while the callback's promise is pending: until the worker ends (tab closed,
  // reloaded, or the worker terminated after a crash).
  const forever = new Promise<void>(() => {});
  void locks.request(OWNER_LOCK, { ifAvailable: true }, (lock) => {
    if (lock) {
      owner = true;
      begin();
      return forever;
    }
    post({ type: 'waiting-for-lock' });
    void locks.request(OWNER_LOCK, () => {
      owner = true;
      begin();
      return forever;
    });
    return undefined;
  });
}

async function reset(): Promise<void> {
  // Only the owner touches the saved state; a waiting tab resets once it owns it.
  if (!owner) {
    pendingReset = true;
    return;
  }
  pendingReset = false;
  const previous = running;
  generation++;
  running = undefined;
  try {
    await (await previous)?.stop();
  } catch {
    // a replica that never started (unreadable state) has nothing to stop
  }
  store ??= await openIdbStore();
  await store.clear();
  start();
}

async function handle(message: Extract<ToWorker, { type: 'http' }>): Promise<void> {
  let response;
  let started = performance.now();
  try {
    if (!running) throw new Error('the page replica has not started');
    const { api, replica } = await running;
    started = performance.now();
    // Beside the IC's interface, the replica's own /_/metrics, as npm run replica serves it.
    if (message.path.split('?')[0] === '/_/metrics' && message.method === 'GET') {
      response = { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: replica.metrics().replace(/\n?$/, '\n') };
    } else response = await api.handle(message.method, message.path, message.contentType, message.body);
  } catch (error) {
    response = { status: 503, contentType: 'text/plain; charset=utf-8', body: `the page replica is not running: ${(error as Error).message}` };
  }
  post({ type: 'http', id: message.id, status: response.status, contentType: response.contentType, body: response.body, ms: performance.now() - started });
}

self.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === 'start') {
    preparedFiles ??= message.prepared;
    if (owner) start();
    else if (!requested) {
      requested = true;
      withLock();
    }
  } else if (message.type === 'reset') void reset().catch(fail);
  else if (message.type === 'http') void handle(message);
  else if (message.type === 'prefetch') for (const key of message.keys) prepared?.prefetch(key);
});
