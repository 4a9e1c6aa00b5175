// What a demo needs after its canisters are installed, in one place for every deploy path
// (the integration tests, `npm start`, `npm run deploy`): works on any actor built from the
// generated declarations, whatever agent or replica made it.
//
// stable-memory: install the three stores with the lab among their controllers, then
//   wireLab(lab, { classic, region, eop }) registers each store and uploads its module.
// composite-queries: setupComposite(front) creates the partitions (the front needs cycles).
// sharding: nothing; the index creates buckets as keys arrive (it needs cycles).
import type { Principal } from '@dfinity/principal';
import type { _SERVICE as LabService, Which, Error as CanisterError } from '../src/declarations/lab/lab.did.ts';
import type { _SERVICE as FrontService, PartitionInfo } from '../src/declarations/composite-front/composite-front.did.ts';

export type StoreName = 'stable-memory-classic' | 'stable-memory-region' | 'stable-memory-eop';

/** The lab's name for each store canister. */
export const labWhich: Record<StoreName, Which> = {
  'stable-memory-classic': { classic: null },
  'stable-memory-region': { region: null },
  'stable-memory-eop': { eop: null },
};

/** Under the lab's 1 MB chunk limit and the IC's 2 MiB ingress limit, with room for framing. */
export const moduleChunkBytes = 1_000_000;

/** Renders a canister's error variant as one readable line. */
export function describeError(error: CanisterError): string {
  const [kind, detail] = Object.entries(error)[0] as [string, unknown];
  if (kind === 'rateLimited') {
    const { message, retryAfterSeconds } = detail as { message: string; retryAfterSeconds: bigint };
    return `rateLimited: ${message} (retry after ${retryAfterSeconds} s)`;
  }
  return `${kind}: ${String(detail)}`;
}

/** The `ok` value of a canister Result, or an Error naming what was asked and why it was refused. */
export function unwrap<T>(result: { ok: T } | { err: CanisterError }, what: string): T {
  if ('ok' in result) return result.ok;
  throw new Error(`${what} was refused: ${describeError(result.err)}`);
}

/** Sends a store's module to the lab in chunks; the lab assembles it when the last one arrives. */
export async function uploadStoreModule(lab: LabService, store: StoreName, wasm: Uint8Array): Promise<void> {
  const which = labWhich[store];
  unwrap(await lab.beginModuleUpload(which, BigInt(wasm.byteLength)), `lab.beginModuleUpload(${store})`);
  for (let offset = 0; offset < wasm.byteLength; offset += moduleChunkBytes) {
    const chunk = wasm.subarray(offset, Math.min(wasm.byteLength, offset + moduleChunkBytes));
    const info = unwrap(await lab.appendModuleChunk(which, chunk), `lab.appendModuleChunk(${store}, offset ${offset})`);
    if (offset + chunk.byteLength === wasm.byteLength && !info.moduleReady) {
      throw new Error(`the lab did not report the ${store} module ready after its last chunk (${info.moduleBytes} bytes received)`);
    }
  }
}

/** Registers the three stores with the lab and uploads the module each one runs. Call as a lab controller. */
export async function wireLab(
  lab: LabService,
  stores: Record<StoreName, { canisterId: Principal; wasm: Uint8Array }>,
): Promise<void> {
  for (const [store, { canisterId, wasm }] of Object.entries(stores) as [StoreName, { canisterId: Principal; wasm: Uint8Array }][]) {
    unwrap(await lab.register(labWhich[store], canisterId), `lab.register(${store})`);
    await uploadStoreModule(lab, store, wasm);
  }
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
