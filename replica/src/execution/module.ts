// A canister module as installed: the bytes the user sent (their SHA-256 is the module hash),
// what the replica learned from them, and the compiled WebAssembly.Module of the rewritten
// module. The bytes are decoded once (../wasm/module.ts); the rewrites are passes over the
// decoded module, in this order, as the IC's embedder runs its passes over one decoded module:
// metering (../metering/instrument.ts), dirty-page marking (dirty-pages.ts) and the export pass
// (wasm-module.ts exposeInternals); then it is encoded once and compiled.
import { toHex } from '../ic/bytes.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { WasmDecodeError } from '../wasm/binary.ts';
import { encodeModule, parseModule, type WasmModule } from '../wasm/module.ts';
import { canisterMetadata, exportedMethods, exposeInternals, moduleInfo, type ModuleInfo } from './wasm-module.ts';
import { meterModule } from '../metering/instrument.ts';
import { unslicedVariant } from '../metering/unsliced.ts';
import { trackDirtyPages } from './dirty-pages.ts';
import { hypervisorError, type HypervisorError } from '../ic/user-errors.ts';
import { supportedSystemApi } from '../system-api/ic0.ts';

/**
 * How modules are prepared, one set per replica (`Replica.create`'s `metering` and `dirtyPages`).
 * Everything here that changes the compiled module is part of the module cache's key.
 */
export interface ModuleOptions {
  /**
   * 'block' (default): instruction counting as the IC instruments modules. 'instruction': every
   * instruction charged on its own, the definition 'block' must agree with (metering/reference.ts;
   * slow). 'off': the counter exists but nothing is charged, the baseline that measures what
   * metering costs (`npm run bench -- metering`); canisters then never run out of instructions.
   */
  metering?: MeteringMode;
  /**
   * true (default): modules record the pages they write, so a commit or rollback copies only
   * those (dirty-pages.ts). false: whole-heap copies. 'verify': tracking, and after every
   * page-wise commit or rollback a comparison of the whole memory with a full copy (tests).
   */
  dirtyPages?: boolean | 'verify';
}

export type MeteringMode = 'block' | 'instruction' | 'off';

const METERING_MODES: readonly MeteringMode[] = ['block', 'instruction', 'off'];

/** Checks options given by a user (Replica.create, the CLI); returns them with defaults filled in. */
export function resolveModuleOptions(options: ModuleOptions = {}): Required<ModuleOptions> {
  const metering = options.metering ?? 'block';
  if (!METERING_MODES.includes(metering)) throw new Error(`metering must be one of ${METERING_MODES.join(', ')}, not ${JSON.stringify(metering)}`);
  const dirtyPages = options.dirtyPages ?? true;
  if (dirtyPages !== true && dirtyPages !== false && dirtyPages !== 'verify')
    throw new Error(`dirtyPages must be true, false or 'verify', not ${JSON.stringify(dirtyPages)}`);
  return { metering, dirtyPages };
}

export interface LoadedModule {
  /** The module exactly as installed (after gzip decompression). */
  bytes: Uint8Array;
  hash: Uint8Array;
  info: ModuleInfo;
  compiled: WebAssembly.Module;
  methods: ReturnType<typeof exportedMethods>;
  imports: string[];
  /** Motoko enhanced orthogonal persistence: main memory may be kept across upgrades. */
  enhancedOrthogonalPersistence: boolean;
  /** Name of the exported instruction-budget global (metering/INTEGRATION.md). */
  counterExport?: string;
  /** The module records the pages it writes (dirty-pages.ts), so rollback copies only those. */
  dirtyTracking: boolean;
  /** Compare the whole memory after every page-wise commit or rollback (`dirtyPages: 'verify'`). */
  verifyDirtyTracking: boolean;
  /**
   * The module compiled without the slicing hook (metering/unsliced.ts), for executions that are
   * never time-sliced, once it is ready; the first call starts making it (in a later task) and
   * returns undefined, as does a module that has no such variant.
   */
  unsliced(): WebAssembly.Module | undefined;
}

export class InvalidModuleError extends Error {
  /** The refusal as the IC words it (a WasmValidationError and its advice), when we know it. */
  readonly error?: HypervisorError;
  constructor(message: string, options?: { cause?: unknown; error?: HypervisorError }) {
    super(message, options);
    this.name = 'InvalidModuleError';
    this.error = options?.error;
  }
}

/**
 * The IC's refusal of an import the System API does not provide, or from a module other than
 * ic0 (rs/embedders/src/wasm_utils/validation.rs: `InvalidImportSection`, a toolchain error).
 */
export function unknownImportError(module: string, name: string): HypervisorError {
  return hypervisorError.invalidWasm(
    `Wasm module has an invalid import section. Module imports function '${name}' from '${module}' that is not exported by the runtime.`,
    { kind: 'toolchain' },
  );
}

