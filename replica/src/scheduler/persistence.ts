// The scheduler's state as the store persists it (README.md "State: snapshot and restore"):
// SubnetState written out as plain data (state.ts, SchedulerState) and read back, with the
// totals derived from it recounted. What restoring sets in motion (effects of old paused
// executions, answers waiting for a certificate, the next rounds) is the Scheduler's to do.
import type { Canister } from '../execution/canister.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import type { RequestMessage, ResponseMessage } from './call-context.ts';
import { bestEffortBytes, heldReservation } from './message-memory.ts';
import { emptyQueues, SCHEDULER_STATE_FORMAT, type SchedulerState } from './state.ts';
import type { SubnetState } from './subnet-state.ts';

/**
 * The state as plain data (a deep copy); `answered`: the ingress answers waiting for their
 * round's certificate, whose call contexts are already closed. A paused execution appears as
 * its message, not yet executed, at the head of its queue.
 */
export function snapshotState(live: SubnetState, answered: Array<{ key: string | undefined; response: CallResponse }>): SchedulerState {
  const state: SchedulerState = structuredClone({
    format: SCHEDULER_STATE_FORMAT,
    round: live.round,
    nextId: live.nextId,
    ingressPool: [...live.block, ...live.ingressPool],
    subnetQueue: [...live.managementInFlight, ...live.subnetQueue],
    queues: Object.fromEntries(live.queues),
    callContexts: [...live.callContexts.values()],
    callbacks: [...live.callbacks.values()],
    paused: [],
    lastFullRound: Object.fromEntries(live.lastFullRound),
    answered: answered.flatMap(({ key, response }) => (key === undefined ? [] : [{ key, response }])),
  });
  // A paused message's Wasm stack cannot be saved: the state shows it not yet executed, back
  // at the head of its queue, and the canister its state before it (execute.ts shows the
  // committed state while paused). After a restore it runs again from the start.
  for (const p of live.paused.values()) {
    if (!p.message) {
      // An install_code step: its management message is in flight, written back above, and
      // the canister shows the code it was replacing (Scheduler.runInstallStep).
      continue;
    }
    const q = (state.queues[p.canister] ??= emptyQueues());
    const m = structuredClone(p.message);
    if (m.kind === 'task') q.tasks.unshift(m);
    else if (!p.source) q.ingress.unshift(m as RequestMessage);
    else (q.inputs[p.source] ??= []).unshift(m as RequestMessage | ResponseMessage);
    q.size++;
    if (p.channel.opened !== undefined) state.callContexts = state.callContexts.filter((cc) => cc.id !== p.channel.opened);
    const cb = p.channel.callback;
    if (cb) {
      state.callbacks.push(structuredClone(cb));
      const cc = state.callContexts.find((c) => c.id === cb.callContextId);
      if (cc) cc.outstanding++;
      q.reserved[cb.callee] = (q.reserved[cb.callee] ?? 0) + 1;
    }
  }
  return state;
}

/**
 * Replaces `live` with a copy of `saved` and recounts what derives from it: the totals, and the
 * canisters' open call contexts and outstanding calls (the canisters must be in place first).
 * Executions paused in this process are abandoned. Returns the copy, whose `paused` and
 * `answered` the caller still has to act on.
 */
export function restoreState(live: SubnetState, saved: SchedulerState, canisters: ReadonlyMap<string, Canister>): SchedulerState {
  if (saved.format !== SCHEDULER_STATE_FORMAT) throw new Error(`scheduler state format ${String(saved.format)} is not ${SCHEDULER_STATE_FORMAT}`);
  const s = structuredClone(saved);
  live.round = s.round;
  live.nextId = s.nextId;
  live.ingressPool = s.ingressPool;
  live.subnetQueue = s.subnetQueue;
  live.managementInFlight.clear();
  live.queues = new Map(Object.entries(s.queues));
  live.callContexts.clear();
  for (const cc of s.callContexts) live.callContexts.set(cc.id, cc);
  live.callbacks = new Map(s.callbacks.map((cb) => [cb.id, cb]));
  // Executions paused in this process are abandoned: the restored state has their messages queued.
  live.paused = new Map();
  live.lastFullRound = new Map(Object.entries(s.lastFullRound));
  live.queued = live.ingressPool.length + live.subnetQueue.length;
  live.bestEffortMessageBytes = 0;
  for (const q of live.queues.values()) {
    live.queued += q.size;
    for (const list of Object.values(q.inputs)) for (const m of list) live.bestEffortMessageBytes += bestEffortBytes(m);
  }
  for (const c of canisters.values()) {
    c.openCallContexts = 0;
    c.outstandingCalls = 0;
  }
  for (const cc of live.callContexts.values()) {
    const c = canisters.get(cc.canister);
    if (c) c.openCallContexts++;
  }
  live.guaranteedMessageBytes = 0;
  for (const cb of live.callbacks.values()) {
    const c = canisters.get(cb.canister);
    if (c) c.outstandingCalls++;
    live.guaranteedMessageBytes += heldReservation(cb);
  }
  return s;
}
