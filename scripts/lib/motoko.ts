// The one Motoko build path: canisters, replica fixtures and content snippets all compile here.
// Offline (the `motoko` npm compiler and its bundled `core` library), one child process per
// build, cached in .cache/motoko/ by a hash of every source file the entry imports (relative
// imports followed transitively), the persistence mode and the compiler version.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export type PersistenceMode = 'eop' | 'classic';

export interface CompileOptions {
  /** Path of the actor's main .mo file (absolute or relative to the repository root). */
  entry: string;
  /** 'eop' (default): enhanced orthogonal persistence, wasm64. 'classic': wasm32. */
  mode?: PersistenceMode;
  /** Cache folder; defaults to <repo>/.cache/motoko. */
  cacheDir?: string;
}

export interface CompileResult {
  wasm: Uint8Array<ArrayBuffer>;
  /** The service's Candid interface as the compiler emits it. */
  candid: string;
  /** The stable signature (.most), for upgrade compatibility checks. */
  stableSignature: string;
  cached: boolean;
  /** Wall time of this call in milliseconds. */
  ms: number;
  /** The cache key (sha-256 hex prefix). */
  hash: string;
}

export class MotokoCompileError extends Error {
  readonly diagnostics: { source: string; line: number; column: number; code: string; message: string }[];
  constructor(entry: string, diagnostics: MotokoCompileError['diagnostics'], raw: string) {
    const lines = diagnostics.map((d) => `  ${d.source}:${d.line}:${d.column} ${d.code}: ${d.message}`);
    super(`Motoko compilation of ${entry} failed:\n${lines.join('\n') || `  ${raw}`}`);
    this.name = 'MotokoCompileError';
    this.diagnostics = diagnostics;
  }
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const workerPath = join(repoRoot, 'scripts/lib/moc-worker.cjs');
const compilerVersion = (createRequire(import.meta.url)('motoko/package.json') as { version: string }).version;
const importPattern = /\bimport\s+(?:[A-Za-z_][\w]*\s+|\{[^}]*\}\s+)?"([^"]+)"/g;

/** Resolves a Motoko relative import the way moc does: `X` → `X.mo`, or `X/lib.mo`. */
function resolveImport(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [base, `${base}.mo`, join(base, 'lib.mo')]) {
    if (candidate.endsWith('.mo') && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Every source file the entry depends on (absolute paths), entry first. */
export function collectSources(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [resolve(repoRoot, entry)];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(importPattern)) {
      const spec = match[1];
      if (spec.startsWith('mo:') || spec.startsWith('ic:') || spec.startsWith('canister:')) continue;
      const target = resolveImport(file, spec);
      if (target) queue.push(target);
    }
  }
  return [...seen];
}

/**
 * Compiles a Motoko actor to canister Wasm, from cache when the sources are unchanged.
 * @example
 * const { wasm, candid } = await compileMotoko({ entry: 'canisters/lab/main.mo' });
 */
export async function compileMotoko(options: CompileOptions): Promise<CompileResult> {
  const started = performance.now();
  const mode = options.mode ?? 'eop';
  const cacheDir = options.cacheDir ?? join(repoRoot, '.cache/motoko');
  mkdirSync(cacheDir, { recursive: true });
  const files: Record<string, string> = {};
  const hasher = createHash('sha256').update(`moc ${compilerVersion}\0mode ${mode}\0`);
  for (const file of collectSources(options.entry)) {
    // Virtual paths relative to the repository keep relative imports meaningful inside moc.
    const virtualPath = relative(repoRoot, file).split('\\').join(posix.sep);
    files[virtualPath] = readFileSync(file, 'utf8');
  }
  for (const path of Object.keys(files).sort()) hasher.update(`${path}\0${files[path]}\0`);
  const hash = hasher.digest('hex').slice(0, 32);
  const out = {
    wasm: join(cacheDir, `${hash}.wasm`),
    did: join(cacheDir, `${hash}.did`),
    most: join(cacheDir, `${hash}.most`),
  };
  let cached = true;
  if (!existsSync(out.wasm)) {
    cached = false;
    const entryPath = relative(repoRoot, resolve(repoRoot, options.entry)).split('\\').join(posix.sep);
    const jobFile = join(cacheDir, `${hash}.${process.pid}.job.json`);
    writeFileSync(jobFile, JSON.stringify({ entry: entryPath, mode, files, out }));
    try {
      await runWorker(entryPath, jobFile);
    } finally {
      rmSync(jobFile, { force: true });
    }
  }
  return {
    wasm: new Uint8Array(readFileSync(out.wasm)),
    candid: readFileSync(out.did, 'utf8'),
    stableSignature: readFileSync(out.most, 'utf8'),
    cached,
    ms: Math.round(performance.now() - started),
    hash,
  };
}

function runWorker(entry: string, jobFile: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [workerPath, jobFile], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolvePromise();
      if (code === 2) {
        const report = JSON.parse(stdout) as { message: string; diagnostics: any[] };
        const diagnostics = report.diagnostics.map((d) => ({
          source: d.source,
          line: d.range.start.line + 1,
          column: d.range.start.character + 1,
          code: d.code,
          message: d.message,
        }));
        return reject(new MotokoCompileError(entry, diagnostics, report.message));
      }
      reject(new Error(`The Motoko compiler crashed on ${entry} (exit ${code}):\n${stderr.slice(-2000)}`));
    });
  });
}
