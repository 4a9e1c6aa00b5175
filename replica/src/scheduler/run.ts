// Running one entry point of a canister, the way every execution of the scheduler runs: the
// instruction budget, the prepayment of update-type executions (and the refusal of one the
// canister cannot pay), the execution itself (execution/execute.ts), plain or time-sliced, then
// the charge for what it used, the canister version, the query cache, the canister log and one
// line of the replica's log. `runInstallStep` is install_code's step, sliced with the install
// slice and recorded as paused while it waits for the next round (paused.ts).
import type { Canister } from '../execution/canister.ts';
import { execute, executeSliced, type Entry, type ExecutionResult } from '../execution/execute.ts';
import type { WasmInstance } from '../execution/instance.ts';
import { ExecutionAborted } from '../execution/slicing.ts';
import type { StableMemory } from '../execution/stable-memory.ts';
import { OutOfCyclesError, prepayExecution, type CyclesState } from '../cycles/account.ts';
import { ErrorCode } from '../ic/reject-codes.ts';
import { hypervisorError, trapLogRecord } from '../ic/user-errors.ts';
import { formatDuration, formatInstructions } from '../log.ts';
import { formatCycles } from '../metering/stable-access.ts';
import type { ApiKind, MessageContext } from '../system-api/context.ts';
import { chargedKinds } from './message-context.ts';
import { endSliced, notePaused, sliceChannel, type PausedHost } from './paused.ts';
import type { QueryCache } from './query-cache.ts';
import type { SliceChannel } from './slicing.ts';
import type { Limits } from '../limits.ts';

/** What running an entry point needs of the scheduler (the Scheduler passes itself). */
export interface RunHost extends PausedHost {
  readonly limits: Limits;
  readonly queryCache?: QueryCache;
  budgetFor(kind: ApiKind): bigint;
  callerName(caller: Uint8Array): string;
  cyclesState(canister: Canister): CyclesState;
  scheduleRounds(): void;
}

/** Entry points whose successful replicated execution bumps the canister version. */
const VERSION_BUMPING_KINDS: ReadonlySet<ApiKind> = new Set<ApiKind>(['U', 'RQ', 'Ry', 'Rt', 'C', 'T']);

/**
 * Executes an entry point and logs one line for it. `persist`: true keeps the changes, false
 * discards them, 'sandbox' keeps them until the composite query ends (execute.ts).
 */
export function run(
  s: RunHost,
  canister: Canister,
  ctx: MessageContext,
  entry: Entry,
  persist: boolean | 'sandbox',
  label: { method: string; callerName?: string },
  priorInstructions = 0n,
): ExecutionResult {
  const prepared = prepare(s, canister, ctx, label, priorInstructions);
  if ('refused' in prepared) return prepared.refused;
  const result = execute(canister, ctx, entry, executeOptions(canister, ctx, persist, prepared.budget, priorInstructions));
  return complete(s, canister, ctx, persist, label, result, prepared.payment);
}

/**
 * As `run`, for a replicated message that deterministic time slicing may pause: `channel`
 * hears of each slice used up and says when the next may run (a later round).
 */
export async function runSliced(
  s: RunHost,
  canister: Canister,
  ctx: MessageContext,
  entry: Entry,
  label: { method: string; callerName?: string },
  channel: SliceChannel,
  priorInstructions = 0n,
): Promise<ExecutionResult> {
  const prepared = prepare(s, canister, ctx, label, priorInstructions);
  if ('refused' in prepared) return prepared.refused;
  const options = executeOptions(canister, ctx, true, prepared.budget, priorInstructions);
  const result = await executeSliced(canister, ctx, entry, options, { slice: BigInt(channel.sliceLimit), pause: channel.pause, tryUnsliced: true });
  endSliced(s.state, canister.idText, channel);
  // Aborted while paused (abortPausedAboveLimit): rolled back, no effects; the message is queued again.
  if (result.aborted) throw new ExecutionAborted();
  return complete(s, canister, ctx, true, label, result, prepared.payment);
}

/**
 * One step of install_code (start, init, pre_upgrade, post_upgrade), time-sliced with the
 * install slice as the IC slices long installs and upgrades: it may pause, and the following
 * rounds continue it while other canisters run; the canister shows `view` meanwhile and
 * management messages about it wait. Resolves when the step has ended.
 */
export async function runInstallStep(
  s: RunHost,
  canister: Canister,
  ctx: MessageContext,
  entry: Entry,
  label: { method: string },
  priorInstructions: bigint,
  view?: () => { instance?: WasmInstance; stable: StableMemory },
): Promise<ExecutionResult> {
  const channel = sliceChannel(canister, s.limits.instructionsPerInstallSlice);
  const paused = channel.nextPause();
  const prepared = prepare(s, canister, ctx, label, priorInstructions);
  if ('refused' in prepared) return prepared.refused;
  const options = executeOptions(canister, ctx, true, prepared.budget, priorInstructions);
  const done = executeSliced(canister, ctx, entry, options, { slice: BigInt(channel.sliceLimit), pause: channel.pause, committedView: view }).then((result) => {
    endSliced(s.state, canister.idText, channel);
    return complete(s, canister, ctx, true, label, result, prepared.payment);
  });

  const first = await Promise.race([done.then((r) => ({ r })), paused.then(() => undefined)]);
  if (first) return first.r;
  const id = canister.idText;
  s.state.queuesOf(id); // the round loop finds paused executions among the canisters with queues
  notePaused(s, canister.name, { canister: id, label: label.method, channel, done: done.then((r) => r.instructions) });
  s.scheduleRounds();
  return done;
}

