// Runs one entry point of a canister atomically (interface spec, "Abstract behaviour": if a
// message traps, the canister's state is as before it, and its outgoing calls and response are
// discarded). Heap and mutable globals are snapshotted, stable memory journaled, the cycle
// balance saved; a trap — or a query, which never persists — puts all of it back.
import { CanisterTrap, type Closure, type MessageContext } from '../system-api/context.ts';
import { ErrorCode } from '../ic/reject-codes.ts';
import type { Canister } from './canister.ts';

export type Entry = { export: string } | { closure: Closure } | { start: true };

export interface TrapInfo {
  errorCode: ErrorCode;
  /** What the canister did, in the IC's words. */
  message: string;
  /** The Wasm functions the trap happened in, innermost first ("a ← b ← c"), from the name section. */
  functionName?: string;
}

export interface ExecutionResult {
  trap?: TrapInfo;
  instructions: bigint;
  durationMs: number;
  /** Cycles charged for the execution (set by the scheduler for update-type messages). */
  cycles?: bigint;
}

export interface ExecuteOptions {
  /** false for queries: state changes are discarded even when the message succeeds. */
  persist: boolean;
  /** Instruction budget (contract E); ignored while the module is unmetered. */
  budget: bigint;
  /**
   * Instructions already used by earlier parts of the same message: install_code runs
   * pre_upgrade, start and post_upgrade as one message with one budget, and
   * performance_counter(0) counts from its beginning.
   */
  priorInstructions?: bigint;
  /** The canister's wasm_memory_limit in bytes (0: none); checked before the message's changes are kept. */
  wasmMemoryLimit?: bigint;
  /**
   * Part of a composite query: changes stay in the live memory for the rest of the query but
   * never reach the committed state (the shadow copy), which the query's end restores; a trap
   * puts heap and stable memory back to that committed state.
   */
  sandbox?: boolean;
}

export function execute(canister: Canister, ctx: MessageContext, entry: Entry, options: ExecuteOptions): ExecutionResult {
  const instance = canister.instance;
  if (!instance) throw new Error(`execute: canister ${canister.idText} has no module`);
  const started = performance.now();
  instance.beginMessage();
  const balance = canister.balance;
  const sandbox = options.sandbox === true;
  if (!sandbox) canister.stable.begin();
  const counter = instance.counter;
  if (counter) counter.value = options.budget;
  const used = () => (counter ? options.budget - (counter.value as bigint) : 0n);
  const prior = options.priorInstructions ?? 0n;
  ctx.instructionCounter = () => prior + used();
  const previous = canister.context;
  canister.context = ctx;
  let trap: TrapInfo | undefined;
  try {
    if ('export' in entry) instance.callExport(entry.export);
    else if ('closure' in entry) instance.callClosure(entry.closure);
    else instance.runStart();
  } catch (e) {
    trap = classifyTrap(canister, e, counter ? (counter.value as bigint) < 0n : false, options.budget + (options.priorInstructions ?? 0n));
    if (!trap.functionName) trap.functionName = instance.wasmFrames(e);
  } finally {
    canister.context = previous;
  }
  if (!trap && options.persist && options.wasmMemoryLimit && BigInt(instance.heapBytes) > options.wasmMemoryLimit) {
    trap = {
      errorCode: ErrorCode.CanisterWasmMemoryLimitExceeded,
      message: `Canister exceeded its current Wasm memory limit of ${options.wasmMemoryLimit} bytes. The peak Wasm memory usage was ${instance.heapBytes} bytes. Raise wasm_memory_limit with update_settings, or make the canister use less memory.`,
    };
  }
  const instructions = used() < 0n ? options.budget : used();
  if (sandbox) {
    if (trap) {
      instance.rollbackMessage();
      canister.stable.rollback(); // the query's journal: back to the committed state
      canister.stable.begin();
      canister.balance = balance;
    }
  } else if (trap || !options.persist) {
    instance.rollbackMessage();
    canister.stable.rollback();
    canister.balance = balance;
  } else {
    instance.commitMessage();
    canister.stable.commit();
    if (ctx.certifiedData) canister.certifiedData = ctx.certifiedData;
    if (ctx.globalTimer !== undefined) canister.globalTimer = ctx.globalTimer;
  }
  if (trap) {
    // A trapping message answers nothing and sends nothing (interface spec).
    ctx.outcome = undefined;
    ctx.outgoing = [];
    ctx.building = undefined;
  } else if (ctx.building) {
    // A call built but never performed is dropped; its cycles go back (spec: call_new).
    if (options.persist) canister.balance += ctx.building.cycles;
    ctx.building = undefined;
  }
  return { trap, instructions, durationMs: performance.now() - started };
}

function classifyTrap(canister: Canister, e: unknown, outOfInstructions: boolean, budget: bigint): TrapInfo {
  if (outOfInstructions) {
    return {
      errorCode: ErrorCode.CanisterInstructionLimitExceeded,
      message: `Canister exceeded the limit of ${budget} instructions for single message execution.`,
    };
  }
  if (e instanceof CanisterTrap && e.errorCode === ErrorCode.CanisterContractViolation) {
    return { errorCode: ErrorCode.CanisterContractViolation, message: `Canister ${canister.idText} violated contract: ${e.message}` };
  }
  if (e instanceof CanisterTrap && e.errorCode) {
    return { errorCode: e.errorCode, message: `Canister trapped: ${e.message}` };
  }
  if (e instanceof CanisterTrap) {
    return e.called
      ? { errorCode: ErrorCode.CanisterCalledTrap, message: `Canister called \`ic0.trap\` with message: '${e.message}'` }
      : { errorCode: ErrorCode.CanisterTrapped, message: `Canister trapped: ${e.message}` };
  }
  if (e instanceof WebAssembly.RuntimeError) {
    return { errorCode: ErrorCode.CanisterTrapped, message: `Canister trapped: ${e.message}` };
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return { errorCode: ErrorCode.CanisterTrapped, message: 'Canister trapped: stack overflow' };
  }
  // A host-side failure must not take the replica down: report it as a trap that says so.
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { errorCode: ErrorCode.CanisterTrapped, message: `Canister trapped: replica error while executing ${canister.idText}: ${text}` };
}
