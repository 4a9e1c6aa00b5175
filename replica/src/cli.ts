#!/usr/bin/env node
// `npm run replica`: a local IC replica on 127.0.0.1:4943 speaking the IC's HTTP interface.
//   --port <n>         (default 4943; 0 picks a free port)
//   --host <addr>      (default 127.0.0.1)
//   --state-dir <dir>  keep the root key and canisters there across restarts
//   --log quiet|normal|verbose
//   --limit <name>=<value>  lower one of the IC's limits (repeatable), e.g.
//                      --limit instructionsPerQuery=1M --limit maxIngressBytes=64KiB
//   --subnets <kinds>  several subnets laid out as PocketIC does, e.g. application,system
//                      (system subnets charge no cycles; application:free asks for that too).
//                      Default: one application subnet with dfx's local canister range.
//   --pacing instant|mainnet  instant (default): rounds run as soon as a message waits;
//                      mainnet: a round every --round-ms (600) and replies after certification
//   --round-ms <n>     milliseconds between rounds with --pacing mainnet
//   --no-query-cache   switch the replica-side query cache off
// GET /_/metrics answers the replica's metrics in the Prometheus text format.
// Beside the IC's /api/ routes it answers /_/topology and /_/dashboard as dfx's PocketIC-based
// local network does (pocket-ic/underscore.ts); everything else is the HTTP gateway.

// First: re-runs this process with the IC's Wasm stack headroom (node-stack.ts).
import './node-stack.ts';
import { parseArgs } from 'node:util';
import { toHex } from './ic/bytes.ts';
import { principalToText } from './ic/principal.ts';
import { schedulerEngine } from './http/engine-adapter.ts';
import { HttpInterface } from './http/interface.ts';
import { nodeCrypto } from './http/node-crypto.ts';
import { startBlsWorker } from './http/bls-worker.ts';
import { gatewayFallback } from './gateway/index.ts';
import { startServer } from './http/server.ts';
import { startLoopMonitor } from './http/loop-monitor.ts';
import { Replica } from './index.ts';
import { parseLimitAssignments, type Limits } from './limits.ts';
import { loadOrCreateKeys } from './store/disk-keys.ts';
import { DiskStore, StoreWriteError, type StoreFatalError } from './store/disk-store.ts';
import { parseSubnetList, withRootSubnetId, Topology, type SubnetSpec } from './topology/topology.ts';
import { topologyEngine } from './topology/engine.ts';
import { CANISTER_RANGE_END, CANISTER_RANGE_START, FIRST_CANISTER_INDEX } from './management/canister-ids.ts';
import { handleUnderscore } from './pocket-ic/underscore.ts';

/** Exit status when the disk lost or may have lost acknowledged state (sysexits.h EX_IOERR). */
const EXIT_DISK_FAILED = 74;

