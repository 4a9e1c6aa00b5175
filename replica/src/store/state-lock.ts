// One replica per state directory: two writers would interleave commits. The lock is a listening
// Unix socket, which the operating system closes when the process ends however it ends (kill -9
// included), so a dead owner never blocks the next start and a recycled pid never fools it.
//
// On Linux the socket lives in the abstract namespace (no file; the name is derived from the
// directory's real path). Elsewhere it is a socket file in the directory: when binding finds the
// file but nobody accepts on it, the owner is gone and the file is replaced. Whoever connects is
// told the owner's pid, which is how a refusal names it. The pid is also written to LOCK in the
// directory for people and scripts to read; nothing decides liveness from that file.

import { createHash } from 'node:crypto';
import { realpathSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

const SOCKET_FILE = 'LOCK.sock';
const PID_FILE = 'LOCK';
/** How long a probe of the owner's socket may take before it counts as unanswered. */
const PROBE_TIMEOUT_MS = 2000;

export class StateDirInUseError extends Error {
  readonly pid: number | undefined;
  constructor(dir: string, pid: number | undefined) {
    super(`the state directory ${dir} is in use by another replica${pid ? ` (pid ${pid})` : ''}; stop it or pass another --state-dir`);
    this.name = 'StateDirInUseError';
    this.pid = pid;
  }
}

export interface StateDirLock {
  readonly dir: string;
  release(): Promise<void>;
}

function socketAddress(dir: string): string {
  const real = realpathSync(dir);
  if (process.platform === 'linux') {
    return `\0scaling-wg-replica-${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
  }
  return join(real, SOCKET_FILE);
}

function listen(address: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end(`${process.pid}\n`));
    server.once('error', reject);
    server.listen(address, () => {
      server.off('error', reject);
      server.unref(); // holding the lock must not keep the process alive
      resolve(server);
    });
  });
}

/** The pid of the replica holding `address`, 0 when it answers without one, undefined when nobody answers. */
function probe(address: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(address);
    let text = '';
    const done = (value: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(text ? Number.parseInt(text, 10) || 0 : 0), PROBE_TIMEOUT_MS);
    socket.on('data', (d) => (text += d));
    socket.on('end', () => done(Number.parseInt(text, 10) || 0));
    socket.on('error', () => done(undefined));
  });
}

/** Takes the directory's lock or throws StateDirInUseError naming the owner. */
export async function lockStateDir(dir: string): Promise<StateDirLock> {
  const address = socketAddress(dir);
  let server: Server | undefined;
  for (let attempt = 0; attempt < 2 && !server; attempt++) {
    try {
      server = await listen(address);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const owner = await probe(address);
      if (owner !== undefined || process.platform === 'linux') throw new StateDirInUseError(dir, owner || undefined);
      rmSync(address, { force: true }); // a socket file whose owner is gone
    }
  }
  if (!server) throw new StateDirInUseError(dir, undefined);
  const held = server;
  writeFileSync(join(dir, PID_FILE), `${process.pid}\n`);
  return {
    dir,
    release: () =>
      new Promise<void>((resolve) => {
        rmSync(join(dir, PID_FILE), { force: true });
        held.close(() => resolve());
      }),
  };
}

/** The pid of the replica holding `dir`'s lock, or undefined when nobody holds it. */
export async function stateDirOwner(dir: string): Promise<number | undefined> {
  let address: string;
  try {
    address = socketAddress(dir);
  } catch {
    return undefined; // no such directory
  }
  const pid = await probe(address);
  return pid === undefined ? undefined : pid;
}
