// Builds the site's asset canister (canisters/assets, Motoko) through the one Motoko build path,
// and keeps its committed Candid (canisters/assets/assets.did) and generated bindings
// (canisters/assets/assets.did.ts, by @icp-sdk/bindgen, rewritten to @dfinity/* as the demo
// canisters' are: see scripts/build-canisters.ts) in step with the source.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileMotoko } from './motoko.ts';
import { generateBindings } from '../build-canisters.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ASSET_CANISTER_ENTRY = 'canisters/assets/main.mo';
const didPath = join(repoRoot, 'canisters/assets/assets.did');
const bindingsPath = join(repoRoot, 'canisters/assets/assets.did.ts');

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/**
 * Appends a custom section (Wasm core spec §5.5.3: id 0, size, name, bytes). The IC exposes
 * `icp:public <name>` sections as certified canister metadata anyone can read.
 */
export function withCustomSection(wasm: Uint8Array, name: string, content: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const contentBytes = new TextEncoder().encode(content);
  const payload = [...leb128(nameBytes.length), ...nameBytes, ...contentBytes];
  return new Uint8Array([...wasm, 0, ...leb128(payload.length), ...payload]);
}

export interface BuiltAssetCanister {
  wasm: Uint8Array;
  /** sha256 hex of the module: the IC's module_hash once installed. */
  sha256: string;
  candid: string;
  cached: boolean;
  ms: number;
  /** Committed files that did not match the build (with `check`), or that were rewritten. */
  stale: string[];
}

/** Compiles the canister; updates assets.did and its bindings unless `check` (then reports them stale). */
export async function buildAssetCanister(options: { check?: boolean } = {}): Promise<BuiltAssetCanister> {
  const result = await compileMotoko({ entry: ASSET_CANISTER_ENTRY });
  const scratch = mkdtempSync(join(tmpdir(), 'assets-did-'));
  let bindings: string;
  try {
    const did = join(scratch, 'assets.did');
    writeFileSync(did, result.candid);
    bindings = (await generateBindings('assets', did)).replace(/Generated from canisters\/assets\/assets\.did/, 'Generated from canisters/assets/assets.did');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const stale: string[] = [];
  for (const [path, text] of [
    [didPath, result.candid],
    [bindingsPath, bindings],
  ] as const) {
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    stale.push(path.slice(repoRoot.length + 1));
    if (!options.check) writeFileSync(path, text);
  }
  // Gateways read this to refuse a downgrade to v1 certification (http-gateway-protocol-spec.md,
  // "Response verification"): a node that strips certificate_version cannot pass off a v1 answer.
  const wasm = withCustomSection(result.wasm, 'icp:public supported_certificate_versions', '1,2');
  return {
    wasm,
    sha256: createHash('sha256').update(wasm).digest('hex'),
    candid: result.candid,
    cached: result.cached,
    ms: result.ms,
    stale,
  };
}

if (import.meta.main) {
  const built = await buildAssetCanister({ check: process.argv.includes('--check') });
  console.log(`asset canister: ${built.wasm.length} bytes, sha256 ${built.sha256}${built.cached ? ' (cached)' : ` (${(built.ms / 1000).toFixed(1)} s)`}`);
  if (built.stale.length) console.log(`${process.argv.includes('--check') ? 'stale' : 'updated'}: ${built.stale.join(', ')}`);
}