function executeOptions(canister: Canister, ctx: MessageContext, persist: boolean | 'sandbox', budget: bigint, priorInstructions: bigint) {
  // wasm_memory_limit binds replicated executions; queries may use more (interface spec, canister settings).
  const wasmMemoryLimit = ctx.replicated ? canister.settings.wasmMemoryLimit : undefined;
  return { persist: persist !== false, sandbox: persist === 'sandbox', budget, wasmMemoryLimit, priorInstructions };
}

function prepare(
  s: RunHost,
  canister: Canister,
  ctx: MessageContext,
  label: { method: string; callerName?: string },
  priorInstructions: bigint,
): { budget: bigint; payment?: ReturnType<typeof prepayExecution> } | { refused: ExecutionResult } {
  const full = s.budgetFor(ctx.kind);
  const budget = full > priorInstructions ? full - priorInstructions : 0n;
  // Update-type executions prepay their whole instruction budget and get the unused part
  // back; queries and inspect_message are free (cycles/account.ts prepayExecution).
  let payment: ReturnType<typeof prepayExecution> | undefined;
  if (chargedKinds.has(ctx.kind)) {
    try {
      payment = prepayExecution(s.cyclesState(canister), canister.idText, budget, {
        wasm64: canister.module?.info.memory64,
        revealTopUp: canister.isController(ctx.caller),
      });
    } catch (e) {
      if (!(e instanceof OutOfCyclesError)) throw e;
      s.log.emit({
        kind: 'trap',
        level: 'normal',
        text: `${canister.name}.${label.method} (${label.callerName ?? s.callerName(ctx.caller)}) -> not run: ${e.message}`,
      });
      return {
        refused: { trap: { ...hypervisorError.other(ErrorCode.CanisterOutOfCycles, e.message), plain: true }, instructions: 0n, durationMs: 0, cycles: 0n },
      };
    }
  }
  return { budget, payment };
}

function complete(
  s: RunHost,
  canister: Canister,
  ctx: MessageContext,
  persist: boolean | 'sandbox',
  label: { method: string; callerName?: string },
  result: ExecutionResult,
  payment: ReturnType<typeof prepayExecution> | undefined,
): ExecutionResult {
  if (payment) result.cycles = payment.settle(result.instructions).charged;
  // Every successful replicated execution changes the canister's version, replicated queries
  // included (system_api.rs `should_bump_canister_version`); install_code counts once for
  // its init/upgrade steps (management/install.ts).
  if (!result.trap && ctx.replicated && VERSION_BUMPING_KINDS.has(ctx.kind)) canister.version += 1n;
  if (ctx.replicated && persist !== false) canister.checkLowWasmMemory();
  if (persist === true && !result.trap) s.queryCache?.noteChange(canister);
  const logRecord = result.trap && ctx.replicated ? trapLogRecord(result.trap) : undefined;
  if (logRecord) canister.appendLog(logRecord, ctx.time);
  if (!ctx.replicated && ctx.kind !== 'F') canister.queryStats.instructions += result.instructions;
  const caller = label.callerName ?? s.callerName(ctx.caller);
  let outcome: string;
  if (result.trap) {
    outcome = `trapped${result.trap.functionName ? ` in \`${result.trap.functionName}\`` : ''}: ${result.trap.text}`;
  } else if (ctx.outcome?.kind === 'reply') outcome = `replied (${ctx.outcome.data.length} bytes)`;
  else if (ctx.outcome?.kind === 'reject') outcome = `rejected: ${ctx.outcome.message}`;
  else if (ctx.outgoing.length > 0) outcome = `waiting on ${ctx.outgoing.length} call${ctx.outgoing.length > 1 ? 's' : ''}`;
  else outcome = 'done';
  const instr = (result.instructions > 0n ? `, ${formatInstructions(result.instructions)}` : '') + (result.cycles ? `, ${formatCycles(result.cycles)}` : '');
  const userFacing = ctx.kind === 'U' || ctx.kind === 'NRQ' || ctx.kind === 'CQ' || ctx.kind === 'I';
  s.log.emit({
    kind: result.trap ? 'trap' : 'message',
    level: result.trap || (userFacing && ctx.caller.length !== 10) ? 'normal' : 'verbose',
    text: `${canister.name}.${label.method} (${caller}) -> ${outcome} ${formatDuration(result.durationMs)}${instr}`,
  });
  return result;
}
