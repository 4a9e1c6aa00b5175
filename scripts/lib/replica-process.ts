// `npm run replica` as a child process (processes.ts): for `npm start`, `npm run deploy` (in the
// background, outliving the deploy), the benchmarks and the tests that need a replica of its own
// (restarts, kill -9, flags). The CLI it runs is the replica package's `ic-replica` bin, which
// calls startLocalNetwork; in-process users call startLocalNetwork (`@scaling-wg/replica/network`).
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from './processes.ts';

const packageJson = fileURLToPath(import.meta.resolve('@scaling-wg/replica/package.json'));
/** The replica's command line (`bin.ic-replica` of its package), run with this Node. */
export const REPLICA_CLI = join(dirname(packageJson), (JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: Record<string, string> }).bin['ic-replica']);

export interface ReplicaProcessOptions {
  stateDir?: string;
  host?: string;
  /** Default 0: a free port (read it from `url`). */
  port?: number;
  /** Default 'quiet'. */
  log?: 'quiet' | 'normal' | 'verbose';
  /** `name=value` assignments for `--limit`. */
  limits?: string[];
  /** More flags (`--subnets`, `--pacing` …). */
  args?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Its output goes here too. */
  logPath?: string;
  /** Leave it running after this process exits; `portFile` (required) tells when it listens. */
  detached?: boolean;
  portFile?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface ReplicaProcess extends ManagedProcess {
  url: string;
  /** The root key it printed, hex DER. */
  rootKeyHex: string;
  /** Ctrl-C (SIGINT): resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export async function startReplicaProcess(options: ReplicaProcessOptions = {}): Promise<ReplicaProcess> {
  if (options.detached && !(options.portFile && options.logPath)) throw new Error('startReplicaProcess: a detached replica needs portFile and logPath');
  const host = options.host ?? '127.0.0.1';
  const args = [REPLICA_CLI, '--host', host, '--port', String(options.port ?? 0), '--log', options.log ?? 'quiet'];
  if (options.stateDir) args.push('--state-dir', options.stateDir);
  for (const limit of options.limits ?? []) args.push('--limit', limit);
  if (options.portFile) {
    rmSync(options.portFile, { force: true });
    args.push('--port-file', options.portFile);
  }
  args.push(...(options.args ?? []));
  const child = await startProcess({
    name: 'the replica',
    args,
    cwd: options.cwd,
    env: options.env,
    ready: options.detached ? undefined : /ready: (http:\/\/\S+)/,
    readyFile: options.portFile,
    timeoutMs: options.timeoutMs ?? 60_000,
    logPath: options.logPath,
    detached: options.detached,
    signal: options.signal,
    onUnexpectedExit: options.onUnexpectedExit,
  });
  const output = options.detached ? readFileSync(options.logPath!, 'utf8') : child.output();
  const url = child.match?.[1] ?? `http://${host}:${readFileSync(options.portFile!, 'utf8').trim()}`;
  const rootKeys = [...output.matchAll(/root key: ([0-9a-f]+)/g)];
  return {
    ...child,
    url,
    rootKeyHex: rootKeys.at(-1)?.[1] ?? '',
    stop: (signal = 'SIGINT', graceMs) => child.stop(signal, graceMs),
  };
}
