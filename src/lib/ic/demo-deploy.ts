// Deploys the demo canisters (canisters/canisters.ts, those not created by another canister) onto a
// network through the IC's public HTTP interface, with @dfinity/agent, as a controller identity.
// `npm start` calls it against the local replica; it is written so `npm run deploy` can call the
// same function (one deploy path), given an agent for its network and the ids it already knows.
//
// For each canister: known id and installed → compare the module hash (read_state, certified) with
// the build's sha256 and upgrade only when the code changed; known id but gone (a wiped local
// replica) → create it again under the same id (provisional_create_canister_with_cycles'
// specified_id, local replicas only) and install; unknown → create and install. Then the wiring
// the demos need, each step idempotent: the lab controls the three stores and holds their modules
// (canisters/lab/main.mo says why), the composite-query front has created its partitions and the scaling front its workers.
// The actor-level steps of that wiring (registerStores, uploadStoreModule, registerLabTarget(s),
// setupComposite, setupScaling, pairQueues, pairBoundedWait) are exported: the canister integration tests
// (canisters/*.test.ts) wire their demos through them, so tests and deploys share one path.
//
// Shared, so it lives with the site's IC code rather than under scripts/: `npm start`,
// `npm run deploy`, the benchmarks and the canister tests import it, and so does the site, whose
// page backend runs this same deploy in the browser against the replica in the reader's tab
// (page-replica/). It imports nothing from scripts/ (site code never does;
// tests/unit/import-direction.test.ts checks). Portable too, so no static Node import here: modules are read
// through `readWasm` (default: the build's file, via node:fs reached at call time), hashes come
// from WebCrypto, and a deploy limited to some canisters (`canisters`) also deploys the canisters
// of the wiring steps they need (WIRING) and runs only the steps whose canisters it deployed.
import { Actor, blsVerify, CanisterStatus, type ActorSubclass, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { toHex } from '@scaling-wg/replica/ic';
import { deployedCanisters, type CanisterSpec } from '../../../canisters/canisters.ts';
import { idlFactory as labIdl, type _SERVICE as LabService, type Target, type Which } from '../../declarations/lab/lab.did.ts';
import { padWasm } from '../../demos/shared/wasm-padding.ts';
import { idlFactory as producerIdl, type _SERVICE as ProducerService } from '../../declarations/queue-producer/queue-producer.did.ts';
import { idlFactory as boundedCallerIdl, type _SERVICE as BoundedCallerService } from '../../declarations/bounded-caller/bounded-caller.did.ts';
import { idlFactory as slowCalleeIdl, type _SERVICE as SlowCalleeService } from '../../declarations/slow-callee/slow-callee.did.ts';
import { idlFactory as consumerIdl, type _SERVICE as ConsumerService } from '../../declarations/queue-consumer/queue-consumer.did.ts';
import { idlFactory as scalingFrontIdl, type _SERVICE as ScalingFrontService, type WorkerInfo } from '../../declarations/scaling-front/scaling-front.did.ts';
import { idlFactory as frontIdl, type _SERVICE as FrontService, type PartitionInfo } from '../../declarations/composite-front/composite-front.did.ts';

// The part of the management canister's interface (ic.did) a deploy needs. Records may omit
// optional fields: Candid subtyping reads them as null on the receiving side. scripts/deploy.ts
// creates and installs the site's asset canister through the same interface.
const managementIdl: IDL.InterfaceFactory = ({ IDL }) => {
  const settings = IDL.Record({ controllers: IDL.Opt(IDL.Vec(IDL.Principal)) });
  return IDL.Service({
    provisional_create_canister_with_cycles: IDL.Func(
      [IDL.Record({ amount: IDL.Opt(IDL.Nat), settings: IDL.Opt(settings), specified_id: IDL.Opt(IDL.Principal) })],
      [IDL.Record({ canister_id: IDL.Principal })],
      [],
    ),
    install_code: IDL.Func(
      [
        IDL.Record({
          mode: IDL.Variant({
            install: IDL.Null,
            reinstall: IDL.Null,
            upgrade: IDL.Opt(
              IDL.Record({
                skip_pre_upgrade: IDL.Opt(IDL.Bool),
                wasm_memory_persistence: IDL.Opt(IDL.Variant({ keep: IDL.Null, replace: IDL.Null })),
              }),
            ),
          }),
          canister_id: IDL.Principal,
          wasm_module: IDL.Vec(IDL.Nat8),
          arg: IDL.Vec(IDL.Nat8),
        }),
      ],
      [],
      [],
    ),
    update_settings: IDL.Func([IDL.Record({ canister_id: IDL.Principal, settings })], [], []),
  });
};

export interface ManagementService {
  provisional_create_canister_with_cycles(arg: {
    amount: [] | [bigint];
    settings: [] | [{ controllers: [] | [Principal[]] }];
    specified_id: [] | [Principal];
  }): Promise<{ canister_id: Principal }>;
  install_code(arg: {
    mode:
      | { install: null }
      | { reinstall: null }
      | { upgrade: [] | [{ skip_pre_upgrade: [] | [boolean]; wasm_memory_persistence: [] | [{ keep: null } | { replace: null }] }] };
    canister_id: Principal;
    wasm_module: Uint8Array;
    arg: Uint8Array;
  }): Promise<void>;
  update_settings(arg: { canister_id: Principal; settings: { controllers: [] | [Principal[]] } }): Promise<void>;
}

/**
 * The controller of the local canisters, shared by `npm start` and `npm run deploy -- --network
 * local`. Kept beside the replica's state, so a wiped state directory starts over with a new
 * controller and a kept one can still upgrade its canisters.
 */
export function localDeployer(stateDir: string): Ed25519KeyIdentity {
  const { existsSync, mkdirSync, readFileSync, writeFileSync } = nodeFs();
  const path = `${stateDir}/deployer-identity.json`;
  if (existsSync(path)) return Ed25519KeyIdentity.fromJSON(readFileSync(path, 'utf8'));
  const identity = Ed25519KeyIdentity.generate();
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(path, JSON.stringify(identity.toJSON()), { mode: 0o600 });
  return identity;
}

/** node:fs, reached at call time (bundlers do not follow getBuiltinModule): only Node callers get here. */
function nodeFs(): typeof import('node:fs') {
  const fs = globalThis.process?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
  if (!fs) throw new Error('reading build files needs Node; pass readWasm to deploy from a browser');
  return fs;
}

/** The module to install for a built canister: its build file, as scripts/build-canisters.ts wrote it. */
async function readBuiltFile(built: DeployableCanister): Promise<Uint8Array> {
  const path = built.wasmPath;
  if (!path) throw new Error(`${built.name} has no wasmPath; pass readWasm to say where its module comes from`);
  return new Uint8Array(nodeFs().readFileSync(path));
}

/** The first id of a local replica's range: an effective canister id for creating canisters there. */
export const LOCAL_RANGE_START = 'rrkah-fqaaa-aaaaa-aaaaq-cai';
/** Cycles for a canister that creates others (each bucket or partition takes its share). */
const CREATOR_CYCLES = 100_000_000_000_000n;
export type StoreName = 'stable-memory-classic' | 'stable-memory-region' | 'stable-memory-eop';
/** The lab's name for each store canister. */
export const labWhich: Record<StoreName, Which> = {
  'stable-memory-classic': { classic: null },
  'stable-memory-region': { region: null },
  'stable-memory-eop': { eop: null },
};
/**
 * What the composite-query demo searches: 4 partitions of 300 generated documents each. A search
 * costs about 0.34 M instructions per document and partition (measured: 680 M for 2,000), so this
 * keeps one search near 0.4 B instructions: well inside a query's 5 B, and about a second on the
 * local replica, which interprets metered Wasm far slower than a real node.
 */
const COMPOSITE_SETUP = { partitions: 4, documentsPerPartition: 300, cyclesPerPartition: 2_000_000_000_000n };
/** Under the lab's 1 MB chunk limit and the IC's 2 MiB ingress limit, with room for framing. */
export const moduleChunkBytes = 1_000_000;

export type DeployAction = 'created' | 'recreated' | 'installed' | 'upgraded' | 'unchanged';

/**
 * What a deploy needs to know of a built canister: scripts/build-canisters.ts's BuiltCanister has
 * it all, the page backend's list of emitted modules the first three.
 */
export interface DeployableCanister {
  name: string;
  /** sha256 of the module as installed, hex: the IC's module_hash after installing it. */
  sha256: string;
  /** Bytes of the module as installed. */
  bytes: number;
  /** The build's module file (Node callers): the default `readWasm` reads it. */
  wasmPath?: string;
  /** Whether that file is gzipped (the lab needs plain Wasm for the modules it holds). */
  gzipped?: boolean;
}

export interface DeployOptions {
  /** An agent whose identity becomes (or already is) the controller of every demo canister. */
  agent: HttpAgent;
  /** 'local' for any replica that lets a deploy choose canister ids (npm start's, the page's). */
  network: 'local' | 'ic';
  /** The build's output (scripts/build-canisters.ts), one entry per canister. */
  built: DeployableCanister[];
  /** The module bytes to install (their sha256 is `sha256`). Default: the build's file (Node only). */
  readWasm?: (built: DeployableCanister) => Promise<Uint8Array>;
  /**
   * Deploy only these canisters (by name), with the others their wiring steps need (WIRING), and
   * run only those steps. Default: every deployed canister.
   */
  canisters?: readonly string[];
  /** Ids from earlier deploys on this network, by canister name. */
  knownIds: Record<string, string>;
  log?: (line: string) => void;
}

export interface DeployResult {
  ids: Record<string, string>;
  actions: Record<string, DeployAction>;
}

/** Outcomes of BLS checks by (key, signature, message), newest last; at most VERIFIED_KEPT. */
const verified = new Map<string, Promise<boolean>>();
const VERIFIED_KEPT = 64;

/**
 * The agent's own BLS check, run once per distinct (key, signature, message): calls answered in
 * the same batch carry the same certificate signature (the replica signs once per batch), and the
 * deploy sends its creates and installs side by side, so a check repeated for each reply would
 * verify one signature many times over, each time at the full cost (about 50 ms on a page's thread).
 */
function verifyOnce(key: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  const id = `${toHex(key)} ${toHex(signature)} ${toHex(message)}`;
  let outcome = verified.get(id);
  if (!outcome) {
    outcome = Promise.resolve().then(() => blsVerify(key, signature, message));
    verified.set(id, outcome);
    if (verified.size > VERIFIED_KEPT) verified.delete(verified.keys().next().value!);
  }
  return outcome;
}

/** The management canister (aaaaa-aa), addressed through `effectiveCanisterId`'s subnet. */
export function management(agent: HttpAgent, effectiveCanisterId: Principal | string): ActorSubclass<ManagementService> {
  return Actor.createActor<ManagementService>(managementIdl, {
    agent,
    blsVerify: verifyOnce,
    canisterId: Principal.managementCanister(),
    effectiveCanisterId: typeof effectiveCanisterId === 'string' ? Principal.fromText(effectiveCanisterId) : effectiveCanisterId,
  });
}

/** The installed module's hash and the controllers, or undefined when the canister does not exist. */
async function readCanister(agent: HttpAgent, id: Principal): Promise<{ moduleHash?: string; controllers: string[] } | undefined> {
  try {
    const status = await CanisterStatus.request({ agent, canisterId: id, paths: ['module_hash', 'controllers'] });
    const moduleHash = status.get('module_hash');
    const controllers = status.get('controllers');
    // Paths of a canister that does not exist are absent from the certified tree (read as null).
    if (!Array.isArray(controllers)) return undefined;
    return {
      ...(typeof moduleHash === 'string' && moduleHash ? { moduleHash: moduleHash.replace(/^0x/, '') } : {}),
      controllers: controllers.map((p) => (p instanceof Principal ? p : Principal.fromUint8Array(p)).toText()),
    };
  } catch (error) {
    const message = String((error as Error).message ?? error);
    // A canister that does not exist: its read_state path is absent or refused (400/404).
    if (/not (?:found|exist)|does not belong|does not contain|absent|404|400/i.test(message)) return undefined;
    throw error;
  }
}

/**
 * How one canister is created: `extraControllers` (awaited only when it is created) are its
 * controllers beside the deployer; `onId` hears its id as soon as it exists, before its install.
 */
interface Creation {
  extraControllers?: () => Promise<Principal[]>;
  onId?: (id: Principal) => void;
}

async function deployOne(
  spec: CanisterSpec,
  built: DeployableCanister,
  options: DeployOptions,
  self: Principal,
  creation: Creation = {},
): Promise<{ id: Principal; action: DeployAction; controllers?: string[] }> {
  const { agent, network } = options;
  const known = options.knownIds[spec.name];
  let id = known ? Principal.fromText(known) : undefined;
  let action: DeployAction = 'installed';
  const existing = id ? await readCanister(agent, id) : undefined;
  if (!id || !existing) {
    if (network !== 'local') {
      throw new Error(
        `${spec.name} has no canister on mainnet${known ? ` (${known} is gone)` : ''}: create it first (npm run deploy -- --network ic, or dfx canister create ${spec.name} --network ic) and record its id in canister_ids.json`,
      );
    }
    const controllers = [self, ...((await creation.extraControllers?.()) ?? [])];
    const created = await management(agent, id ?? LOCAL_RANGE_START).provisional_create_canister_with_cycles({
      amount: [CREATOR_CYCLES],
      settings: [{ controllers: [controllers] }],
      specified_id: id ? [id] : [],
    });
    action = id ? 'recreated' : 'created';
    id = created.canister_id;
    creation.onId?.(id);
    await installModule(spec, built, options, id, action);
    return { id, action, controllers: controllers.map((c) => c.toText()) };
  }
  creation.onId?.(id);
  if (existing.moduleHash === built.sha256) return { id, action: 'unchanged' };
  if (existing.moduleHash) action = 'upgraded';
  await installModule(spec, built, options, id, action);
  return { id, action };
}

async function installModule(spec: CanisterSpec, built: DeployableCanister, options: DeployOptions, id: Principal, action: DeployAction): Promise<void> {
  const mode =
    action === 'upgraded'
      ? {
          upgrade: [
            {
              skip_pre_upgrade: [],
              // Enhanced orthogonal persistence keeps the Wasm heap only when the upgrade says so.
              wasm_memory_persistence: spec.mode === 'eop' ? [{ keep: null }] : [],
            },
          ] as [{ skip_pre_upgrade: []; wasm_memory_persistence: [] | [{ keep: null }] }],
        }
      : { install: null };
  const wasm = await (options.readWasm ?? readBuiltFile)(built);
  await management(options.agent, id).install_code({ mode, canister_id: id, wasm_module: wasm, arg: new Uint8Array(IDL.encode([], [])) });
}

function firstLine(text: string): string {
  // Agent errors spell out the whole HTTP exchange; the reject message is what a person needs.
  const reject = /Reject message: (.*)/.exec(text);
  return reject ? reject[1] : text.split('\n')[0];
}

/** Renders a canister's error variant (lab, composite-front, sharding-index) as one readable line. */
export function describeError(error: object): string {
  const [kind, detail] = Object.entries(error)[0] as [string, unknown];
  if (kind === 'rateLimited') {
    const { message, retryAfterSeconds } = detail as { message: string; retryAfterSeconds: bigint };
    return `rateLimited: ${message} (retry after ${retryAfterSeconds} s)`;
  }
  return `${kind}: ${typeof detail === 'string' ? detail : JSON.stringify(detail, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
}

/** The `ok` value of a canister Result, or an Error naming what was asked and why it was refused. */
export function unwrap<T, E extends object>(result: { ok: T } | { err: E }, what: string): T {
  if ('ok' in result) return result.ok;
  throw new Error(`${what} was refused: ${describeError(result.err)}`);
}

/** What the lab answers to a module call: whether the module is complete, and its bytes so far. */
type ModuleReceipt = { moduleReady: boolean; moduleBytes: bigint };
type LabResult<T> = { ok: T } | { err: object };

/**
 * Sends one module to the lab: in one call when it fits a chunk, else a begin call and chunks,
 * which the lab assembles when the last one arrives; either way the lab must say it is complete.
 * `kind` names the lab's method family in errors (lab.upload<kind>, lab.begin<kind>Upload,
 * lab.append<kind>Chunk).
 */
async function sendModuleToLab(
  kind: 'Module' | 'TargetModule',
  name: string,
  wasm: Uint8Array,
  lab: {
    whole(wasm: Uint8Array): Promise<LabResult<ModuleReceipt>>;
    begin(size: bigint): Promise<LabResult<unknown>>;
    append(chunk: Uint8Array): Promise<LabResult<ModuleReceipt>>;
  },
): Promise<void> {
  if (wasm.byteLength <= moduleChunkBytes) {
    const info = unwrap(await lab.whole(wasm), `lab.upload${kind}(${name})`);
    if (!info.moduleReady) throw new Error(`the lab did not report the ${name} module ready (${info.moduleBytes} bytes received)`);
    return;
  }
  unwrap(await lab.begin(BigInt(wasm.byteLength)), `lab.begin${kind}Upload(${name})`);
  for (let offset = 0; offset < wasm.byteLength; offset += moduleChunkBytes) {
    const chunk = wasm.subarray(offset, Math.min(wasm.byteLength, offset + moduleChunkBytes));
    const info = unwrap(await lab.append(chunk), `lab.append${kind}Chunk(${name}, offset ${offset})`);
    if (offset + chunk.byteLength === wasm.byteLength && !info.moduleReady) {
      throw new Error(`the lab did not report the ${name} module ready after its last chunk (${info.moduleBytes} bytes received)`);
    }
  }
}

/**
 * Sends a store's module to the lab: in one call when it fits a chunk (every store module does),
 * else in chunks, which the lab assembles when the last one arrives.
 */
export async function uploadStoreModule(lab: LabService, store: StoreName, wasm: Uint8Array): Promise<void> {
  const which = labWhich[store];
  await sendModuleToLab('Module', store, wasm, {
    whole: (bytes) => lab.uploadModule(which, bytes),
    begin: (size) => lab.beginModuleUpload(which, size),
    append: (chunk) => lab.appendModuleChunk(which, chunk),
  });
}

/** Registers the three stores with the lab and uploads the module each one runs. Call as a lab controller. */
export async function registerStores(lab: LabService, stores: Record<StoreName, { canisterId: Principal; wasm: Uint8Array }>): Promise<void> {
  for (const [store, { canisterId, wasm }] of Object.entries(stores) as [StoreName, { canisterId: Principal; wasm: Uint8Array }][]) {
    unwrap(await lab.register(labWhich[store], canisterId), `lab.register(${store})`);
    await uploadStoreModule(lab, store, wasm);
  }
}

export type LabTargetName = 'snapshot-target' | 'install-target';
/** The lab's name for each canister it controls for the snapshots and chunked-install demos. */
export const labTarget: Record<LabTargetName, Target> = { 'snapshot-target': { snapshot: null }, 'install-target': { install: null } };

/** Sends the module the lab may put on a target: in one call when it fits a chunk, else in chunks (as for the stores). */
export async function uploadTargetModule(lab: LabService, target: LabTargetName, wasm: Uint8Array): Promise<void> {
  const which = labTarget[target];
  await sendModuleToLab('TargetModule', target, wasm, {
    whole: (bytes) => lab.uploadTargetModule(which, bytes),
    begin: (size) => lab.beginTargetModuleUpload(which, size),
    append: (chunk) => lab.appendTargetModuleChunk(which, chunk),
  });
}

/**
 * Registers one demo canister with the lab (which must already control it) and uploads the module
 * it may be reinstalled with; for the install target, also the padded module's hash: the only
 * module the lab installs from visitors' chunks. Call as a lab controller.
 */
export async function registerLabTarget(lab: LabService, name: LabTargetName, target: { canisterId: Principal; wasm: Uint8Array }): Promise<void> {
  unwrap(await lab.registerTarget(labTarget[name], target.canisterId), `lab.registerTarget(${name})`);
  await uploadTargetModule(lab, name, target.wasm);
  if (name !== 'install-target') return;
  const padded = padWasm(target.wasm);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', padded as BufferSource));
  unwrap(await lab.setInstallModule(hash, BigInt(padded.byteLength)), 'lab.setInstallModule');
}

/** Both targets (registerLabTarget), side by side: each has its own slot in the lab. */
export async function registerLabTargets(lab: LabService, targets: Record<LabTargetName, { canisterId: Principal; wasm: Uint8Array }>): Promise<void> {
  await sideBySide(Object.entries(targets) as [LabTargetName, { canisterId: Principal; wasm: Uint8Array }][], ([name, target]) =>
    registerLabTarget(lab, name, target),
  );
}

export interface CompositeSetup {
  partitions?: number;
  documentsPerPartition?: number;
  /** Cycles for each partition canister; creation costs 0.5T on a 13-node subnet, so give more. */
  cyclesPerPartition?: bigint;
}

/** Creates the front's partitions (once). Call as a front controller. */
export async function setupComposite(front: FrontService, setup: CompositeSetup = {}): Promise<PartitionInfo[]> {
  return unwrap(
    await front.setup({
      partitions: BigInt(setup.partitions ?? 4),
      documentsPerPartition: BigInt(setup.documentsPerPartition ?? 2000),
      cyclesPerPartition: setup.cyclesPerPartition ?? 1_000_000_000_000n,
    }),
    'composite-front.setup',
  );
}

/** Adds the lab to a canister's controllers (beside the deployer), unless it is one already. */
async function ensureLabControls(agent: HttpAgent, canisterId: Principal, labId: Principal, self: Principal, createdWith?: string[]): Promise<void> {
  // A canister this deploy created has the controllers it was created with: no need to read them.
  const current = createdWith ? { controllers: createdWith } : await readCanister(agent, canisterId);
  if (!current?.controllers.includes(labId.toText())) {
    await management(agent, canisterId).update_settings({ canister_id: canisterId, settings: { controllers: [[self, labId]] } });
  }
}

/** Makes the lab a controller of each store, registers the stores and uploads their modules where needed. */
async function wireLab(
  options: DeployOptions,
  ids: Record<string, string>,
  actions: Record<string, DeployAction>,
  self: Principal,
  created: Record<string, string[]>,
): Promise<void> {
  const { agent, log = console.log } = options;
  const labId = Principal.fromText(ids.lab);
  const lab = Actor.createActor<LabService>(labIdl, { agent, canisterId: labId });
  const status = await lab.status();
  // The stores side by side: each has its own slot in the lab (its registration and module).
  await sideBySide(Object.entries(labWhich) as [StoreName, Which][], async ([name, which]) => {
    const storeId = Principal.fromText(ids[name]);
    const built = options.built.find((b) => b.name === name)!;
    await ensureLabControls(agent, storeId, labId, self, created[name]);
    const info = status.stores.find((s) => Object.keys(s.which)[0] === Object.keys(which)[0]);
    if (info?.canisterId[0]?.toText() !== storeId.toText()) unwrap(await lab.register(which, storeId), `lab.register(${name})`);
    // The lab upgrades a store to the module it holds, so it must hold the one just deployed.
    const stale =
      !info?.moduleReady ||
      Number(info.moduleBytes) !== built.bytes ||
      actions[name] !== 'unchanged' ||
      actions.lab === 'created' ||
      actions.lab === 'recreated';
    if (stale) {
      const wasm = await (options.readWasm ?? readBuiltFile)(built);
      await uploadStoreModule(lab, name, wasm);
      log(`  lab holds the ${name} module (${Math.round(wasm.length / 1024)} KiB)`);
    }
  });
}

/**
 * Runs `fn` on every item at once and waits for all of them; then throws the first failure, if
 * any (so none is left running or unobserved when the deploy fails).
 */
async function sideBySide<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  const outcomes = await Promise.allSettled(items.map(fn));
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Makes the lab a controller of one target (snapshot or install) and registers it with its module, where needed. */
function wireLabTarget(name: LabTargetName): WiringStep {
  return async (options, ids, actions, self, created) => {
    const { agent, log = console.log } = options;
    const labId = Principal.fromText(ids.lab);
    const lab = Actor.createActor<LabService>(labIdl, { agent, canisterId: labId });
    const canisterId = Principal.fromText(ids[name]);
    const built = options.built.find((b) => b.name === name)!;
    if (built.gzipped) throw new Error(`${name} grew past 1 MiB and is gzipped; the lab needs it as plain Wasm`);
    const [status] = await Promise.all([lab.opsStatus(), ensureLabControls(agent, canisterId, labId, self, created[name])]);
    const info = name === 'snapshot-target' ? status.snapshotTarget : status.installTarget;
    const stale =
      actions.lab === 'created' ||
      actions.lab === 'recreated' ||
      (name === 'install-target' && !status.install.moduleHash.length) ||
      info.canisterId[0]?.toText() !== canisterId.toText() ||
      !info.moduleReady ||
      Number(info.moduleBytes) !== built.bytes ||
      actions[name] !== 'unchanged';
    if (!stale) return;
    const wasm = await (options.readWasm ?? readBuiltFile)(built);
    await registerLabTarget(lab, name, { canisterId, wasm });
    log(
      name === 'install-target'
        ? `  lab controls install-target; install module registered (${Math.round(padWasm(wasm).byteLength / 1024)} KiB padded)`
        : `  lab controls ${name}; its module registered (${Math.round(wasm.length / 1024)} KiB)`,
    );
  };
}

/** Points the queue producer and consumer at each other (each refuses strangers otherwise). Call as a controller of both. */
export async function pairQueues(producer: ProducerService, consumer: ConsumerService, ids: { producer: Principal; consumer: Principal }): Promise<void> {
  unwrap(await producer.setConsumer(ids.consumer), 'queue-producer.setConsumer');
  unwrap(await consumer.setProducer(ids.producer), 'queue-consumer.setProducer');
}

/** Points the bounded-wait caller and its slow callee at each other. Call as a controller of both. */
export async function pairBoundedWait(caller: BoundedCallerService, callee: SlowCalleeService, ids: { caller: Principal; callee: Principal }): Promise<void> {
  unwrap(await caller.setCallee(ids.callee), 'bounded-caller.setCallee');
  unwrap(await callee.setCaller(ids.caller), 'slow-callee.setCaller');
}

/** Wires the queue producer and consumer (once). */
async function wireQueues(options: DeployOptions, ids: Record<string, string>): Promise<void> {
  const producer = Actor.createActor<ProducerService>(producerIdl, { agent: options.agent, canisterId: ids['queue-producer'] });
  const consumer = Actor.createActor<ConsumerService>(consumerIdl, { agent: options.agent, canisterId: ids['queue-consumer'] });
  if ((await producer.limits()).consumer[0]?.toText() === ids['queue-consumer']) return;
  await pairQueues(producer, consumer, { producer: Principal.fromText(ids['queue-producer']), consumer: Principal.fromText(ids['queue-consumer']) });
  (options.log ?? console.log)('  queue-producer and queue-consumer wired to each other');
}

/** Wires the bounded-wait caller and its slow callee. */
async function wireBoundedWait(options: DeployOptions, ids: Record<string, string>): Promise<void> {
  const caller = Actor.createActor<BoundedCallerService>(boundedCallerIdl, { agent: options.agent, canisterId: ids['bounded-caller'] });
  const callee = Actor.createActor<SlowCalleeService>(slowCalleeIdl, { agent: options.agent, canisterId: ids['slow-callee'] });
  // Both setters are idempotent and controller-only; a deploy sets them every time (two cheap calls).
  await pairBoundedWait(caller, callee, { caller: Principal.fromText(ids['bounded-caller']), callee: Principal.fromText(ids['slow-callee']) });
}

async function setUpCompositeFront(options: DeployOptions, frontId: string): Promise<void> {
  const front = Actor.createActor<FrontService>(frontIdl, { agent: options.agent, canisterId: frontId });
  if ((await front.listPartitions()).length > 0) return;
  const partitions = await setupComposite(front, COMPOSITE_SETUP);
  (options.log ?? console.log)(`  composite-front created ${partitions.length} partitions: ${partitions.map((p) => p.canisterId.toText()).join(', ')}`);
}

/** Creates the scaling front's eight workers (once). Call as a front controller. */
export async function setupScaling(front: ScalingFrontService, cyclesPerWorker = 1_000_000_000_000n): Promise<WorkerInfo[]> {
  return unwrap(await front.setup(cyclesPerWorker), 'scaling-front.setup');
}

async function setUpScalingFront(options: DeployOptions, frontId: string): Promise<void> {
  const front = Actor.createActor<ScalingFrontService>(scalingFrontIdl, { agent: options.agent, canisterId: frontId });
  if ((await front.listWorkers()).length > 0) return;
  const workers = await setupScaling(front);
  (options.log ?? console.log)(`  scaling-front created ${workers.length} workers: ${workers.map((w) => w.canisterId.toText()).join(', ')}`);
}

/** `created`: the controllers of each canister this deploy created, as it created it. */
type WiringStep = (
  options: DeployOptions,
  ids: Record<string, string>,
  actions: Record<string, DeployAction>,
  self: Principal,
  created: Record<string, string[]>,
) => Promise<void>;

/**
 * The wiring after the canisters are installed, each step with every canister it needs. A step
 * runs when all of them were deployed. A deploy limited to some canisters adds the rest of a step
 * when one of them needs it (`neededBy`, default: every canister of the step): a store or a target
 * needs the lab, but the lab works without any of them (their slots stay empty), so a demo of the
 * snapshot target installs the lab and that target, not the stable-memory stores beside them. A
 * new demo's wiring goes here.
 */
const WIRING: Array<{ canisters: string[]; neededBy?: string[]; run: WiringStep }> = [
  { canisters: ['lab', ...Object.keys(labWhich)], neededBy: Object.keys(labWhich), run: wireLab },
  ...(Object.keys(labTarget) as LabTargetName[]).map((name) => ({ canisters: ['lab', name], neededBy: [name], run: wireLabTarget(name) })),
  { canisters: ['queue-producer', 'queue-consumer'], run: (options, ids) => wireQueues(options, ids) },
  { canisters: ['bounded-caller', 'slow-callee'], run: (options, ids) => wireBoundedWait(options, ids) },
  { canisters: ['composite-front'], run: (options, ids) => setUpCompositeFront(options, ids['composite-front']) },
  { canisters: ['scaling-front'], run: (options, ids) => setUpScalingFront(options, ids['scaling-front']) },
];

/** `names` and every canister of the wiring steps they need (all deployed canisters when undefined). */
export function deploySet(names: readonly string[] | undefined): Set<string> {
  const set = new Set(names ?? deployedCanisters.map((c) => c.name));
  for (let grown = true; grown;) {
    grown = false;
    for (const step of WIRING) {
      if (!(step.neededBy ?? step.canisters).some((c) => set.has(c))) continue;
      for (const c of step.canisters) {
        if (set.has(c)) continue;
        set.add(c);
        grown = true;
      }
    }
  }
  return set;
}

/** Deploys every demo canister that is deployed on its own, then wires them up; returns ids and what happened. */
export async function deployDemoCanisters(options: DeployOptions): Promise<DeployResult> {
  const log = options.log ?? console.log;
  const self = await options.agent.getPrincipal();
  const ids: Record<string, string> = {};
  const actions: Record<string, DeployAction> = {};
  const wanted = deploySet(options.canisters);
  const specs = deployedCanisters.filter((c) => wanted.has(c.name));
  const width = Math.max(...specs.map((c) => c.name.length));
  // The canisters are independent until the wiring: they are created and installed side by side
  // (the replica runs their installs in the same rounds, and the client's work on one call's
  // certificate overlaps the replica's on the next). The wiring steps then run side by side too:
  // each touches its own canisters, or its own slots of the lab (stores, targets), so their calls
  // may interleave in any order.
  // The canisters the lab is to control are created with it among their controllers (once the lab
  // exists), which spares the wiring a settings change for each.
  const labControlled = new Set(WIRING.filter((step) => step.canisters.includes('lab')).flatMap((step) => step.canisters));
  labControlled.delete('lab');
  let labId: { resolve(id: Principal): void; reject(error: unknown): void } | undefined;
  const labExists = specs.some((spec) => spec.name === 'lab') ? new Promise<Principal>((resolve, reject) => (labId = { resolve, reject })) : undefined;
  labExists?.catch(() => {});
  const created: Record<string, string[]> = {};
  const deployed = await Promise.allSettled(
    specs.map(async (spec) => {
      const built = options.built.find((b) => b.name === spec.name);
      if (!built) throw new Error(`${spec.name} was not built; run npm run build:canisters`);
      const started = Date.now();
      let result: { id: Principal; action: DeployAction; controllers?: string[] };
      try {
        result = await deployOne(spec, built, options, self, {
          ...(spec.name === 'lab' ? { onId: (id: Principal) => labId?.resolve(id) } : {}),
          ...(labExists && labControlled.has(spec.name) ? { extraControllers: async () => [await labExists] } : {}),
        });
      } catch (error) {
        const failure = new Error(`deploying ${spec.name} failed: ${firstLine((error as Error).message)}`, { cause: error });
        // Those waiting to be created under the lab fail with it (a no-op once the lab has its id).
        if (spec.name === 'lab') labId?.reject(failure);
        throw failure;
      }
      const { id, action } = result;
      if (result.controllers) created[spec.name] = result.controllers;
      log(`  ${spec.name.padEnd(width)} ${id.toText()}  ${action}${action === 'unchanged' ? '' : ` (${Date.now() - started} ms)`}`);
      return result;
    }),
  );
  specs.forEach((spec, i) => {
    const outcome = deployed[i];
    if (outcome.status === 'rejected') throw outcome.reason;
    ids[spec.name] = outcome.value.id.toText();
    actions[spec.name] = outcome.value.action;
  });
  await sideBySide(
    WIRING.filter((step) => step.canisters.every((name) => ids[name])),
    (step) => step.run({ ...options, log }, ids, actions, self, created),
  );
  return { ids, actions };
}

/**
 * The environment that tells a build or dev server of the site which network the demos call
 * (read by src/lib/ic/network.ts). `npm start` passes it to astro dev; a local asset-canister
 * deploy passes the same to astro build.
 */
export function siteNetworkEnv(options: {
  network: 'local' | 'ic';
  host?: string;
  ids: Record<string, string>;
  identityProvider?: string;
}): Record<string, string> {
  return {
    PUBLIC_WG_NETWORK: options.network,
    ...(options.host ? { PUBLIC_WG_HOST: options.host } : {}),
    // The ids this deploy uses (a plain mainnet build reads the repository's canister_ids.json).
    PUBLIC_WG_CANISTER_IDS: JSON.stringify(options.ids),
    ...(options.identityProvider ? { PUBLIC_WG_IDENTITY_PROVIDER: options.identityProvider } : {}),
  };
}
