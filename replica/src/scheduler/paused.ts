// Paused executions (deterministic time slicing, the round's side; README.md): a message that
// used up a slice is recorded as paused in SubnetState, continued one slice per round, and at
// the end of a round those past MAX_PAUSED_EXECUTIONS are aborted and their messages put back
// at the head of their queues. SliceChannel (slicing.ts) is the link to the suspended Wasm.
import type { Canister, CanisterLogRecord } from '../execution/canister.ts';
import { ExecutionAborted } from '../execution/slicing.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import { RejectCode } from '../ic/reject-codes.ts';
import { formatInstructions, type ReplicaLog } from '../log.ts';
import type { RequestMessage } from './call-context.ts';
import { MAX_PAUSED_EXECUTIONS } from './config.ts';
import { heldReservation } from './message-memory.ts';
import type { SchedulerMetrics } from './metrics.ts';
import { SliceChannel, type SlicedExecution } from './slicing.ts';
import type { SubnetState } from './subnet-state.ts';

/** What paused executions need of the scheduler (the Scheduler passes itself). */
export interface PausedHost {
  readonly state: SubnetState;
  readonly canisters: ReadonlyMap<string, Canister>;
  readonly log: ReplicaLog;
  readonly metrics: SchedulerMetrics;
  /** Sends a response to whoever made the request. */
  answer(request: RequestMessage, response: CallResponse, refund: bigint): void;
}

/**
 * A channel for an execution on `canister` that keeps the message's cycles out of its balance,
 * and the lines it printed out of its log, while paused: what queries and the store (which may
 * commit between rounds) see then is the canister as the message found it, and a message that
 * runs again after a restore prints its lines once. The IC applies a message's log records with
 * its other changes, at its end. (Older records its lines pushed out of a full log stay out.)
 */
export function sliceChannel(canister: Canister | undefined, sliceLimit: number): SliceChannel {
  let base = canister?.balance ?? 0n;
  let delta = 0n;
  const logBase = canister?.nextLogIndex ?? 0n;
  let heldLog: CanisterLogRecord[] = [];
  let heldNextLogIndex = logBase;
  return new SliceChannel(sliceLimit, {
    paused: () => {
      if (!canister) return;
      delta = canister.balance - base;
      canister.balance -= delta;
      const first = canister.logRecords.findIndex((r) => r.idx >= logBase);
      heldLog = first < 0 ? [] : canister.logRecords.splice(first);
      heldNextLogIndex = canister.nextLogIndex;
      canister.nextLogIndex = logBase;
    },
    resumed: () => {
      if (!canister) return;
      base = canister.balance;
      canister.balance += delta;
      canister.logRecords.push(...heldLog);
      canister.nextLogIndex = heldNextLogIndex;
      heldLog = [];
    },
  });
}

/**
 * An execution used up its first slice: it is paused until the next round, which continues it
 * (continueSlice). Returns the instructions the round counts for the slice.
 */
export function notePaused(s: PausedHost, name: string, p: Omit<SlicedExecution, 'slice' | 'startRound' | 'counted'>): bigint {
  const slice = BigInt(p.channel.sliceLimit);
  s.state.paused.set(p.canister, { ...p, slice: 1, startRound: s.state.round, counted: slice });
  s.metrics.slicesExecuted++;
  s.log.emit({
    kind: 'message',
    level: 'normal',
    text: `${name}.${p.label}: slice 1 in round ${s.state.round} (${formatInstructions(slice)}); continues next round`,
  });
  return slice;
}

/**
 * The sliced execution has ended: it is no longer paused, before its effects apply (a
 * snapshot taken from now on must not put its message back in the queue).
 */
export function endSliced(state: SubnetState, id: string, channel: SliceChannel): void {
  if (state.paused.get(id)?.channel === channel) state.paused.delete(id);
}

