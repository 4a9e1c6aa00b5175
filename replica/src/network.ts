// One local network in this process: the replica, its disk store, the IC's HTTP interface, the
// HTTP gateway and the BLS signer, wired one way for everyone who starts one (`npm run replica`,
// `npm start` and `npm run deploy` through it, the tests that need HTTP). It owns what the parts
// only make sense together for: flushing the state before each certificate and on a timer,
// restoring calls in flight, and the order of shutdown. Node only (node:http, node:fs, worker
// threads); the browser's page worker composes the engine and the HTTP interface itself.
//
// Nothing here touches the process: no signal handlers, no exit, no global swap. Whoever starts a
// network decides what a signal or a lost disk means (the CLI exits; a test fails).

import { Replica, type LogLevel, type MeteringMode, type Pacing } from './index.ts';
import type { Limits } from './limits.ts';
import type { SubnetKeys } from './certification/keys.ts';
import { schedulerEngine } from './http/engine-adapter.ts';
import { HttpInterface } from './http/interface.ts';
import type { HttpCrypto } from './http/crypto.ts';
import { nodeCrypto } from './http/node-crypto.ts';
import { startBlsWorker, type WorkerSigner } from './http/bls-worker.ts';
import { startServer } from './http/server.ts';
import { startLoopMonitor } from './http/loop-monitor.ts';
import { gatewayFallback } from './gateway/index.ts';
import { loadOrCreateKeys } from './store/disk-keys.ts';
import { DiskStore, StoreWriteError, type StoreFatalError } from './store/disk-store.ts';
import { withRootSubnetId, Topology, type SubnetSpec } from './topology/topology.ts';
import { topologyEngine } from './topology/engine.ts';
import { CANISTER_RANGE_END, CANISTER_RANGE_START, FIRST_CANISTER_INDEX } from './management/canister-ids.ts';
import { handleUnderscore } from './pocket-ic/underscore.ts';

/**
 * How often timers, heartbeats and inter-canister rounds are written to disk when no certificate
 * asks for it. Our choice (the IC checkpoints every few hundred rounds and replays blocks; this
 * replica has no blocks to replay, so it writes the changed pages at most a second late).
 */
export const FLUSH_INTERVAL_MS = 1000;

export interface LocalNetworkOptions {
  /** Keep the keys and canisters there across restarts (locked while the network runs). Default: memory only. */
  stateDir?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4943, dfx's local port; 0 picks a free one (read it from `port`). */
  port?: number;
  /** Default 'normal': the replica's message log, gateway requests and refused requests on stdout. */
  log?: LogLevel;
  /** Lower the IC's limits; `maxIngressBytes` also caps HTTP request bodies. */
  limits?: Partial<Limits>;
  /** Several subnets laid out as PocketIC does. Default: one application subnet with dfx's local range. */
  subnets?: SubnetSpec[];
  pacing?: Pacing;
  roundMs?: number;
  /** The replica-side query cache (default on, as on the IC). */
  queryCache?: boolean;
  /** Instruction counting, as in `Replica.create` (default 'block', as the IC). */
  metering?: MeteringMode;
  /** Frozen start time, as in `Replica.create` (tests). Default: real time. */
  time?: Date | number;
  /** The subnet's keys. Default: `stateDir`'s `keys.json` (created on first start), or fresh keys in memory. */
  keys?: SubnetKeys;
  /** Signature checks and query-response signing. Default: node:crypto's (same bytes as the portable code, faster). */
  crypto?: HttpCrypto;
  /** How long v3/v4 calls wait before answering 202 (default: the IC's, `http/constants.ts`). */
  syncCallTimeoutMs?: number;
  /**
   * The disk failed in a way that may have lost acknowledged state; the store accepts no more
   * writes. Default: the network logs it and closes.
   */
  onFatal?: (error: StoreFatalError) => void;
}

