// install_code (interface spec, "IC method install_code"): install, reinstall and upgrade,
// each atomic — if any step traps, the canister is left exactly as it was. Upgrades run
// canister_pre_upgrade on the old instance (unless skip_pre_upgrade), then the start function
// and canister_post_upgrade on a fresh instance of the new module; stable memory is kept, and
// main memory too when enhanced orthogonal persistence asks for it (wasm_memory_persistence =
// keep). The start function runs after retained memory is loaded: Motoko's EOP runtime checks
// it (else "unexpected state entering InInit").
import { ErrorCode } from '../ic/reject-codes.ts';
import { canisterManagerError, executionFailure, hypervisorError, toUserError, userErrorResponse, type HypervisorError } from '../ic/user-errors.ts';
import { mayReadLogs } from '../execution/canister.ts';
import type { Canister } from '../execution/canister.ts';
import { StableMemory } from '../execution/stable-memory.ts';
import { InvalidModuleError, loadModule, type LoadedModule } from '../execution/module.ts';
import type { WasmInstance } from '../execution/instance.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { ApiKind } from '../system-api/context.ts';

export type InstallMode =
  | { install: null }
  | { reinstall: null }
  | { upgrade: [] | [{ skip_pre_upgrade: [] | [boolean]; wasm_memory_persistence: [] | [{ keep: null } | { replace: null }] }] };

export const modeName = (mode: InstallMode): 'install' | 'reinstall' | 'upgrade' =>
  'install' in mode ? 'install' : 'reinstall' in mode ? 'reinstall' : 'upgrade';

const executionFailureOf = (id: string, e: HypervisorError, showBacktrace = false): CallResponse => executionFailure(id, e, showBacktrace);

