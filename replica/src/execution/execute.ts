// Runs one entry point of a canister atomically (interface spec, "Abstract behaviour": if a
// message traps, the canister's state is as before it, and its outgoing calls and response are
// discarded). Heap and mutable globals are snapshotted, stable memory journaled, the cycle
// balance saved; a trap — or a query, which never persists — puts all of it back.
import { CanisterTrap, type Closure, type MessageContext } from '../system-api/context.ts';
import { ErrorCode } from '../ic/reject-codes.ts';
import { BAD_SIGNATURE_MESSAGE, hypervisorError, TrapCode, type HypervisorError } from '../ic/user-errors.ts';
import type { Canister } from './canister.ts';

export type Entry = { export: string } | { closure: Closure } | { start: true };

/**
 * Why a message failed, as the IC's HypervisorError describes it (ic/user-errors.ts), plus
 * `functionName`: where it happened, for the log line only ("a ← b ← c", innermost first).
 */
export type TrapInfo = HypervisorError & {
  functionName?: string;
  /** The description is complete as it stands (no "Error from Canister …" around it): out-of-cycles checks before execution. */
  plain?: boolean;
};

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
  /** Instruction budget (see metering/INTEGRATION.md); ignored while the module is unmetered. */
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

/**
 * Frames V8 records for a trap's backtrace. Deliberate difference: the IC lists every frame,
 * also the thousands of a stack overflow; a trap's reject message here lists at most this many.
 */
const BACKTRACE_FRAMES = 200;

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
  // The IC's backtrace lists every frame; V8 records ten by default.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = BACKTRACE_FRAMES;
  try {
    if ('export' in entry) instance.callExport(entry.export);
    else if ('closure' in entry) instance.callClosure(entry.closure);
    else instance.runStart();
  } catch (e) {
    const frames = instance.wasmFrameNames(e);
    trap = {
      ...classifyTrap(canister, e, counter ? (counter.value as bigint) < 0n : false, options.budget + (options.priorInstructions ?? 0n), frames),
      functionName: instance.wasmFrames(e),
    };
  } finally {
    canister.context = previous;
    Error.stackTraceLimit = stackTraceLimit;
  }
  if (!trap && options.persist && options.wasmMemoryLimit && BigInt(instance.heapBytes) > options.wasmMemoryLimit) {
    trap = hypervisorError.wasmMemoryLimitExceeded(BigInt(instance.heapBytes), options.wasmMemoryLimit);
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

/**
 * V8's trap messages and the IC's trap codes for the same Wasm traps (the IC maps wasmtime's
 * traps in rs/embedders/src/wasmtime_embedder.rs: stack overflow, out-of-bounds memory and
 * table accesses, division by zero and unreachable have codes of their own; every other trap,
 * e.g. an integer overflow in i32.div_s or a float-to-int conversion, is "unknown").
 */
const V8_TRAPS: Array<[RegExp, TrapCode]> = [
  [/^unreachable/, TrapCode.Unreachable],
  [/(divide|remainder) by zero/, TrapCode.IntegerDivByZero],
  [/memory access out of bounds|out of bounds memory access/, TrapCode.HeapOutOfBounds],
  [/table index is out of bounds|out of bounds table access|table out of bounds/, TrapCode.TableOutOfBounds],
];

function classifyTrap(canister: Canister, e: unknown, outOfInstructions: boolean, budget: bigint, frames: string[] | undefined): HypervisorError {
  if (outOfInstructions) return hypervisorError.instructionLimitExceeded(budget);
  if (e instanceof CanisterTrap) {
    if (e.error)
      return frames && (e.error.errorCode === ErrorCode.CanisterTrapped || e.error.errorCode === ErrorCode.CanisterCalledTrap)
        ? { ...e.error, backtrace: frames }
        : e.error;
    if (e.called) return hypervisorError.calledTrap(e.message, frames);
    if (e.errorCode === ErrorCode.CanisterContractViolation) return hypervisorError.toolchainContractViolation(e.message);
    if (e.errorCode === ErrorCode.CanisterMemoryAccessLimitExceeded) return hypervisorError.memoryAccessLimitExceeded(e.message);
    if (e.errorCode) return hypervisorError.other(e.errorCode, e.message);
    return hypervisorError.toolchainContractViolation(e.message);
  }
  if (e instanceof WebAssembly.RuntimeError) {
    if (/signature mismatch/.test(e.message) && !/null function/.test(e.message)) return hypervisorError.toolchainContractViolation(BAD_SIGNATURE_MESSAGE);
    const code = V8_TRAPS.find(([re]) => re.test(e.message))?.[1] ?? TrapCode.Other;
    return hypervisorError.trapped(code, frames);
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) return hypervisorError.trapped(TrapCode.StackOverflow, frames);
  // A host-side failure must not take the replica down: the IC reports its own failures as a
  // Wasm engine error (IC0521); the cause goes to the log line with the function name.
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return hypervisorError.other(ErrorCode.CanisterWasmEngineError, `Canister encountered a Wasm engine error: Unexpected WasmEngineError: ${text}`);
}
