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
//   --metering block|instruction|off  instruction counting (Replica.create's `metering`):
//                      block (default) as the IC; instruction: each one charged (slow); off: none
//   --port-file <path> once listening, write the port there (written whole, by rename; removed on
//                      a clean stop), so whoever started it in the background knows it is ready
// GET /_/metrics answers the replica's metrics in the Prometheus text format.
// Beside the IC's /api/ routes it answers /_/topology and /_/dashboard as dfx's PocketIC-based
// local network does (pocket-ic/underscore.ts); everything else is the HTTP gateway.

// First: re-runs this process with the IC's Wasm stack headroom (node-stack.ts).
import './node-stack.ts';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { toHex } from './ic/bytes.ts';
import { principalToText } from './ic/principal.ts';
import type { MeteringMode } from './index.ts';
import { parseLimitAssignments, type Limits } from './limits.ts';
import { startLocalNetwork } from './network.ts';
import { parseSubnetList, type SubnetSpec } from './topology/topology.ts';

/** Exit status when the disk lost or may have lost acknowledged state (sysexits.h EX_IOERR). */
const EXIT_DISK_FAILED = 74;

const USAGE =
  'usage: npm run replica -- [--port 4943] [--host 127.0.0.1] [--state-dir <dir>] [--log quiet|normal|verbose] [--limit name=value …] [--subnets application,system] [--pacing instant|mainnet] [--round-ms 600] [--no-query-cache] [--metering block|instruction|off] [--port-file <path>]';

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
        metering: { type: 'string', default: 'block' },
        'port-file': { type: 'string' },
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
  const metering = values.metering as MeteringMode;
  if (!['block', 'instruction', 'off'].includes(metering)) {
    console.error(`--metering must be block, instruction or off, got "${values.metering}"\n${USAGE}`);
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

  // A refused start (the state directory's lock, a busy port) ends in main's catch below.
  const network = await startLocalNetwork({
    stateDir,
    host: values.host,
    port,
    log,
    limits,
    subnets,
    pacing,
    roundMs,
    queryCache: !values['no-query-cache'],
    metering,
    onFatal: (error) => {
      console.error(`the replica stops: ${error.message}`);
      process.exit(EXIT_DISK_FAILED);
    },
  });
  const { replica, keys, restored } = network;
  if (restored && restored.canisters > 0) {
    console.log(`restored ${restored.canisters} canister${restored.canisters === 1 ? '' : 's'} from ${stateDir}`);
  }
  if (restored && restored.droppedTailBytes > 0) {
    console.log(
      `dropped an incomplete last commit (${restored.droppedTailBytes} bytes, written when the replica was stopped mid-write); the commit before it stands`,
    );
  }
  if (restored && restored.inflightCalls > 0)
    console.log(`continuing ${restored.inflightCalls} call${restored.inflightCalls === 1 ? '' : 's'} that were in flight`);

  console.log(`root key: ${toHex(keys.rootKeyDer)}`);
  console.log(`subnet:   ${principalToText(keys.subnetId)}`);
  if (replica.topology)
    for (const s of replica.topology.subnets)
      console.log(`          ${s.kind} subnet ${s.id.toText()}${s.costSchedule === 'Free' ? ' (no cycle charges)' : ''}`);
  if (stateDir) console.log(`state:    ${stateDir}`);
  console.log(
    `pacing:   ${pacing}${pacing === 'mainnet' ? ` (a round every ${replica.scheduler.roundMs} ms)` : ''}; query cache ${values['no-query-cache'] ? 'off' : 'on'}; metrics at /_/metrics`,
  );
  const portFile = values['port-file'];
  if (portFile) {
    writeFileSync(`${portFile}.tmp`, `${network.port}\n`);
    renameSync(`${portFile}.tmp`, portFile);
  }
  console.log(`ready: ${network.url}`);

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
    await network.close();
    if (portFile) rmSync(portFile, { force: true });
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
