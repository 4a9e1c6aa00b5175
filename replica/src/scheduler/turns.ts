// A canister's turn on an execution thread: which canisters have work this iteration of the
// round, in round-robin order (the one that went first longest ago first), and running one
// canister's messages one at a time until the thread's share of the round is spent, or
// continuing its paused execution for one slice. The round loop (scheduler.ts) deals the
// canisters out over the threads and counts what each thread used.
import type { CallResponse } from '../ic/call-outcome.ts';
import { RejectCode } from '../ic/reject-codes.ts';
import type { InputMessage, RequestMessage } from './call-context.ts';
import { INSTRUCTION_OVERHEAD_PER_EXECUTION } from './config.ts';
import * as messages from './messages.ts';
import { continueSlice, notePaused, sliceChannel } from './paused.ts';

/** What a canister's turn needs of the scheduler (the Scheduler passes itself). */
export interface TurnHost extends messages.MessagesHost {
  /** Sends a response to whoever made the request. */
  answer(request: RequestMessage, response: CallResponse, refund: bigint): void;
}

const reject = (code: RejectCode, message: string): CallResponse => ({ kind: 'reject', code, errorCode: undefined, message });

/** Canisters with a message waiting or a paused execution to continue, first the one that went first longest ago. */
export function activeCanisters(s: TurnHost, sliced: Set<string>): string[] {
  const active: string[] = [];
  for (const [id, q] of s.state.queues) {
    if (s.state.paused.has(id)) {
      if (!sliced.has(id)) active.push(id);
    } else if (q.size > 0) active.push(id);
    else if (!s.canisters.has(id)) s.state.queues.delete(id);
  }
  if (active.length > 1) {
    active.sort((a, b) => (s.state.lastFullRound.get(a) ?? 0) - (s.state.lastFullRound.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return active;
}

/** Runs one canister's messages on a thread until `budget` is spent; returns the instructions counted. */
export async function executeCanister(s: TurnHost, id: string, budget: bigint, sliced: Set<string>): Promise<bigint> {
  const paused = s.state.paused.get(id);
  if (paused) {
    sliced.add(id);
    return INSTRUCTION_OVERHEAD_PER_EXECUTION + (await continueSlice(s, paused));
  }
  const q = s.state.queues.get(id);
  let used = 0n;
  while (q && q.size > 0) {
    const message = s.state.popNext(q);
    used += INSTRUCTION_OVERHEAD_PER_EXECUTION + (await executeMessage(s, id, message));
    if (s.state.paused.has(id)) {
      sliced.add(id);
      break;
    }
    if (used >= budget) break;
  }
  return used;
}

/**
 * Executes one message. One that uses up a slice is paused (deterministic time slicing): this
 * returns the slice's instructions and the following rounds continue it (continueSlice).
 */
async function executeMessage(s: TurnHost, id: string, message: InputMessage): Promise<bigint> {
  try {
    const canister = s.canisters.get(id);
    // While paused, the canister's balance shows no effect of the message (the store
    // persists the state before it).
    const channel = sliceChannel(canister, s.limits.instructionsPerSlice);
    const paused = channel.nextPause();
    const done =
      message.kind === 'request'
        ? messages.deliverRequest(s, message, channel)
        : message.kind === 'response'
          ? messages.deliverResponse(s, message, channel)
          : messages.runSystemTask(s, message, channel);
    const first = await Promise.race([done.then((n) => ({ n })), paused.then(() => undefined)]);
    if (first) return first.n;
    const label =
      message.kind === 'request'
        ? message.method
        : message.kind === 'task'
          ? message.task
          : `callback from ${s.canisters.get(message.from)?.name ?? message.from}`;
    const source =
      message.kind === 'task' ? 'task' : message.kind === 'response' ? message.from : message.origin.kind === 'ingress' ? '' : message.origin.canister;
    return notePaused(s, canister?.name ?? id, { canister: id, label, channel, message, source, done });
  } catch (e) {
    // A replica bug must not take the subnet down: answer the call and keep going.
    s.log.info(`replica error while handling a ${message.kind}: ${(e as Error).stack ?? e}`);
    if (message.kind === 'request') s.answer(message, reject(RejectCode.SYS_FATAL, `replica error: ${(e as Error).message}`), message.cycles);
    return 0n;
  }
}
