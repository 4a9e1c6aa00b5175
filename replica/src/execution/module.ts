// A canister module as installed: the bytes the user sent (their SHA-256 is the module hash),
// what the replica learned by parsing them, and the compiled WebAssembly.Module of the
// rewritten bytes: metered (metering-hook.ts), tracking the pages it writes (dirty-pages.ts),
// and exposing its private state to the host (wasm-module.ts exposeInternals).
import { toHex } from '../ic/bytes.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { canisterMetadata, exportedMethods, exposeInternals, parseModule, WasmFormatError, type ModuleInfo } from './wasm-module.ts';
import { instrumentForMetering } from './metering-hook.ts';
import { trackDirtyPages } from './dirty-pages.ts';
import { hypervisorError, type HypervisorError } from '../ic/user-errors.ts';
import { supportedSystemApi } from '../system-api/ic0.ts';

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
  /** Name of the exported instruction-budget global when metering is active (metering/INTEGRATION.md). */
  counterExport?: string;
  /** The module records the pages it writes (dirty-pages.ts), so rollback copies only those. */
  dirtyTracking: boolean;
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

const compiledCache = new Map<string, { compiled: WebAssembly.Module; counterExport?: string; info: ModuleInfo; dirtyTracking: boolean }>();

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

/** Parses, rewrites and compiles a canister module. Throws InvalidModuleError with the reason. */
export async function loadModule(input: Uint8Array): Promise<LoadedModule> {
  const bytes = await gunzipIfNeeded(input);
  const hash = sha256(bytes);
  const key = toHex(hash);
  let entry = compiledCache.get(key);
  if (!entry) {
    let info: ModuleInfo;
    try {
      info = parseModule(bytes);
    } catch (e) {
      if (e instanceof WasmFormatError)
        throw new InvalidModuleError(e.message, {
          cause: e,
          error: hypervisorError.invalidWasm(`Failed to decode wasm module: ${e.message}`, { kind: 'none' }),
        });
      throw e;
    }
    let metered: Uint8Array;
    let counterExport: string | undefined;
    try {
      ({ bytes: metered, counterExport } = await instrumentForMetering(bytes));
    } catch (e) {
      throw new InvalidModuleError(`the module could not be instrumented for metering: ${(e as Error).message}`, { cause: e });
    }
    let tracked: Uint8Array | undefined;
    try {
      tracked = trackDirtyPages(metered);
    } catch {
      tracked = undefined; // rolled back by full copies instead
    }
    const prepare = (b: Uint8Array) => {
      const i = b === bytes ? info : parseModule(b);
      return { info: i, bytes: exposeInternals(b, i) };
    };
    let compiled: WebAssembly.Module | undefined;
    let meteredInfo: ModuleInfo = info;
    let dirtyTracking = false;
    if (tracked) {
      // Needs multi-memory (Node 24, current browsers); without it, fall back to full copies.
      const t = prepare(tracked);
      compiled = await WebAssembly.compile(t.bytes as BufferSource).catch(() => undefined);
      if (compiled) {
        meteredInfo = t.info;
        dirtyTracking = true;
      }
    }
    if (!compiled) {
      const p = prepare(metered);
      meteredInfo = p.info;
      try {
        compiled = await WebAssembly.compile(p.bytes as BufferSource);
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
    entry = { compiled, counterExport, info: meteredInfo, dirtyTracking };
    if (compiledCache.size > 64) compiledCache.clear();
    compiledCache.set(key, entry);
  }
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
  };
}