export interface LocalNetwork {
  readonly replica: Replica;
  readonly httpInterface: HttpInterface;
  readonly keys: SubnetKeys;
  /** The subnets and their canister ranges, as `/_/topology` reports them. */
  readonly topology: Topology;
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  /** What was restored from `stateDir` (undefined without one). */
  readonly restored?: { canisters: number; droppedTailBytes: number; inflightCalls: number };
  /** Writes whatever changed since the last commit now (a no-op in memory). */
  flush(): void;
  /** Stops serving, lets queued messages finish, writes the last commit and releases the state directory. */
  close(): Promise<void>;
}

/**
 * Starts a local network and resolves once it listens.
 * @example
 * const network = await startLocalNetwork({ stateDir: '.replica-state', port: 0, log: 'quiet' });
 * const agent = await HttpAgent.create({ host: network.url, rootKey: network.keys.rootKeyDer });
 * await network.close();
 */
export async function startLocalNetwork(options: LocalNetworkOptions = {}): Promise<LocalNetwork> {
  const { stateDir } = options;
  const log = options.log ?? 'normal';
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4943;
  const limits = options.limits ?? {};
  let network: LocalNetwork | undefined;
  const onFatal =
    options.onFatal ??
    ((error: StoreFatalError) => {
      console.error(`the local network stops: ${error.message}`);
      void network?.close();
    });
  // The lock first: a second replica on the same directory is refused before it touches anything.
  const store = stateDir !== undefined ? await DiskStore.open(stateDir, { onFatal }) : undefined;
  const cleanup: (() => unknown)[] = [() => store?.close()];
  const undo = async () => {
    for (const step of cleanup.reverse()) await step();
  };
  try {
    const keys = options.keys ?? loadOrCreateKeys(stateDir);
    // The store is driven here rather than through Replica.create({ stateDir }), because the HTTP
    // interface must flush before each certificate and persist its completed calls with the state.
    // With subnets, the first subnet in PocketIC's order is the one the root key signs as.
    const replica = await Replica.create({
      log,
      subnetId: keys.subnetId,
      keys,
      limits,
      pacing: options.pacing,
      roundMs: options.roundMs,
      queryCache: options.queryCache,
      metering: options.metering,
      subnets: options.subnets && withRootSubnetId(options.subnets, keys.subnetId),
      ...(options.time !== undefined ? { time: options.time } : {}),
    });
    cleanup.push(() => replica.tearDown());
    // Without subnets, /_/topology reports the one subnet and its dfx-like range.
    const topology =
      replica.topology ??
      new Topology([
        {
          kind: 'Application',
          id: keys.subnetId,
          ranges: [{ start: CANISTER_RANGE_START, end: CANISTER_RANGE_END }],
          allocation: { start: FIRST_CANISTER_INDEX, end: CANISTER_RANGE_END },
        },
      ]);
    const restored = await store?.restore(replica.scheduler, replica.management);
    if (replica.topology) for (const c of replica.scheduler.canisters.values()) topology.assign(c);

    let httpInterface: HttpInterface | undefined;
    // Only calls, timers and heartbeats change state (queries never persist): skip the page
    // comparison when none of them ran since the last commit. Rounds change state too
    // (inter-canister calls, time-sliced messages, expiring deadlines): a round since the last
    // commit makes the state dirty as an ingress call does. A failed write throws (its calls are
    // not certified) and leaves the state dirty, so the next attempt writes a full checkpoint.
    let dirty = true;
    let committedRound = -1;
    const commit = <T>(write: () => T): T => {
      dirty = false;
      committedRound = replica.scheduler.round;
      try {
        return write();
      } catch (error) {
        dirty = true;
        if (error instanceof StoreWriteError) console.error(`state not saved: ${error.message}`);
        throw error;
      }
    };
    const flush = (force = false) => {
      if (!store || !(force || dirty || replica.scheduler.round !== committedRound || replica.scheduler.hasPeriodicWork())) return;
      commit(() => store.flush(replica.scheduler, replica.management, httpInterface?.registry));
    };
    // Before a certificate: capture and write the commit now, fsync beside the BLS signature.
    // Always (a cheap no-op when nothing changed): a certificate may show a call as processing,
    // and the disk must then hold it and the scheduler state it runs in, or a restart would forget it.
    const flushBeforeCertificate = () => {
      if (!store) return;
      return commit(() => store.flushDurable(replica.scheduler, replica.management, httpInterface?.registry));
    };

    const blsWorker: WorkerSigner = await startBlsWorker(keys);
    cleanup.push(() => blsWorker.close());
    const engine = schedulerEngine(replica.scheduler);
    httpInterface = new HttpInterface({
      engine: replica.topology ? topologyEngine(engine, replica.topology) : engine,
      keys,
      crypto: options.crypto ?? nodeCrypto,
      syncCallTimeoutMs: options.syncCallTimeoutMs,
      beforeCertify: flushBeforeCertificate,
      signStateRoot: blsWorker.sign,
      onCall: (entry) => {
        if (entry.kind === 'call') dirty = true;
      },
    });
    if (store) httpInterface.registry.keepForDisk();
    if (restored) {
      httpInterface.restoreCompletedCalls(restored.completedCalls);
      // Calls in flight at the last commit read as processing again; the scheduler's state (their
      // queues, call contexts and callbacks, from the same commit) then continues them where it was.
      httpInterface.restoreInflightCalls(restored.inflightCalls);
      if (restored.schedulerState) replica.scheduler.restore(restored.schedulerState);
    }

    // Timers and heartbeats change state without any certificate being asked for.
    const flushTimer = store
      ? setInterval(() => {
          try {
            flush();
          } catch {
            // reported by commit(); retried on the next tick
          }
        }, FLUSH_INTERVAL_MS)
      : undefined;
    flushTimer?.unref();
    cleanup.push(() => clearInterval(flushTimer));

    // Everything outside /api/ and /_/ is the HTTP gateway: <canister-id>.localhost:<port> or ?canisterId=.
    const gateway = gatewayFallback(httpInterface, {
      onRequest:
        log === 'quiet'
          ? undefined
          : (r) => console.log(`gateway ${r.canisterId} ${r.method} ${r.url} -> ${r.status} ${r.ms.toFixed(1)} ms${r.error ? ` (${r.error})` : ''}`),
    });
    const underscore = { topology, scheduler: replica.scheduler, nodeIds: () => [keys.nodeId] };
    const loopMonitor = startLoopMonitor();
    cleanup.push(() => loopMonitor.stop());
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        httpInterface,
        host,
        port,
        // The body cap is the ingress message limit, lowered with it by limits.maxIngressBytes.
        maxRequestBytes: limits.maxIngressBytes,
        fallback: (req, res) => {
          if (!handleUnderscore(underscore, req, res)) gateway(req, res);
        },
        metrics: () => replica.metrics().replace(/\n?$/, '\n') + loopMonitor.metrics(),
        onRefusal: log === 'quiet' ? undefined : (method, path, status, message) => console.log(`refused ${method} ${path} -> ${status}: ${message}`),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'EADDRINUSE'
          ? `port ${port} is already in use on ${host}: another replica may be running; stop it or choose another port (--port, WG_REPLICA_PORT)`
          : `cannot listen on ${host}:${port}: ${(error as Error).message}`,
        { cause: error },
      );
    }

    let closing: Promise<void> | undefined;
    const url = server.url;
    network = {
      replica,
      httpInterface,
      keys,
      topology,
      url,
      port: Number(new URL(url).port),
      restored: restored && { canisters: restored.canisters, droppedTailBytes: restored.droppedTailBytes, inflightCalls: restored.inflightCalls.length },
      flush: () => flush(),
      close: () =>
        (closing ??= (async () => {
          await server.close();
          await replica.tearDown();
          if (flushTimer) clearInterval(flushTimer);
          loopMonitor.stop();
          try {
            flush(true);
          } finally {
            await store?.close();
            await blsWorker.close();
          }
        })()),
    };
    return network;
  } catch (error) {
    await undo();
    throw error;
  }
}

/** Who holds a state directory's lock (a running network's pid), for scripts that would rather reuse it than start another. */
export { stateDirOwner, StateDirInUseError } from './store/state-lock.ts';
