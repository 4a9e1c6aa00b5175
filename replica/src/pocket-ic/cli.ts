#!/usr/bin/env node
// `pocket-ic`: a PocketIC-compatible server on top of the replica, started the way PicJS, the
// Python `pocket-ic` package and the Rust client start the real binary. Flags as the real server's
// (rs/pocket_ic_server/src/main.rs, read 2026-12-04):
//   --port-file <path>   write the port there once listening; if the file already exists another
//                        server owns it: exit at once (the client then reads that server's port)
//   --ttl <seconds>      stop after this long without a request (default 60)
//   -p, --port <n>       default 0: a free port
//   -i, --ip-addr <ip>   default 127.0.0.1
//   -l, --log-levels <s> accepted; "debug" or "trace" in it prints one line per request
//   --pid <pid>          older clients: the port file is <tmpdir>/pocket_ic_<pid>.port, and
//                        <tmpdir>/pocket_ic_<pid>.ready appears once it is written
//   --ready-file <path>  older clients: created once the server listens
// SIGINT/SIGTERM and the TTL stop it cleanly: gateways stop, instances with a state_dir are
// saved, the port file is removed.
import { parseArgs } from 'node:util';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PocketIcServer } from './server.ts';

/** PocketIC's default time-to-live (main.rs `TTL_SEC`). */
const TTL_SECONDS = 60;
/**
 * The PocketIC server version whose API this server follows (packages/pocket-ic CHANGELOG).
 * `--version` prints exactly `pocket-ic-server <version>`: the Rust client compares that line
 * with the version range it supports, so POCKET_IC_SERVER_VERSION may name the one it expects.
 */
const VERSION = process.env.POCKET_IC_SERVER_VERSION ?? '10.0.0';
const USAGE = 'usage: pocket-ic [--port-file <path>] [--ttl <seconds>] [-p|--port <n>] [-i|--ip-addr <ip>] [-l|--log-levels <levels>]';

function fail(message: string): never {
  console.error(`error: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22)
    fail(
      `Node ${process.versions.node} cannot run the replica (Motoko's wasm64 needs Node 24); run it through the package's bin (node_modules/.bin/pocket-ic), which finds the project's Node 24`,
    );
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'port-file': { type: 'string' },
        ttl: { type: 'string' },
        port: { type: 'string', short: 'p' },
        'ip-addr': { type: 'string', short: 'i' },
        'log-levels': { type: 'string', short: 'l' },
        pid: { type: 'string' },
        'ready-file': { type: 'string' },
        'mainnet-routing-table': { type: 'string' },
        'fetch-mainnet-routing-table': { type: 'boolean' },
        version: { type: 'boolean', short: 'V' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.version) {
    console.log(`pocket-ic-server ${VERSION}`);
    return;
  }
  if (values['fetch-mainnet-routing-table'] || values['mainnet-routing-table']) {
    fail('--mainnet-routing-table and --fetch-mainnet-routing-table are not supported: this server creates no subnets for mainnet canister ids');
  }
  const ttl = values.ttl === undefined ? TTL_SECONDS : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 0) fail(`--ttl must be a whole number of seconds, got "${values.ttl}"`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a number from 0 to 65535, got "${values.port}"`);
  const portFile = values['port-file'] ?? (values.pid !== undefined ? join(tmpdir(), `pocket_ic_${values.pid}.port`) : undefined);
  const readyFile = values['ready-file'] ?? (values.pid !== undefined ? join(tmpdir(), `pocket_ic_${values.pid}.ready`) : undefined);

  // Claim the port file first, atomically: if it exists, a server for this client runs already.
  let portFd: number | undefined;
  if (portFile) {
    try {
      portFd = openSync(portFile, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
      fail(`cannot create the port file ${portFile}: ${(error as Error).message}`);
    }
  }
  const verbose = /debug|trace/.test(values['log-levels'] ?? '');
  const server = new PocketIcServer({
    host: values['ip-addr'] ?? '127.0.0.1',
    port,
    ttlSeconds: ttl,
    onIdleStop: () => finish(0),
    // PocketIC prints canister output (debug_print, traps) on stderr, which PicJS shows with
    // showCanisterLogs; one line per message goes with the server's own log on stdout.
    onCanisterLog: (line, event) => (event.kind === 'debug' || event.kind === 'trap' ? process.stderr : process.stdout).write(`${line}\n`),
    onRequest: verbose ? (line) => console.log(line) : undefined,
  });
  const finish = (code: number) => {
    if (portFile) rmSync(portFile, { force: true });
    if (readyFile) rmSync(readyFile, { force: true });
    process.exit(code);
  };
  try {
    await server.listen();
  } catch (error) {
    if (portFd !== undefined) closeSync(portFd);
    if (portFile) rmSync(portFile, { force: true });
    console.error(`Failed to bind PocketIC server to address ${values['ip-addr'] ?? '127.0.0.1'}:${port}: ${(error as Error).message}`);
    process.exit(1);
  }
  if (portFd !== undefined) {
    writeSync(portFd, `${server.port}\n`);
    closeSync(portFd);
  }
  if (readyFile) writeFileSync(readyFile, '');
  console.log(`The PocketIC server is listening on port ${server.port}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) finish(1);
    stopping = true;
    setTimeout(() => finish(1), 10_000).unref();
    await server.stop();
    finish(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGHUP', () => void stop());
  // A bug in one request must not take every instance down.
  process.on('unhandledRejection', (reason) =>
    console.error(`pocket-ic server bug (unhandled rejection), still serving: ${(reason as Error)?.stack ?? reason}`),
  );
}

void main();
