// Best-effort (bounded-wait) calls, the scheduler's side (interface spec, "Best-effort
// responses"; README.md "Best-effort calls"): callbacks whose deadline has passed get their
// SYS_UNKNOWN reject, and at the end of a round the best-effort messages in the queues are shed
// down to the subnet's best-effort message memory. The deadline is set when the call is sent
// (calls.ts); a request whose deadline passed in the queue is dropped when it is delivered.
import type { Canister } from '../execution/canister.ts';
import type { Limits } from '../limits.ts';
import type { ReplicaLog } from '../log.ts';
import { RejectCode } from '../ic/reject-codes.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import type { Callback, InputMessage } from './call-context.ts';
import type { Clock } from './clock.ts';
import { DEADLINE_EXPIRED_MESSAGE, RESPONSE_DROPPED_MESSAGE } from './config.ts';
import type { SchedulerMetrics } from './metrics.ts';
import { bestEffortBytes } from './message-memory.ts';
import type { SubnetState } from './subnet-state.ts';

/** What deadlines and shedding need of the scheduler (the Scheduler passes itself). */
export interface BestEffortHost {
  readonly state: SubnetState;
  readonly canisters: ReadonlyMap<string, Canister>;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly log: ReplicaLog;
  readonly metrics: SchedulerMetrics;
  callerName(caller: Uint8Array): string;
  /** Puts a message in a canister's queue (the one way a message enters a queue). */
  enqueue(canister: string, source: string, message: InputMessage): void;
}

const reject = (code: RejectCode, message: string): CallResponse => ({ kind: 'reject', code, errorCode: undefined, message });

/**
 * Whether the callback's response (or the compact reject of a shed one) already waits in the
 * caller's queue: its deadline then no longer matters, the response is delivered (the IC's
 * `callbacks_with_enqueued_response`: queues.rs `try_push_deadline_expired_input` adds no
 * deadline-expired reject for such a callback).
 */
function responseQueued(state: SubnetState, cb: Callback): boolean {
  const list = state.queues.get(cb.canister)?.inputs[cb.callee];
  return list !== undefined && list.some((m) => m.kind === 'response' && m.callbackId === cb.id && !m.expiredReject);
}

/** Whether a best-effort callback's deadline has passed without its SYS_UNKNOWN yet: the next round delivers it. */
export function deadlineDue(state: SubnetState, clock: Clock): boolean {
  if (state.callbacks.size === 0) return false;
  const now = clock.nowNanos();
  for (const cb of state.callbacks.values()) if (cb.deadline > 0n && !cb.expired && cb.deadline <= now && !responseQueued(state, cb)) return true;
  return false;
}

/** The earliest deadline of a best-effort callback not yet expired; 0n when there is none. */
export function earliestDeadline(state: SubnetState): bigint {
  let earliest = 0n;
  for (const cb of state.callbacks.values()) if (cb.deadline > 0n && !cb.expired && (earliest === 0n || cb.deadline < earliest)) earliest = cb.deadline;
  return earliest;
}

/**
 * Best-effort callbacks whose deadline has passed get a SYS_UNKNOWN reject now (interface
 * spec, "Best-effort responses"); a response that arrives later is dropped. One whose response
 * arrived in time and waits in the caller's queue keeps it (responseQueued).
 */
export function expireDeadlines(s: BestEffortHost, now: bigint): void {
  for (const cb of s.state.callbacks.values()) {
    if (cb.deadline === 0n || cb.expired || cb.deadline > now || responseQueued(s.state, cb)) continue;
    cb.expired = true;
    s.metrics.bestEffortExpired++;
    s.log.emit({
      kind: 'message',
      level: 'verbose',
      text: `${s.canisters.get(cb.canister)?.name ?? cb.canister}: best-effort call to ${s.canisters.get(cb.callee)?.name ?? cb.callee}.${cb.call.method} passed its deadline: SYS_UNKNOWN`,
    });
    s.enqueue(cb.canister, cb.callee, {
      kind: 'response',
      canister: cb.canister,
      from: cb.callee,
      callbackId: cb.id,
      deadline: cb.deadline,
      refund: 0n,
      expiredReject: true,
      response: reject(RejectCode.SYS_UNKNOWN, DEADLINE_EXPIRED_MESSAGE),
    });
  }
}