const USAGE =
  'usage: npm run replica -- [--port 4943] [--host 127.0.0.1] [--state-dir <dir>] [--log quiet|normal|verbose] [--limit name=value …] [--subnets application,system] [--pacing instant|mainnet] [--round-ms 600] [--no-query-cache]';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4943' },
        host: { type: 'string', default: '127.0.0.1' },
        'state-dir': { type: 'string' },
        log: { type: 'string', default: 'normal' },
        limit: { type: 'string', multiple: true, default: [] },
        subnets: { type: 'string' },
        pacing: { type: 'string', default: 'instant' },
        'round-ms': { type: 'string' },
        'no-query-cache': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a number from 0 to 65535, got "${values.port}"\n${USAGE}`);
    process.exit(2);
  }
  const log = values.log as 'quiet' | 'normal' | 'verbose';
  if (!['quiet', 'normal', 'verbose'].includes(log)) {
    console.error(`--log must be quiet, normal or verbose, got "${values.log}"`);
    process.exit(2);
  }
  const stateDir = values['state-dir'];
  let limits: Partial<Limits>;
  try {
    limits = parseLimitAssignments(values.limit ?? []);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  for (const [name, value] of Object.entries(limits)) console.log(`limit: ${name} = ${value} (lowered from the IC's default)`);
  const pacing = values.pacing;
  if (pacing !== 'instant' && pacing !== 'mainnet') {
    console.error(`--pacing must be instant or mainnet, got "${pacing}"\n${USAGE}`);
    process.exit(2);
  }
  const roundMs = values['round-ms'] === undefined ? undefined : Number(values['round-ms']);
  if (roundMs !== undefined && !(Number.isFinite(roundMs) && roundMs > 0)) {
    console.error(`--round-ms must be a positive number of milliseconds, got "${values['round-ms']}"\n${USAGE}`);
    process.exit(2);
  }
  let subnets: SubnetSpec[] | undefined;
  try {
    subnets = values.subnets === undefined ? undefined : parseSubnetList(values.subnets);
    if (subnets?.length === 0) throw new Error('--subnets needs at least one subnet kind');
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }

  const onFatal = (error: StoreFatalError) => {
    console.error(`the replica stops: ${error.message}`);
    process.exit(EXIT_DISK_FAILED);
  };
  // The lock first: a second replica on the same directory is refused before it touches anything.
  const store = stateDir ? await DiskStore.open(stateDir, { onFatal }) : undefined;
  const keys = loadOrCreateKeys(stateDir);
  // The store is driven here rather than through Replica.create({ stateDir }), because the HTTP
  // interface must flush before each certificate and persist its completed calls with the state.
  // With --subnets, the first subnet in PocketIC's order is the one the root key signs as.
  const replica = await Replica.create({
    log,
    subnetId: keys.subnetId,
    limits,
    pacing,
    roundMs,
    queryCache: !values['no-query-cache'],
    subnets: subnets && withRootSubnetId(subnets, keys.subnetId),
  });
  // Without --subnets, /_/topology reports the one subnet and its dfx-like range.
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
  if (restored && restored.canisters > 0) {
    console.log(`restored ${restored.canisters} canister${restored.canisters === 1 ? '' : 's'} from ${stateDir}`);
  }
  if (restored && restored.droppedTailBytes > 0) {
    console.log(
      `dropped an incomplete last commit (${restored.droppedTailBytes} bytes, written when the replica was stopped mid-write); the commit before it stands`,
    );
  }
  let httpInterface: HttpInterface | undefined;
  // Only calls, timers and heartbeats change state (queries never persist): skip the page
  // comparison when none of them ran since the last commit.
  let dirty = true;
  // A failed write throws (its calls are not certified) and leaves the state dirty, so the next
  // attempt writes a full checkpoint.
  // Rounds change state too (inter-canister calls, time-sliced messages, expiring deadlines):
  // a round since the last commit makes the state dirty as an ingress call does.
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
  // Before a certificate: capture and write the commit now, fsync beside the BLS signature. Always
  // (a cheap no-op when nothing changed): a certificate may show a call as processing, and the
  // disk must then hold it and the scheduler state it runs in, or a restart would forget it.
  const flushBeforeCertificate = () => {
    if (!store) return;
    return commit(() => store.flushDurable(replica.scheduler, replica.management, httpInterface?.registry));
  };
  const blsWorker = await startBlsWorker(keys);
  httpInterface = new HttpInterface({
    engine: replica.topology ? topologyEngine(schedulerEngine(replica.scheduler), replica.topology) : schedulerEngine(replica.scheduler),
    keys,
    crypto: nodeCrypto,
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
    if (restored.inflightCalls.length > 0)
      console.log(`continuing ${restored.inflightCalls.length} call${restored.inflightCalls.length === 1 ? '' : 's'} that were in flight`);
  }
  // Timers and heartbeats change state without any certificate being asked for.
  const flushTimer = store
    ? setInterval(() => {
        try {
          flush();
        } catch {
          // reported by commit(); retried on the next tick
        }
      }, 1000)
    : undefined;
  flushTimer?.unref();
  let server: Awaited<ReturnType<typeof startServer>>;
  // Everything outside /api/ and /_/ is the HTTP gateway: <canister-id>.localhost:<port> or ?canisterId=.
  const gateway = gatewayFallback(httpInterface, {
    onRequest:
      log === 'quiet'
        ? undefined
        : (r) => console.log(`gateway ${r.canisterId} ${r.method} ${r.url} -> ${r.status} ${r.ms.toFixed(1)} ms${r.error ? ` (${r.error})` : ''}`),
  });
  const underscore = { topology, scheduler: replica.scheduler, nodeIds: () => [keys.nodeId] };
  const loopMonitor = startLoopMonitor();
  try {
    server = await startServer({
      httpInterface,
      host: values.host,
      port,
      // The body cap is the ingress message limit, lowered with it by --limit maxIngressBytes.
      maxRequestBytes: limits.maxIngressBytes,
      fallback: (req, res) => {
        if (!handleUnderscore(underscore, req, res)) gateway(req, res);
      },
      metrics: () => replica.metrics().replace(/\n?$/, '\n') + loopMonitor.metrics(),
      onRefusal: log === 'quiet' ? undefined : (method, path, status, message) => console.log(`refused ${method} ${path} -> ${status}: ${message}`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `port ${port} is already in use on ${values.host}: another replica may be running; stop it or pass --port`
        : `cannot listen on ${values.host}:${port}: ${(error as Error).message}`,
    );
    await replica.tearDown();
    await store?.close();
    await blsWorker.close();
    process.exit(1);
  }

  console.log(`root key: ${toHex(keys.rootKeyDer)}`);
  console.log(`subnet:   ${principalToText(keys.subnetId)}`);
  if (replica.topology)
    for (const s of replica.topology.subnets)
      console.log(`          ${s.kind} subnet ${s.id.toText()}${s.costSchedule === 'Free' ? ' (no cycle charges)' : ''}`);
  if (stateDir) console.log(`state:    ${stateDir}`);
  console.log(
    `pacing:   ${pacing}${pacing === 'mainnet' ? ` (a round every ${replica.scheduler.roundMs} ms)` : ''}; query cache ${values['no-query-cache'] ? 'off' : 'on'}; metrics at /_/metrics`,
  );
  console.log(`ready: ${server.url}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      console.log(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping`);
    // Queued messages get a moment to finish; a canister stuck waiting must not hold Ctrl-C hostage.
    setTimeout(() => {
      console.log('still busy after 5 s: exiting anyway (the last durable commit stands)');
      process.exit(1);
    }, 5000).unref();
    await server.close();
    await replica.tearDown();
    if (flushTimer) clearInterval(flushTimer);
    try {
      flush(true);
    } finally {
      await store?.close();
    }
    await blsWorker.close();
    process.exit(0);
  };
  // A local replica keeps serving through its own bugs; say so loudly instead of exiting.
  process.on('unhandledRejection', (reason) => console.error(`replica bug (unhandled rejection), still serving: ${(reason as Error)?.stack ?? reason}`));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  const verbose = process.argv.includes('verbose');
  console.error(`the replica could not start: ${verbose ? ((error as Error).stack ?? error) : ((error as Error).message ?? error)}`);
  process.exit(1);
});
