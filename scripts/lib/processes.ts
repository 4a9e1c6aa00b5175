// The one way the scripts and tests run other Node programs (the replica, astro, the site build):
// spawn with this Node, output to a log file and/or kept in memory, wait until the program says
// it is ready (a line of its output, or a port file it writes), stop it cleanly (a signal, then
// SIGKILL after a grace period), and say what went wrong with the end of its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** How much of a program's output is kept in memory (the log file, if any, has all of it). */
const OUTPUT_KEPT_BYTES = 1 << 20;
/** How often a port file is looked for. */
const POLL_MS = 100;

export interface StartOptions {
  /** Names the program in messages. */
  name: string;
  /** Arguments to this Node (`process.execPath`): the script, then its flags. */
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Ready when a line of its output (stdout or stderr, colours stripped) matches. */
  ready?: RegExp;
  /** Ready when this file exists and is not empty (the program writes it once it listens). */
  readyFile?: string;
  /** How long to wait for readiness before killing it and failing. */
  timeoutMs: number;
  /** Its output goes here too (appended when detached, truncated otherwise). */
  logPath?: string;
  /** Leave it running after this process exits (output to `logPath` only; readiness by `readyFile`). */
  detached?: boolean;
  /** Aborting it stops the program (SIGTERM), whether or not it is ready yet (not with `detached`). */
  signal?: AbortSignal;
  /** Called when it exits after it was ready, unless `stop` or `kill` asked for it. */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The match of `ready` against its output, when readiness was a line. */
  readonly match?: RegExpExecArray;
  readonly logPath?: string;
  /** What it printed so far (the last MiB; empty when detached). */
  output(): string;
  /** Resolves with the exit code (null after a signal) once it has exited. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM), then SIGKILL if it has not exited after `graceMs` (default 10 s). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Starts a Node program and resolves once it is ready; rejects (and kills it) if it exits first or takes too long. */
export async function startProcess(options: StartOptions): Promise<ManagedProcess> {
  if (!options.ready && !options.readyFile) throw new Error(`startProcess(${options.name}): give ready or readyFile`);
  if (options.detached && !options.readyFile) throw new Error(`startProcess(${options.name}): a detached program reports readiness by readyFile`);
  if (options.logPath) mkdirSync(dirname(options.logPath), { recursive: true });
  let child: ChildProcess;
  let log: WriteStream | undefined;
  if (options.detached) {
    const fd = openSync(options.logPath ?? '/dev/null', 'a');
    child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
  } else {
    child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    child.on('error', () => {}); // an abort: reported by the exit
    if (options.logPath) log = createWriteStream(options.logPath);
  }
  let output = '';
  const onData = (data: Buffer) => {
    log?.write(data);
    output += data.toString();
    if (output.length > OUTPUT_KEPT_BYTES) output = output.slice(-OUTPUT_KEPT_BYTES);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let expectedExit = false;
  let ready = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      log?.end();
      if (ready && !expectedExit) options.onUnexpectedExit?.(code, signal);
      resolve(code);
    }),
  );
  const recent = () => tail(options.detached && options.logPath && existsSync(options.logPath) ? readFileSync(options.logPath, 'utf8') : output, 8);
  const where = options.logPath ? `; see ${options.logPath}` : '';

  let match: RegExpExecArray | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${options.name} did not report ready within ${options.timeoutMs / 1000} s${where}:\n${recent()}`));
      }, options.timeoutMs);
      const poll = options.readyFile
        ? setInterval(() => {
            if (existsSync(options.readyFile!) && readFileSync(options.readyFile!, 'utf8').trim() !== '') {
              finish();
              resolve();
            }
          }, POLL_MS)
        : undefined;
      const onLine = () => {
        const found = options.ready?.exec(stripAnsi(output));
        if (!found) return;
        match = found;
        finish();
        resolve();
      };
      if (options.ready) {
        child.stdout?.on('data', onLine);
        child.stderr?.on('data', onLine);
      }
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        finish();
        reject(new Error(`${options.name} exited (${code ?? signal}) before it was ready${where}:\n${recent()}`));
      };
      child.once('exit', onExit);
      function finish() {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        child.stdout?.off('data', onLine);
        child.stderr?.off('data', onLine);
        child.off('exit', onExit);
      }
    });
  } catch (error) {
    expectedExit = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw error;
  }
  ready = true;
  if (options.detached) child.unref();

  const managed: ManagedProcess = {
    name: options.name,
    child,
    pid: child.pid!,
    match,
    logPath: options.logPath,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      expectedExit = true;
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      expectedExit = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return managed;
}

/** Runs a Node program to completion, its output to `logPath`; rejects with the end of the log when it fails. */
export async function runProcess(options: {
  name: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logPath: string;
  /** Aborting it stops the program (SIGTERM). */
  signal?: AbortSignal;
}): Promise<void> {
  mkdirSync(dirname(options.logPath), { recursive: true });
  const log = createWriteStream(options.logPath);
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
  child.on('error', () => {}); // an abort: reported by the exit below
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  await new Promise((resolve) => log.end(resolve));
  if (code === 0) return;
  throw new Error(`${options.name} failed (${code ?? signal}); the end of ${options.logPath}:\n${tail(readFileSync(options.logPath, 'utf8'), 8)}`);
}

/** Resolves once `url` answers 2xx; rejects after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, Math.min(5_000, deadline - Date.now()))) }).then(
      (response) => (response.body?.cancel(), response.ok),
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
