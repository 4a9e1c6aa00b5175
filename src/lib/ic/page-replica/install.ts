// Installs a demo's canisters on the page replica the first time a reader opens the demo, with the
// same deploy the local replica gets from npm start (src/lib/ic/demo-deploy.ts, run here in the
// browser): create, install, then the demo's own wiring. Later visits reuse what is installed;
// a site build with new modules upgrades them in place.
import { HttpAgent } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import modules, { engine } from 'virtual:wg-demo-wasm';
import type { DemoId } from '../../../../canisters/canisters.ts';
import { toHex } from '@scaling-wg/replica/ic';
import { deployDemoCanisters, deploySet, type DeployableCanister } from '../demo-deploy.ts';
import { PAGE_REPLICA_HOST, pageReplica } from './client.ts';
import type { PreparedFiles } from './protocol.ts';

/** The modules the site build prepared for its engine (pageReplica.start), by module cache key. */
export const preparedFiles: PreparedFiles | undefined = engine
  ? {
      engine,
      files: Object.fromEntries(
        modules.flatMap((m) => [...(m.prepared ? [m.prepared] : []), ...m.embedded]).map((p) => [p.key, { url: p.url, sha256: p.sha256 }]),
      ),
    }
  : undefined;

/** What this browser deployed on its page replica; `rootKey` ties it to one replica state. */
interface Installed {
  rootKey: string;
  deployer: string;
  ids: Record<string, string>;
  /** Per demo: the module hashes it was last deployed with. */
  demos: Partial<Record<DemoId, Record<string, string>>>;
}

const RECORD = 'wg-page-replica:installed';

/** A module the site build should have emitted could not be loaded (named in the message). */
export class WasmLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmLoadError';
  }
}

function readRecord(): Installed | undefined {
  try {
    const text = localStorage.getItem(RECORD);
    return text ? (JSON.parse(text) as Installed) : undefined;
  } catch {
    return undefined;
  }
}

export function forgetInstalled(): void {
  localStorage.removeItem(RECORD);
}

/**
 * The modules the page replica needs for a demo: its own canisters, those it calls, and those
 * their wiring needs (src/lib/ic/demo-deploy.ts); empty when the build emitted none of its own.
 */
export function pageModulesFor(demo: DemoId, calls: readonly string[] = []): typeof modules {
  const own = modules.filter((m) => m.demo === demo).map((m) => m.name);
  if (own.length === 0) return [];
  const needed = deploySet([...own, ...calls]);
  return modules.filter((m) => needed.has(m.name));
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource)));
}

async function loadModule(entry: (typeof modules)[number]): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(entry.url);
  } catch (error) {
    throw new WasmLoadError(`The module ${entry.url} (${entry.name}) could not be loaded: ${(error as Error).message}.`);
  }
  if (!response.ok) throw new WasmLoadError(`The module ${entry.url} (${entry.name}) could not be loaded: HTTP ${response.status}.`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  // Served as stored (gzip); a server that decoded it on the way (Content-Encoding) hands over raw Wasm.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
    } catch (error) {
      throw new WasmLoadError(`The module ${entry.url} (${entry.name}) does not decompress: ${(error as Error).message}.`);
    }
  }
  const hash = await sha256Hex(bytes);
  if (hash !== entry.sha256)
    throw new WasmLoadError(
      `The module ${entry.url} (${entry.name}) is not the one this site was built with (sha256 ${hash.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…).`,
    );
  return bytes;
}

/**
 * Makes sure `demo`'s canisters run on the page replica (which must be ready) and returns the
 * canister ids by name. `progress` gets one line per step.
 */
export function installDemo(demo: DemoId, calls: readonly string[], progress: (line: string) => void): Promise<Record<string, string>> {
  // One install at a time: two demos on one page share the record of what is installed.
  const next = queue.then(() => install(demo, calls, progress));
  queue = next.catch(() => {});
  return next;
}

let queue: Promise<unknown> = Promise.resolve();

async function install(demo: DemoId, calls: readonly string[], progress: (line: string) => void): Promise<Record<string, string>> {
  const replica = pageReplica.state;
  if (replica.phase !== 'ready') throw new Error('the page replica is not ready');
  const wanted = pageModulesFor(demo, calls);
  if (wanted.length === 0) throw new WasmLoadError(`This build of the site has no canister modules for the ${demo} demo (npm run build emits them).`);
  let record = readRecord();
  if (!record || record.rootKey !== replica.rootKey) {
    // A new replica state (first visit, reset, or storage cleared): new controller, nothing installed.
    record = { rootKey: replica.rootKey, deployer: JSON.stringify(Ed25519KeyIdentity.generate().toJSON()), ids: {}, demos: {} };
  }
  const hashes = Object.fromEntries(wanted.map((m) => [m.name, m.sha256]));
  const done = record.demos[demo];
  if (replica.restoredCanisters > 0 && done && wanted.every((m) => done[m.name] === m.sha256 && record!.ids[m.name])) return record.ids;

  const identity = Ed25519KeyIdentity.fromJSON(record.deployer);
  const agent = await HttpAgent.create({ host: PAGE_REPLICA_HOST, identity, fetch: pageReplica.fetch, shouldFetchRootKey: true });
  // Every module this install needs is fetched at once (and its prepared form, in the worker),
  // not one by one as the deploy reaches each canister; a failure surfaces where the deploy reads it.
  const cache = new Map<string, Promise<Uint8Array>>();
  for (const entry of wanted) {
    const bytes = loadModule(entry);
    bytes.catch(() => {});
    cache.set(entry.name, bytes);
  }
  pageReplica.prefetch(wanted.flatMap((m) => [...(m.prepared ? [m.prepared.key] : []), ...m.embedded.map((e) => e.key)]));
  const built: DeployableCanister[] = wanted.map((m) => ({ name: m.name, sha256: m.sha256, bytes: m.bytes }));
  let step = 0;
  const result = await deployDemoCanisters({
    agent,
    network: 'local',
    built,
    knownIds: record.ids,
    canisters: wanted.map((m) => m.name),
    readWasm: (canister) => {
      const entry = wanted.find((m) => m.name === canister.name)!;
      let bytes = cache.get(entry.name);
      if (!bytes) {
        bytes = loadModule(entry);
        cache.set(entry.name, bytes);
      }
      return bytes;
    },
    log: (line) => {
      step++;
      progress(`Installing the demo's canisters in this page (step ${step}): ${line.trim().replace(/\s+/g, ' ')}`);
    },
  });
  record.ids = { ...record.ids, ...result.ids };
  record.demos[demo] = hashes;
  localStorage.setItem(RECORD, JSON.stringify(record));
  return record.ids;
}