interface CacheEntry {
  compiled: WebAssembly.Module;
  counterExport?: string;
  info: ModuleInfo;
  dirtyTracking: boolean;
  /** The prepared bytes, kept until the unsliced variant is made from them (block metering only). */
  prepared?: Uint8Array;
  /** The unsliced variant: compiled, being made (a promise), or none (null). */
  unsliced?: WebAssembly.Module | Promise<void> | null;
}

/** Compiled modules by module hash and every option that changes the compiled module. */
const compiledCache = new Map<string, CacheEntry>();
/** Compilations under way, by the same key. */
const compiling = new Map<string, Promise<CacheEntry>>();

/** A module after the passes, ready to compile: what prepareModule returns. */
export type PreparedModule = ReturnType<typeof prepareModule>;

/**
 * Prepared modules kept beyond this process (the site's page backend keeps them in IndexedDB), so
 * a module is instrumented once and not on every start: preparing a Motoko module costs 0.1-0.6 s,
 * compiling the prepared bytes a tenth of that. Keys are the module cache's keys (module hash and
 * options); the store must also separate engine versions (their passes differ), e.g. by a prefix.
 * Its failures only cost the time: a miss prepares the module as without it.
 */
export interface PreparedModuleStore {
  get(key: string): Promise<PreparedModule | undefined>;
  put(key: string, module: PreparedModule): Promise<void>;
}

let preparedStore: PreparedModuleStore | undefined;

/** Sets (or with undefined, removes) the store of prepared modules every later load consults. */
export function usePreparedModuleStore(store: PreparedModuleStore | undefined): void {
  preparedStore = store;
}

async function gunzipIfNeeded(bytes: Uint8Array): Promise<Uint8Array> {
  // The IC accepts gzip-compressed modules (interface spec, install_code).
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new InvalidModuleError(`the module is gzip-compressed but does not decompress: ${(e as Error).message}`, { cause: e });
  }
}

/** The IC's refusal of a module that does not decode (WasmValidationError::DecodingError). */
function decodingError(e: WasmDecodeError): InvalidModuleError {
  return new InvalidModuleError(e.message, {
    cause: e,
    error: hypervisorError.invalidWasm(`Failed to decode wasm module: ${e.message}`, { kind: 'none' }),
  });
}

/** Decodes `bytes` and runs the passes over the decoded module; the result is ready to compile. */
export function prepareModule(
  bytes: Uint8Array,
  metering: MeteringMode,
  dirtyPages: boolean,
): { bytes: Uint8Array; info: ModuleInfo; counterExport: string; dirtyTracking: boolean } {
  let m: WasmModule;
  let counterExport: string;
  let dirtyTracking = false;
  try {
    m = parseModule(bytes);
    ({ counterExport } = meterModule(m, { meter: metering !== 'off', granularity: metering === 'instruction' ? 'instruction' : 'block' }));
    if (dirtyPages) dirtyTracking = trackDirtyPages(m);
  } catch (e) {
    if (e instanceof WasmDecodeError) throw decodingError(e);
    throw new InvalidModuleError(`the module could not be instrumented for metering: ${(e as Error).message}`, { cause: e });
  }
  const info = moduleInfo(m);
  exposeInternals(m, info);
  return { bytes: encodeModule(m), info, counterExport, dirtyTracking };
}

async function compile(bytes: Uint8Array, options: Required<ModuleOptions>, key: string): Promise<CacheEntry> {
  const stored = await preparedStore?.get(key).catch(() => undefined);
  let prepared = stored ?? prepareModule(bytes, options.metering, options.dirtyPages !== false);
  let compiled: WebAssembly.Module | undefined;
  if (prepared.dirtyTracking) {
    // Needs multi-memory (Node 24, current browsers); without it, fall back to full copies.
    compiled = await WebAssembly.compile(prepared.bytes as BufferSource).catch(() => undefined);
    if (!compiled) prepared = prepareModule(bytes, options.metering, false);
  }
  if (!compiled) {
    try {
      compiled = await WebAssembly.compile(prepared.bytes as BufferSource);
    } catch (e) {
      throw new InvalidModuleError(`Wasm validation failed: ${(e as Error).message}`, {
        cause: e,
        error: hypervisorError.invalidWasm(`Wasmtime failed to validate wasm module ${(e as Error).message}`, { kind: 'toolchain' }),
      });
    }
  }
  const provided = new Set(supportedSystemApi());
  for (const imp of WebAssembly.Module.imports(compiled)) {
    if (imp.module !== 'ic0')
      throw new InvalidModuleError(`the module imports ${imp.module}.${imp.name}; a canister may only import from "ic0"`, {
        error: unknownImportError(imp.module, imp.name),
      });
    if (imp.kind !== 'function') throw new InvalidModuleError(`the module imports ic0.${imp.name} as a ${imp.kind}; only functions are provided`);
    if (!provided.has(imp.name))
      throw new InvalidModuleError(`the module imports ic0.${imp.name}, which the System API does not provide`, {
        error: unknownImportError(imp.module, imp.name),
      });
  }
  if (!stored) void preparedStore?.put(key, prepared).catch(() => {});
  return {
    compiled,
    counterExport: prepared.counterExport,
    info: prepared.info,
    dirtyTracking: prepared.dirtyTracking,
    prepared: options.metering === 'block' ? prepared.bytes : undefined,
  };
}