/**
 * At the end of a round, while the best-effort messages waiting in the canisters' queues hold
 * more than `bestEffortMessageMemoryBytes`, sheds the largest best-effort message of the
 * canister whose queues hold the most, as the IC does after every round (rs/messaging
 * state_machine.rs calls `enforce_best_effort_message_limit`; rs/replicated_state queues.rs
 * `shed_largest_message`, which takes the largest message of the canister's message pool).
 * Ties go to the larger canister id and, between messages of one size, the later call (the IC
 * orders them by its pool's message ids, which grow as messages arrive). What a shed message
 * becomes (queues.rs `on_inbound_message_dropped`):
 * - a request waiting for its callee is gone: the callee never sees it, the cycles it carried
 *   go back to the caller, and the caller's callback gets its SYS_UNKNOWN when the call's
 *   deadline passes (the caller cannot tell a shed request from a slow callee);
 * - a response waiting for its caller is replaced by a compact SYS_UNKNOWN reject "Response
 *   was dropped." in the same place (system_state.rs `pop_input`), holding no message memory;
 *   the cycles it refunded are credited to the caller at once.
 * This replica's queues are the input queues: a call is inducted into its callee's queue as
 * soon as it is made, as the IC inducts calls between canisters of one subnet in the round
 * they are made, so there are no output queues to shed from.
 */
export function shedBestEffortMessages(s: BestEffortHost): void {
  const state = s.state;
  const limit = s.limits.bestEffortMessageMemoryBytes;
  if (state.bestEffortMessageBytes <= limit) return;
  const usage = new Map<string, number>();
  for (const [id, q] of state.queues) {
    let bytes = 0;
    for (const list of Object.values(q.inputs)) for (const m of list) bytes += bestEffortBytes(m);
    if (bytes > 0) usage.set(id, bytes);
  }
  const total = state.bestEffortMessageBytes;
  while (state.bestEffortMessageBytes > limit && usage.size > 0) {
    let canister = '';
    let most = -1;
    for (const [id, bytes] of usage) if (bytes > most || (bytes === most && id > canister)) [canister, most] = [id, bytes];
    const q = state.queues.get(canister)!;
    let largest: { source: string; index: number; size: number; order: number } | undefined;
    for (const [source, list] of Object.entries(q.inputs)) {
      list.forEach((m, index) => {
        const size = bestEffortBytes(m);
        if (size === 0) return;
        const order = m.kind === 'request' ? (m.origin.kind === 'canister' ? m.origin.callbackId : 0) : m.callbackId;
        if (!largest || size > largest.size || (size === largest.size && order > largest.order)) largest = { source, index, size, order };
      });
    }
    if (!largest) {
      usage.delete(canister);
      continue;
    }
    const list = q.inputs[largest.source];
    const message = list[largest.index];
    state.bestEffortMessageBytes -= largest.size;
    if (most - largest.size > 0) usage.set(canister, most - largest.size);
    else usage.delete(canister);
    s.metrics.bestEffortMessagesShed++;
    s.metrics.bestEffortBytesShed += largest.size;
    const name = (id: string) => s.canisters.get(id)?.name ?? id;
    if (message.kind === 'request') {
      list.splice(largest.index, 1);
      if (list.length === 0) delete q.inputs[largest.source];
      q.size--;
      state.queued--;
      const caller = message.origin.kind === 'canister' ? s.canisters.get(message.origin.canister) : undefined;
      if (caller) caller.balance += message.cycles;
      s.log.emit({
        kind: 'message',
        level: 'normal',
        text: `${name(canister)}.${message.method} (${s.callerName(message.caller)}) -> shed: best-effort request of ${largest.size} bytes dropped from the queue (best-effort message memory ${total} bytes, limit ${limit})`,
      });
    } else {
      list[largest.index] = {
        ...message,
        response: reject(RejectCode.SYS_UNKNOWN, RESPONSE_DROPPED_MESSAGE),
        refund: 0n,
        shed: true,
      };
      const caller = s.canisters.get(message.canister);
      if (caller) caller.balance += message.refund;
      s.log.emit({
        kind: 'message',
        level: 'normal',
        text: `response from ${name(message.from)} to ${name(message.canister)} shed: best-effort response of ${largest.size} bytes replaced by a SYS_UNKNOWN reject (best-effort message memory ${total} bytes, limit ${limit})`,
      });
    }
  }
}