/** Returns undefined on success, or the reject to send back. */
export async function installCode(
  s: Scheduler,
  canister: Canister,
  mode: InstallMode,
  wasm: Uint8Array,
  arg: Uint8Array,
  caller: Uint8Array,
): Promise<CallResponse | undefined> {
  const id = canister.idText;
  let module: LoadedModule;
  try {
    module = await loadModule(wasm, s.moduleOptions);
  } catch (e) {
    if (e instanceof InvalidModuleError) {
      if (e.error) return userErrorResponse(toUserError(id, e.error));
      return executionFailureOf(id, hypervisorError.invalidWasm(e.message, { kind: 'none' }));
    }
    throw e;
  }
  const name = modeName(mode);
  if (name === 'install' && canister.module) {
    return userErrorResponse(canisterManagerError.canisterNonEmpty(id));
  }
  if (name === 'upgrade' && !canister.module) {
    return executionFailureOf(id, hypervisorError.wasmModuleNotFound());
  }
  const options = 'upgrade' in mode ? mode.upgrade[0] : undefined;
  const persistence = options?.wasm_memory_persistence[0];
  const keepMemory = persistence !== undefined && 'keep' in persistence;
  if (name === 'upgrade') {
    if (canister.module!.enhancedOrthogonalPersistence && persistence === undefined) {
      return userErrorResponse(
        canisterManagerError.missingUpgradeOption('Enhanced orthogonal persistence requires the `wasm_memory_persistence` upgrade option.'),
      );
    }
    if (keepMemory && !module.enhancedOrthogonalPersistence) {
      return userErrorResponse(
        canisterManagerError.invalidUpgradeOption(
          'The `wasm_memory_persistence: opt Keep` upgrade option requires that the new canister module supports enhanced orthogonal persistence.',
        ),
      );
    }
  }

  // Everything below is one transaction over the canister's state.
  const saved = {
    instance: canister.instance,
    heap: canister.instance?.snapshot(),
    stable: canister.stable,
    certifiedData: canister.certifiedData,
    globalTimer: canister.globalTimer,
    balance: canister.balance,
  };
  const restore = () => {
    canister.instance = saved.instance;
    if (saved.instance && saved.heap) saved.instance.restore(saved.heap);
    canister.stable = saved.stable;
    if (name === 'upgrade') canister.stable.rollback();
    canister.certifiedData = saved.certifiedData;
    canister.globalTimer = saved.globalTimer;
    canister.balance = saved.balance;
  };
  // The steps form one message: one instruction budget, and performance_counter(0) in
  // post_upgrade includes what pre_upgrade and the start function used.
  let usedSoFar = 0n;
  // Each step may be time-sliced (Scheduler.runInstallStep); while it is paused the canister
  // shows the code, main memory and stable memory as they were before install_code began (a
  // finished pre_upgrade has changed the old instance's memory, which must not show: Motoko's
  // runtime, left in its upgrade state, traps on every query), and that is what a commit taken
  // meanwhile writes, with the request back in the subnet queue.
  let before: WasmInstance | undefined;
  const view = () => ({
    instance: saved.instance && saved.heap ? (before ??= canister.instantiateWith(saved.instance.module, saved.heap)) : undefined,
    stable: name === 'upgrade' ? saved.stable.committedCopy() : saved.stable,
  });
  // Certified data and the global timer keep their old values until the install succeeds (a
  // commit during a pause must not show them cleared beside the old code); the steps after the
  // code change see the timer deactivated (ic0.global_timer_set returns 0), and what they set
  // themselves is kept.
  let codeChanged = false;
  let timerSet = false;
  let certifiedSet = false;
  const step = async (
    kind: ApiKind,
    entry: { export: string } | { start: true },
    label: string,
    stepArg: Uint8Array = new Uint8Array(),
  ): Promise<CallResponse | undefined> => {
    const ctx = s.newContext(canister, kind, { caller, arg: stepArg, methodName: label, ...(codeChanged ? { previousGlobalTimer: 0n } : {}) });
    const result = await s.runInstallStep(canister, ctx, entry, { method: label }, usedSoFar, view);
    if (codeChanged && !result.trap) {
      timerSet ||= ctx.globalTimer !== undefined;
      certifiedSet ||= ctx.certifiedData !== undefined;
    }
    usedSoFar += result.instructions;
    if (!result.trap) return undefined;
    // The IC reports the failure of canister_init, pre_upgrade or post_upgrade as it is; the
    // step's name goes to the log line (Scheduler.run).
    return executionFailureOf(id, result.trap, mayReadLogs(canister, caller));
  };

  let oldHeap: Uint8Array | undefined;
  if (name === 'upgrade') {
    canister.stable.begin();
    const skip = options?.skip_pre_upgrade[0] === true;
    if (!skip && saved.instance!.hasExport('canister_pre_upgrade')) {
      const problem = await step('G', { export: 'canister_pre_upgrade' }, 'canister_pre_upgrade');
      if (problem) {
        restore();
        return problem;
      }
    }
    if (keepMemory) oldHeap = new Uint8Array(saved.instance!.memory.buffer).slice();
  } else {
    canister.stable = new StableMemory();
  }

  let fresh: WasmInstance;
  try {
    fresh = canister.instantiate(module);
  } catch (e) {
    restore();
    s.log.info(`install_code on ${id}: the module could not be instantiated: ${(e as Error).message}`);
    return executionFailureOf(
      id,
      hypervisorError.other(
        ErrorCode.CanisterWasmEngineError,
        `Canister encountered a Wasm engine error: Failed to instantiate module: ${(e as Error).message}`,
      ),
    );
  }
  if (oldHeap) fresh.loadMemory(oldHeap);
  canister.instance = fresh;
  codeChanged = true;

  const problem =
    (await step('s', { start: true }, '(start)')) ??
    (fresh.hasExport(name === 'upgrade' ? 'canister_post_upgrade' : 'canister_init')
      ? await step(
          'I',
          { export: name === 'upgrade' ? 'canister_post_upgrade' : 'canister_init' },
          name === 'upgrade' ? 'canister_post_upgrade' : 'canister_init',
          arg,
        )
      : undefined);
  if (problem) {
    restore();
    return problem;
  }
  // The spec deactivates the global timer on every code change, and install and reinstall start
  // with empty certified data, unless the new code set them.
  if (!timerSet) canister.globalTimer = 0n;
  if (name !== 'upgrade' && !certifiedSet) canister.certifiedData = new Uint8Array();
  if (name === 'upgrade') canister.stable.commit();
  else if (saved.instance) s.rejectOpenCallContexts(canister, `Canister ${id} has been reinstalled`);
  canister.version += 1n;
  return undefined;
}
