// Runs one entry point of a canister atomically (interface spec, "Abstract behaviour": if a
// message traps, the canister's state is as before it, and its outgoing calls and response are
// discarded). Heap and mutable globals are snapshotted, stable memory journaled, the cycle
// balance saved; a trap — or a query, which never persists — puts all of it back.
import { CanisterTrap, type Closure, type MessageContext } from '../system-api/context.ts';
import { ErrorCode } from '../ic/reject-codes.ts';
import { BAD_SIGNATURE_MESSAGE, hypervisorError, TrapCode, type HypervisorError } from '../ic/user-errors.ts';
import type { Canister } from './canister.ts';
import type { WasmInstance } from './instance.ts';
import type { StableMemory } from './stable-memory.ts';
import { callPromising, canSuspendWasm, ExecutionAborted, suspendingFunction } from './slicing.ts';
import { StableMemoryAccessMeter } from '../metering/stable-access.ts';

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
  /** A sliced execution the scheduler aborted while paused: rolled back like a trap, to run again from the start. */
  aborted?: boolean;
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
  if (isOpen(canister)) {
    if (options.persist && !options.sandbox) throw new Error(`execute: canister ${canister.idText} already runs a replicated message`);
    return onCommittedState(canister, () => execute(canister, ctx, entry, options));
  }
  // A query or inspect_message is never sliced: it runs on the module without the slicing hook
  // when that variant is ready (metering/unsliced.ts; same counts and outcome, faster loops).
  const unsliced = options.persist ? undefined : canister.unslicedInstance();
  if (unsliced) return onInstance(canister, unsliced, () => executeOn(canister, ctx, entry, options));
  const result = executeOn(canister, ctx, entry, options);
  if (!options.persist) canister.noteHooked(result.instructions);
  return result;
}

function executeOn(canister: Canister, ctx: MessageContext, entry: Entry, options: ExecuteOptions): ExecutionResult {
  const run = begin(canister, ctx, options, options.budget);
  try {
    if ('export' in entry) run.instance.callExport(entry.export);
    else if ('closure' in entry) run.instance.callClosure(entry.closure);
    else run.instance.runStart();
  } catch (e) {
    run.caught(e);
  }
  return end(run);
}

/** Whether a replicated message of the canister has its working memories live on it (executeSliced). */
function isOpen(canister: Canister): boolean {
  return canister.openExecution !== undefined && canister.instance === canister.openExecution.working;
}

/**
 * Runs `fn`, which executes something that never persists (a query, a composite query with its
 * callbacks, inspect_message), on the canister's committed state. A replicated message of the
 * canister holds its live memories while it waits for the event loop (between its Wasm's end and
 * its commit, or around a slice's pause); run on them, the other execution would see the
 * message's uncommitted writes, and its rollback would undo them. On the IC such executions
 * read the last committed state.
 */
export function onCommittedState<T>(canister: Canister, fn: () => T): T {
  if (!isOpen(canister)) return fn();
  const view = canister.openExecution!.committed();
  const working = { instance: canister.instance, stable: canister.stable };
  canister.instance = view.instance;
  canister.stable = view.stable;
  try {
    return fn();
  } finally {
    canister.instance = working.instance;
    canister.stable = working.stable;
  }
}

/** Runs `fn` with `instance` standing in for the canister's own (the unsliced variant's), then puts the canister's back. */
function onInstance<T>(canister: Canister, instance: WasmInstance, fn: () => T): T {
  const own = canister.instance;
  canister.instance = instance;
  try {
    return fn();
  } finally {
    canister.instance = own;
  }
}

/** How a message that may be time-sliced is paused and resumed (execution/slicing.ts). */
export interface Slicing {
  /** Instructions per slice (the IC's MAX_INSTRUCTIONS_PER_SLICE). */
  slice: bigint;
  /**
   * The slice is used up and the message may go on: resolves when the next slice may run (a
   * later round), or rejects with ExecutionAborted when the scheduler aborts the message. The
   * canister shows its committed state meanwhile.
   */
  pause(): Promise<void>;
  /**
   * What the canister shows while the message is paused; default: its instance and stable
   * memory as the message found them. install_code shows the code being replaced instead.
   */
  committedView?: () => { instance?: WasmInstance; stable: StableMemory };
  /**
   * Try the message on the module without the slicing hook first (attemptUnsliced): for
   * messages that start from the canister's instance as it is (updates, callbacks, timers), not
   * for install steps, whose instance the install replaces.
   */
  tryUnsliced?: boolean;
}