/** Runs the next slice of a paused message; returns the instructions this round counts for it. */
export async function continueSlice(s: PausedHost, p: SlicedExecution): Promise<bigint> {
  const state = s.state;
  p.slice++;
  s.metrics.slicesExecuted++;
  const name = s.canisters.get(p.canister)?.name ?? p.canister;
  const next = p.channel.nextPause();
  p.channel.resume();
  let ended: { n: bigint } | undefined;
  try {
    ended = await Promise.race([p.done.then((n) => ({ n })), next.then(() => undefined)]);
  } catch (e) {
    // A replica bug must not take the subnet down (executeMessage answers a failed request).
    if (state.paused.get(p.canister) === p) state.paused.delete(p.canister);
    s.log.info(`replica error while continuing ${name}.${p.label}: ${(e as Error).stack ?? e}`);
    if (p.message?.kind === 'request')
      s.answer(
        p.message,
        { kind: 'reject', code: RejectCode.SYS_FATAL, errorCode: undefined, message: `replica error: ${(e as Error).message}` },
        p.message.cycles,
      );
    return 0n;
  }
  if (!ended) {
    const slice = BigInt(p.channel.sliceLimit);
    p.counted += slice;
    s.log.emit({
      kind: 'message',
      level: 'normal',
      text: `${name}.${p.label}: slice ${p.slice} in round ${state.round} (${formatInstructions(slice)}); continues next round`,
    });
    return slice;
  }
  if (state.paused.get(p.canister) === p) state.paused.delete(p.canister);
  const last = ended.n > p.counted ? ended.n - p.counted : 0n;
  s.log.emit({
    kind: 'message',
    level: 'normal',
    text: `${name}.${p.label}: slice ${p.slice} in round ${state.round} (${formatInstructions(last)}): done`,
  });
  return last;
}

/**
 * At the end of a round, as the IC's scheduler does (scheduler.rs
 * `abort_paused_executions_above_limit`, run by `finish_round` after every ordinary round):
 * when more than MAX_PAUSED_EXECUTIONS messages are paused between slices, the paused
 * executions are ordered as the IC orders long executions (more rounds executed first, then
 * scheduling priority, then the earlier start, then the canister id) and those past the cap
 * are aborted: their changes are rolled back and their messages go back to the head of their
 * queues, to run again from the start in a later round (where they compete again, so a fifth
 * long message waits until one of the four before it finishes). Paused install_code steps do
 * not count, as on the IC, which keeps them apart (paused install code). The IC's priority is
 * its accumulated priority; this replica's round-robin position stands in for it
 * (`lastFullRound`: went first longer ago, higher priority). The IC keeps an aborted
 * execution's start round for its next attempt; here the next attempt starts afresh.
 */
export async function abortPausedAboveLimit(s: PausedHost): Promise<void> {
  const state = s.state;
  if (state.paused.size <= MAX_PAUSED_EXECUTIONS) return;
  const long = [...state.paused.values()].filter((p) => p.message !== undefined);
  if (long.length <= MAX_PAUSED_EXECUTIONS) return;
  const priority = (id: string) => state.lastFullRound.get(id) ?? 0;
  long.sort(
    (a, b) =>
      b.slice - a.slice ||
      priority(a.canister) - priority(b.canister) ||
      a.startRound - b.startRound ||
      (a.canister < b.canister ? -1 : a.canister > b.canister ? 1 : 0),
  );
  for (const p of long.slice(MAX_PAUSED_EXECUTIONS)) await abortPaused(s, p, long.length);
}

/** Aborts one paused execution: rolled back, its message back at the head of its queue as if never taken. */
async function abortPaused(s: PausedHost, p: SlicedExecution, pausedCount: number): Promise<void> {
  const state = s.state;
  const message = p.message!;
  const canister = s.canisters.get(p.canister);
  state.paused.delete(p.canister);
  // While paused the canister shows the balance without the message's effects: keep it.
  const balance = canister?.balance;
  p.channel.abort();
  try {
    await p.done;
  } catch (e) {
    if (!(e instanceof ExecutionAborted)) s.log.info(`replica error while aborting ${p.canister}.${p.label}: ${(e as Error).stack ?? e}`);
  }
  if (canister && balance !== undefined) canister.balance = balance;
  state.putBack(p.canister, p.source ?? '', message);
  const q = state.queuesOf(p.canister);
  // Undo what taking the message did: the call context it opened, the callback it consumed.
  if (p.channel.opened !== undefined && state.callContexts.delete(p.channel.opened) && canister) canister.openCallContexts--;
  const cb = p.channel.callback;
  if (cb) {
    state.callbacks.set(cb.id, cb);
    state.guaranteedMessageBytes += heldReservation(cb);
    q.reserved[cb.callee] = (q.reserved[cb.callee] ?? 0) + 1;
    if (canister) canister.outstandingCalls++;
    const cc = state.callContexts.get(cb.callContextId);
    if (cc) cc.outstanding++;
  }
  s.metrics.executionsAborted++;
  s.log.emit({
    kind: 'message',
    level: 'normal',
    text: `${canister?.name ?? p.canister}.${p.label}: aborted after slice ${p.slice} in round ${state.round} (${pausedCount} executions paused, at most ${MAX_PAUSED_EXECUTIONS}); runs again from the start`,
  });
}
