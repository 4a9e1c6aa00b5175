// The page side of the page backend: starts the replica's Web Worker on first use (never on pages
// without a demo, and on demo pages only once a demo asks for it), and gives agents a `fetch` that
// carries the IC's HTTP interface to the worker instead of the network.
import { blsVerify } from '@dfinity/agent';
import { fromHex } from '@scaling-wg/replica/ic';
import type { FromWorker, PreparedFiles, ToWorker, WorkerFailureKind } from './protocol.ts';

export type PageReplicaPhase =
  | { phase: 'idle' }
  | { phase: 'starting' }
  | { phase: 'waiting-for-lock' }
  /** rootKey: hex of the page replica's root key, new after every reset. */
  | { phase: 'ready'; restoredCanisters: number; rootKey: string }
  | { phase: 'failed'; kind: WorkerFailureKind | 'crashed'; message: string };

/** The page replica cannot serve: its saved state is unreadable, storage failed, or the worker crashed. */
export class PageReplicaError extends Error {
  readonly kind: WorkerFailureKind | 'crashed';
  constructor(kind: WorkerFailureKind | 'crashed', message: string) {
    super(message);
    this.name = 'PageReplicaError';
    this.kind = kind;
  }
}

/**
 * A BLS signature of a state root (the all-zero root, signed by a throwaway subnet key made with
 * the replica's own signer), as a certificate carries one: see warmCertificateChecks.
 */
const SAMPLE_SIGNATURE = {
  key: '8ffeafdcfe075127914d8f10d6ae4647646075d46d71ca14925143fc817e6653688eb39430aaa6cfee092f0eeef083c619c9f0a2233a96a2a5561621e4f3f00ba128dc2997f295d6cd02437fd76ff3c2a4963897b58988a7a1dbddcd47527dfa',
  signature: 'a66b2dae9aa51e6f2fc367897369b83efeb2ebd596a15d2e9c2f7a65e4a405541f64b68000d51d7b04555c4006f9a6fa',
  message: '0d69632d73746174652d726f6f740000000000000000000000000000000000000000000000000000000000000000',
};

let warmed = false;

/**
 * The agent checks every certificate's BLS signature on this thread, and its first check in a
 * page costs about ten times a later one (its curve arithmetic is compiled and its tables built on
 * first use: 0.5 s against 50 ms, measured in Node and Chromium here). It runs once, while the
 * worker starts, instead of on the first demo call's critical path; the agent's own checks of
 * the page replica's certificates are unchanged. Chromium starts the worker (and grants its Web
 * Lock) through this thread, so the check holds the worker's start up by its own length; starting
 * it only once the worker had its lock and database was tried, and was slower on warm visits
 * (three demos, five reloads each, two rounds: medians 7-37% worse, on a loaded machine).
 */
function warmCertificateChecks(): void {
  if (warmed) return;
  warmed = true;
  setTimeout(() => {
    void Promise.resolve()
      .then(() => blsVerify(fromHex(SAMPLE_SIGNATURE.key), fromHex(SAMPLE_SIGNATURE.signature), fromHex(SAMPLE_SIGNATURE.message)))
      .then((valid) => {
        if (!valid) console.warn('page replica: the sample BLS signature did not verify');
      })
      .catch(() => {});
  }, 0);
}

/** Only the host of this URL is used by agents: requests never leave the tab. */
export const PAGE_REPLICA_HOST = typeof location === 'undefined' ? 'http://page-replica.invalid' : location.origin;

type Reply = Extract<FromWorker, { type: 'http' }>;

class PageReplicaClient {
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #prepared: PreparedFiles | undefined;
  #settle: { resolve(): void; reject(error: Error): void } | undefined;
  #pending = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void }>();
  #nextId = 0;
  #listeners = new Set<(phase: PageReplicaPhase) => void>();
  state: PageReplicaPhase = { phase: 'idle' };
  /** The worker's own time for the last requests (ms, newest last, at most 1000): `npm run bench -- page` reads it. */
  readonly handledMs: Array<{ path: string; ms: number }> = [];

