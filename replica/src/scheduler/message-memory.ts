// Message memory, as the IC counts it: what a call in flight holds of the subnet's
// guaranteed-response message memory, and what a queued best-effort message holds of its
// best-effort message memory (limits.ts guaranteedResponseMessageMemoryBytes,
// bestEffortMessageMemoryBytes; README.md "Queues, callbacks, backpressure" and "Best-effort
// calls"). Pure functions of one message or call: the running totals live in SubnetState.
import type { Callback, InputMessage } from './call-context.ts';
import type { PendingCall } from '../system-api/context.ts';
import { MAX_RESPONSE_COUNT_BYTES } from '../limits.ts';
import { utf8 } from '../ic/bytes.ts';

/**
 * The guaranteed-response message memory a call holds while in flight (limits.ts
 * guaranteedResponseMessageMemoryBytes): the larger of its request (method name and argument)
 * and MAX_RESPONSE_COUNT_BYTES, the room for the largest response; nothing for a best-effort call.
 */
export function guaranteedReservation(call: Pick<PendingCall, 'argSize' | 'method' | 'timeoutSeconds'>): number {
  if (call.timeoutSeconds !== undefined) return 0;
  return Math.max((call.argSize ?? 0) + utf8(call.method).length, MAX_RESPONSE_COUNT_BYTES);
}

/**
 * The best-effort message memory a queued message holds (limits.ts bestEffortMessageMemoryBytes):
 * its payload as the IC's `count_bytes` counts it, a request its method name and argument, a
 * response its reply data or reject message; 0 for ingress, tasks, guaranteed-response messages
 * and the system's compact rejects (deadline expired, response shed), which the IC keeps outside
 * its message pool.
 */
export function bestEffortBytes(m: InputMessage): number {
  if (m.kind === 'task' || m.deadline === 0n) return 0;
  if (m.kind === 'request') return m.origin.kind === 'canister' ? utf8(m.method).length + m.arg.length : 0;
  if (m.expiredReject || m.shed) return 0;
  return m.response.kind === 'reply' ? m.response.data.length : utf8(m.response.message).length;
}

/** What a registered callback holds: best-effort callbacks (with a deadline) hold nothing. */
export function heldReservation(cb: Callback): number {
  return cb.deadline > 0n ? 0 : guaranteedReservation({ argSize: cb.call.argSize, method: cb.call.method, timeoutSeconds: undefined });
}