/** The entry's unsliced variant if it is ready; otherwise starts making it (once), after the caller's task. */
function unslicedOf(entry: CacheEntry): WebAssembly.Module | undefined {
  if (entry.unsliced instanceof WebAssembly.Module) return entry.unsliced;
  if (entry.unsliced !== undefined) return undefined;
  const prepared = entry.prepared;
  entry.prepared = undefined;
  if (!prepared) {
    entry.unsliced = null;
    return undefined;
  }
  // Patching walks every instruction and compiling validates the module again (50-100 ms for a
  // Motoko module): not inside the execution that asked, which runs on the hooked module. A
  // microtask, not a timer: a caller that only awaits (the programmatic API) never lets a timer
  // run. Compiled synchronously for the same reason (fine off a browser's main thread: the page
  // replica runs in a worker); V8 compiles function bodies lazily either way.
  entry.unsliced = Promise.resolve().then(() => {
    let compiled: WebAssembly.Module | null = null;
    try {
      const variant = unslicedVariant(prepared);
      if ('bytes' in variant) compiled = new WebAssembly.Module(variant.bytes as BufferSource);
    } catch {
      // No variant: executions keep running on the hooked module.
    }
    entry.unsliced = compiled;
  });
  return undefined;
}

/**
 * The module cache's key (and a PreparedModuleStore's): the module hash (hex) and every option
 * that changes the prepared module. 'verify' prepares the same module as true: it only changes
 * what the host checks.
 */
export function moduleCacheKey(moduleHashHex: string, moduleOptions: ModuleOptions = {}): string {
  const options = resolveModuleOptions(moduleOptions);
  return `${moduleHashHex} metering=${options.metering} dirty-pages=${options.dirtyPages !== false}`;
}

/**
 * SHA-256 of a module: WebCrypto's where the platform has it (Node, browsers and their workers in
 * a secure context), else @noble/hashes. Native hashing takes a few hundred KB in a millisecond or
 * two; in JavaScript a page replica's worker spent about 70 ms hashing the four modules of the
 * stable-memory demo on every visit (Chromium profile of the worker).
 */
async function moduleHash(bytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256(bytes);
  return new Uint8Array(await subtle.digest('SHA-256', bytes as BufferSource));
}

/** Decodes, rewrites and compiles a canister module. Throws InvalidModuleError with the reason. */
export async function loadModule(input: Uint8Array, moduleOptions: ModuleOptions = {}): Promise<LoadedModule> {
  const options = resolveModuleOptions(moduleOptions);
  const bytes = await gunzipIfNeeded(input);
  const hash = await moduleHash(bytes);
  const key = moduleCacheKey(toHex(hash), options);
  let entry = compiledCache.get(key);
  if (!entry) {
    // Two loads of one module at once (canisters restored side by side) share one compilation.
    let pending = compiling.get(key);
    if (!pending) {
      pending = compile(bytes, options, key);
      compiling.set(key, pending);
      void pending.then(
        () => compiling.delete(key),
        () => compiling.delete(key),
      );
    }
    entry = await pending;
    if (compiledCache.size > 64) compiledCache.clear();
    compiledCache.set(key, entry);
  }
  const cached = entry;
  const methods = exportedMethods(entry.info);
  for (const name of methods.updates) {
    if (methods.queries.has(name) || methods.compositeQueries.has(name)) {
      throw new InvalidModuleError(`method "${name}" is exported both as an update and as a query`);
    }
  }
  return {
    bytes,
    hash,
    info: entry.info,
    compiled: entry.compiled,
    methods,
    imports: WebAssembly.Module.imports(entry.compiled).map((i) => i.name),
    enhancedOrthogonalPersistence: canisterMetadata(entry.info, 'enhanced-orthogonal-persistence') !== undefined,
    counterExport: entry.counterExport,
    dirtyTracking: entry.dirtyTracking,
    verifyDirtyTracking: entry.dirtyTracking && options.dirtyPages === 'verify',
    unsliced: () => unslicedOf(cached),
  };
}