  /** Called on every change of phase (starting, waiting for another tab, ready, failed). */
  subscribe(listener: (phase: PageReplicaPhase) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(state: PageReplicaPhase): void {
    this.state = state;
    for (const listener of this.#listeners) listener(state);
  }

  /**
   * Resolves once the replica serves; starts the worker if needed (again, after a failure).
   * `prepared`: the prepared modules the site build emitted (install.ts preparedFiles).
   */
  start(prepared?: PreparedFiles): Promise<void> {
    this.#prepared ??= prepared;
    if (this.#ready && this.state.phase !== 'failed') return this.#ready;
    if (this.state.phase === 'failed' && this.state.kind === 'crashed') this.#worker = undefined;
    this.#ready = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#ready.catch(() => {});
    this.#set({ phase: 'starting' });
    if (this.#worker) this.#send({ type: 'start', prepared: this.#prepared });
    else this.#spawn();
    return this.#ready;
  }

  /** Starts loading the prepared modules under these module cache keys (see protocol.ts). */
  prefetch(keys: string[]): void {
    if (this.#worker && keys.length > 0) this.#send({ type: 'prefetch', keys });
  }

  #spawn(): void {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'page replica' });
    this.#worker = worker;
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => this.#receive(event.data));
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.#crash(event.message || 'the worker stopped with an uncaught error');
    });
    worker.addEventListener('messageerror', () => this.#crash('a message from the worker could not be read'));
    this.#send({ type: 'start', prepared: this.#prepared });
    warmCertificateChecks();
  }

  #crash(message: string): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    const error = new PageReplicaError('crashed', `The replica in this page stopped (${message}).`);
    for (const entry of this.#pending.values()) entry.reject(error);
    this.#pending.clear();
    this.#settle?.reject(error);
    this.#set({ phase: 'failed', kind: 'crashed', message: error.message });
  }

  #send(message: ToWorker): void {
    this.#worker!.postMessage(message);
  }

  #receive(message: FromWorker): void {
    switch (message.type) {
      case 'waiting-for-lock':
        this.#set({ phase: 'waiting-for-lock' });
        break;
      case 'ready':
        this.#set({ phase: 'ready', restoredCanisters: message.restoredCanisters, rootKey: message.rootKey });
        this.#settle?.resolve();
        break;
      case 'failed': {
        const error = new PageReplicaError(message.kind, message.message);
        this.#set({ phase: 'failed', kind: message.kind, message: message.message });
        this.#settle?.reject(error);
        break;
      }
      case 'http': {
        const entry = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        entry?.resolve(message);
        break;
      }
    }
  }

  /** Empties the saved state (canisters, records, root key) and starts a fresh replica. */
  reset(): Promise<void> {
    this.#ready = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#ready.catch(() => {});
    this.#set({ phase: 'starting' });
    if (this.#worker) this.#send({ type: 'reset' });
    else {
      this.#spawn();
      this.#send({ type: 'reset' });
    }
    return this.#ready;
  }

  /** A fetch for @dfinity/agent's `fetch` option: each request goes to the worker's HTTP interface. */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    await this.start();
    const body = new Uint8Array(await request.arrayBuffer());
    const reply = await new Promise<Reply>((resolve, reject) => {
      const id = ++this.#nextId;
      this.#pending.set(id, { resolve, reject });
      this.#send({
        type: 'http',
        id,
        method: request.method,
        path: url.pathname + url.search,
        contentType: request.headers.get('content-type') ?? undefined,
        body,
      });
    });
    this.handledMs.push({ path: url.pathname, ms: reply.ms });
    if (this.handledMs.length > 1000) this.handledMs.shift();
    const headers: Record<string, string> = reply.contentType ? { 'content-type': reply.contentType } : {};
    const noBody = reply.status === 204 || reply.status === 304 || reply.body === undefined;
    return new Response(noBody ? null : (reply.body as BodyInit), { status: reply.status, headers });
  };
}

/** One page replica per tab, shared by every demo on the page. */
export const pageReplica = new PageReplicaClient();
