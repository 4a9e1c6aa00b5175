// Runs a Motoko test program in the compiler's interpreter (no replica needed), in a child
// process because the interpreter keeps global state. The program prints one value per line
// with Debug.print; `parseBlobLine` turns a debug_show'd Blob back into bytes.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

const runner = `
const fs = require('node:fs');
const mo = require('motoko/interpreter');
mo.loadPackage(require('motoko/packages/latest/core.json'));
const job = JSON.parse(fs.readFileSync(0, 'utf8'));
for (const [path, source] of Object.entries(job.files)) mo.write(path, source);
const r = mo.run('test.mo');
process.stdout.write(JSON.stringify({ stdout: r.stdout, stderr: r.stderr, error: r.result.error }));
`;

/** Interprets `program` with every canisters/assets/*.mo module importable as "canisters/assets/<Name>". */
export function interpretMotoko(program: string): string[] {
  const files: Record<string, string> = { 'test.mo': program };
  const dir = join(repoRoot, 'canisters/assets');
  for (const name of readdirSync(dir)) if (name.endsWith('.mo')) files[`canisters/assets/${name}`] = readFileSync(join(dir, name), 'utf8');
  const child = spawnSync(process.execPath, ['-e', runner], { cwd: repoRoot, input: JSON.stringify({ files }), maxBuffer: 64 << 20 });
  if (child.status !== 0) throw new Error(`Motoko interpreter crashed: ${child.stderr.toString().slice(-2000)}`);
  const result = JSON.parse(child.stdout.toString()) as { stdout: string; stderr: string; error: unknown };
  const errors = result.stderr.split('\n').filter((l) => /error/.test(l));
  if (result.error || errors.length > 0) throw new Error(`Motoko test program failed:\n${result.stderr}\n${JSON.stringify(result.error)}`);
  return result.stdout.split('\n').filter((l) => l.length > 0);
}

/** `"\BA\78…"` (debug_show of a Blob) → bytes. */
export function parseBlobLine(line: string): Uint8Array {
  const body = line.trim().replace(/^"|"$/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < body.length;) {
    if (body[i] === '\\') {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(body.charCodeAt(i));
      i += 1;
    }
  }
  return new Uint8Array(bytes);
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