/**
 * As `execute`, for a message that may run longer than a slice: it starts with one slice's
 * instructions in the counter; each time they are used up and the message's budget is not,
 * the Wasm is suspended (`slicing.pause`) and resumed with one more slice. Counts and outcome
 * are those of running it in one go: the counter checks fire at the same points, and the budget
 * is the same. Without JSPI it runs in one go.
 */
export async function executeSliced(
  canister: Canister,
  ctx: MessageContext,
  entry: Entry,
  options: ExecuteOptions,
  slicing: Slicing,
): Promise<ExecutionResult> {
  const table = canister.instance?.outOfInstructions;
  const counter = canister.instance?.counter;
  if (!canSuspendWasm || !table || !counter || slicing.slice >= options.budget) return execute(canister, ctx, entry, options);
  // An entry point whose last run needed more than one slice skips the attempt (its time would be lost again).
  const key = 'export' in entry ? entry.export : 'closure' in entry ? 'callback' : undefined;
  if (slicing.tryUnsliced && !(key && canister.longRunning.has(key))) {
    const done = attemptUnsliced(canister, ctx, entry, options, slicing.slice);
    if (done) return done;
    if (key) canister.longRunning.add(key);
  }
  const run = begin(canister, ctx, options, slicing.slice);
  // The budget not yet granted: a System API call may take the counter that far below zero; the
  // next counter check in the Wasm then calls the hook, which pauses or grants the next slice.
  ctx.sliceReserve = () => options.budget - run.granted;
  const working = { instance: run.instance, stable: canister.stable };
  let committed: { instance?: WasmInstance; stable: StableMemory } | undefined;
  // What the canister shows to queries while the message may be paused: its committed state
  // (made when first needed: an instantiation of the committed heap and a copy of stable memory).
  const committedView = () =>
    (committed ??= slicing.committedView?.() ?? {
      instance: canister.instantiateWith(working.instance.module, working.instance.committedState()),
      stable: working.stable.committedCopy(),
    });
  // From here until the message ends, the working memories are live on the canister while the
  // event loop runs: the Wasm's result reaches this function only in a later microtask, and a
  // resumed slice runs only after its pause's promise settles. Executions that arrive meanwhile
  // (queries, inspect_message) see the committed view instead (execute).
  canister.openExecution = { working: run.instance, committed: committedView };
  const hook = suspendingFunction(async () => {
    // Called with the counter negative. Out of the message's budget: stop, as unsliced.
    while ((counter.value as bigint) < 0n) {
      if (run.granted >= options.budget) throw new OutOfInstructions();
      // Paused: the canister shows its committed state to queries and the store meanwhile.
      const view = committedView();
      canister.instance = view.instance;
      canister.stable = view.stable;
      canister.context = run.previous;
      Error.stackTraceLimit = run.stackTraceLimit;
      try {
        await slicing.pause();
      } finally {
        canister.instance = working.instance;
        canister.stable = working.stable;
        canister.context = ctx;
        Error.stackTraceLimit = BACKTRACE_FRAMES;
      }
      const more = options.budget - run.granted < slicing.slice ? options.budget - run.granted : slicing.slice;
      run.granted += more;
      counter.value = (counter.value as bigint) + more;
    }
  });
  table.set(0, hook);
  let aborted = false;
  try {
    const target = run.instance.entryTarget(entry);
    if (target) await callPromising(target.fn, target.args);
  } catch (e) {
    // Aborted while paused: the Wasm unwound from the hook; roll back as for a trap.
    if (e instanceof ExecutionAborted) aborted = true;
    run.caught(e);
  } finally {
    table.set(0, null);
    ctx.sliceReserve = undefined;
    canister.openExecution = undefined;
    canister.instance = working.instance;
    canister.stable = working.stable;
  }
  const result = end(run);
  if (aborted) result.aborted = true;
  if (slicing.tryUnsliced) {
    canister.noteHooked(result.instructions);
    if (key && result.instructions <= slicing.slice) canister.longRunning.delete(key);
  }
  return result;
}

/**
 * Runs a message that may be time-sliced on the module without the slicing hook
 * (metering/unsliced.ts), faster, with one slice's instructions. Most messages end within one
 * slice: then this is the message's execution, its changes are copied to the canister's
 * instance and its effects (debug prints, notes of refused calls: `MessageContext.effects`)
 * happen. A message that uses up the slice is rolled back like a trap, with its context and
 * effects, and undefined says to run it again from the start on the
 * hooked module, where it can pause: the same instructions in the same round, so the outcome
 * and counts are those of running it there in the first place, at the cost of the discarded
 * slice's time (once: the canister then remembers the entry point as long-running until a run
 * of it fits in one slice again). Undefined also when there is no variant.
 */
function attemptUnsliced(canister: Canister, ctx: MessageContext, entry: Entry, options: ExecuteOptions, slice: bigint): ExecutionResult | undefined {
  if (!options.persist || options.sandbox) return undefined;
  const unsliced = canister.unslicedInstance();
  const instance = canister.instance;
  if (!unsliced || !instance) return undefined;
  const saved = saveContext(ctx);
  const effects: Array<() => void> = [];
  ctx.effects = effects;
  let result: ExecutionResult;
  try {
    result = onInstance(canister, unsliced, () => executeOn(canister, ctx, entry, { ...options, budget: slice }));
  } finally {
    ctx.effects = undefined;
  }
  if (result.trap?.errorCode === ErrorCode.CanisterInstructionLimitExceeded) {
    restoreContext(ctx, saved);
    return undefined;
  }
  // Its debug prints and notes, in the order they were made.
  for (const run of effects) run();
  // The canister's instance catches up: the pages the message wrote, its globals.
  if (!result.trap) instance.syncFrom(unsliced);
  return result;
}

/** What a message's execution changes in its context, to put back after a discarded attempt. */
function saveContext(ctx: MessageContext): MessageContext {
  const saved = { ...ctx, replyBuffer: [...ctx.replyBuffer], outgoing: [...ctx.outgoing] };
  if (ctx.stableAccess instanceof StableMemoryAccessMeter) saved.stableAccess = ctx.stableAccess.clone();
  return saved;
}

function restoreContext(ctx: MessageContext, saved: MessageContext): void {
  for (const key of Object.keys(ctx)) if (!(key in saved)) delete (ctx as unknown as Record<string, unknown>)[key];
  Object.assign(ctx, saved);
}

/** Thrown by the out-of-instructions hook when the message's budget is spent; the counter stays negative (classifyTrap). */
class OutOfInstructions extends Error {
  constructor() {
    super('out of instructions');
  }
}

interface Run {
  canister: Canister;
  ctx: MessageContext;
  options: ExecuteOptions;
  instance: WasmInstance;
  started: number;
  balance: bigint;
  sandbox: boolean;
  counter?: WebAssembly.Global;
  /** Instructions put in the counter so far (the budget, or the slices granted). */
  granted: bigint;
  previous?: MessageContext;
  stackTraceLimit: number;
  trap?: TrapInfo;
  caught(e: unknown): void;
}

function begin(canister: Canister, ctx: MessageContext, options: ExecuteOptions, firstGrant: bigint): Run {
  const instance = canister.instance;
  if (!instance) throw new Error(`execute: canister ${canister.idText} has no module`);
  const started = performance.now();
  instance.beginMessage();
  const balance = canister.balance;
  const sandbox = options.sandbox === true;
  if (!sandbox) canister.stable.begin();
  const counter = instance.counter;
  if (counter) counter.value = firstGrant;
  const prior = options.priorInstructions ?? 0n;
  const run: Run = {
    canister,
    ctx,
    options,
    instance,
    started,
    balance,
    sandbox,
    counter,
    granted: firstGrant,
    previous: canister.context,
    stackTraceLimit: Error.stackTraceLimit,
    caught(e: unknown) {
      const frames = instance.wasmFrameNames(e);
      run.trap = {
        ...classifyTrap(e, counter ? (counter.value as bigint) < 0n : false, options.budget + prior, frames),
        functionName: instance.wasmFrames(e),
      };
    },
  };
  ctx.instructionCounter = () => prior + used(run);
  canister.context = ctx;
  // The IC's backtrace lists every frame; V8 records ten by default.
  Error.stackTraceLimit = BACKTRACE_FRAMES;
  return run;
}

const used = (run: Run): bigint => (run.counter ? run.granted - (run.counter.value as bigint) : 0n);

function end(run: Run): ExecutionResult {
  const { canister, ctx, options, instance, balance, sandbox } = run;
  canister.context = run.previous;
  Error.stackTraceLimit = run.stackTraceLimit;
  let trap = run.trap;
  if (!trap && options.persist && options.wasmMemoryLimit && BigInt(instance.heapBytes) > options.wasmMemoryLimit) {
    trap = hypervisorError.wasmMemoryLimitExceeded(BigInt(instance.heapBytes), options.wasmMemoryLimit);
  }
  const instructions = used(run) < 0n ? options.budget : used(run);
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
  return { trap, instructions, durationMs: performance.now() - run.started };
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

function classifyTrap(e: unknown, outOfInstructions: boolean, budget: bigint, frames: string[] | undefined): HypervisorError {
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
