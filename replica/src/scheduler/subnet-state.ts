// The scheduler's state in memory, in one place: what snapshot() writes (persistence.ts), the
// executions paused between slices, and the running totals derived from the queues and
// callbacks (messages queued, message memory held), which restore() recounts. Every part of the
// scheduler that reads or changes this state is handed this object; the operations here are the
// ones that keep the totals true: putting a message in a canister's queue and taking it out.
import type { CallContext, Callback, InputMessage, RequestMessage, ResponseMessage } from './call-context.ts';
import { emptyQueues, type CanisterQueues } from './state.ts';
import type { SlicedExecution } from './slicing.ts';
import { bestEffortBytes } from './message-memory.ts';

export class SubnetState {
  // ---- replicated (snapshot() / restore())
  /** Rounds executed so far. */
  round = 0;
  /** Next id for ingress messages, call contexts and callbacks. */
  nextId = 1;
  /** Ingress messages accepted but not yet inducted (at most MAX_INGRESS_MESSAGES_PER_BLOCK per round). */
  ingressPool: RequestMessage[] = [];
  /** The part of the pool the round under way took as its block and has not inducted yet. */
  block: RequestMessage[] = [];
  /** Requests to the management canister (the IC's subnet queue). */
  subnetQueue: RequestMessage[] = [];
  /**
   * Management requests taken from the subnet queue and not answered yet: those awaiting
   * asynchronous work (install_code compiling its module) and stop_canister waiting for the
   * canister to stop. Neither has changed anything yet that it would not redo, so snapshot()
   * writes them back at the head of the subnet queue: after a restart they run again, in the
   * order they first ran, instead of leaving their callers waiting on an answer that never comes.
   */
  readonly managementInFlight = new Set<RequestMessage>();
  /** Each canister's input queues, by its text id. */
  queues = new Map<string, CanisterQueues>();
  /** Callbacks waiting for a response, by id. */
  callbacks = new Map<number, Callback>();
  /** Open call contexts, by id. */
  readonly callContexts = new Map<number, CallContext>();
  /** Messages paused between slices, by canister (not plain data: snapshot() puts them back in their queues). */
  paused = new Map<string, SlicedExecution>();
  /** The round in which each canister last went first on a thread (round-robin fairness). */
  lastFullRound = new Map<string, number>();

  // ---- derived (recounted by restore())
  /** Messages waiting anywhere: the ingress pool and block, the subnet queue, the canisters' queues. */
  queued = 0;
  /** Guaranteed-response message memory the callbacks hold. */
  guaranteedMessageBytes = 0;
  /** Bytes of the best-effort messages in the canisters' queues. */
  bestEffortMessageBytes = 0;

  queuesOf(id: string): CanisterQueues {
    let q = this.queues.get(id);
    if (!q) {
      q = emptyQueues();
      this.queues.set(id, q);
    }
    return q;
  }

  /** Puts a message in the receiving canister's input queue from `source` (the sender, or '' for ingress). */
  enqueue(canister: string, source: string, message: InputMessage): void {
    const q = this.queuesOf(canister);
    if (message.kind === 'task') q.tasks.push(message);
    else if (source === '') q.ingress.push(message as RequestMessage);
    else (q.inputs[source] ??= []).push(message);
    q.size++;
    this.queued++;
    this.bestEffortMessageBytes += bestEffortBytes(message);
  }

  /** Puts a message taken from `source` back at the head of its queue, as if it had never been taken. */
  putBack(canister: string, source: string, message: InputMessage): void {
    const q = this.queuesOf(canister);
    if (message.kind === 'task') q.tasks.unshift(message);
    else if (!source) q.ingress.unshift(message as RequestMessage);
    else (q.inputs[source] ??= []).unshift(message as RequestMessage | ResponseMessage);
    q.size++;
    this.queued++;
    this.bestEffortMessageBytes += bestEffortBytes(message);
  }

  /** The canister's next message: its heartbeat or timer first, then its input queues in turn (ingress, then each sender). */
  popNext(q: CanisterQueues): InputMessage {
    q.size--;
    this.queued--;
    if (q.tasks.length > 0) return q.tasks.shift()!;
    const sources = Object.keys(q.inputs);
    const n = sources.length + 1;
    for (let k = 0; k < n; k++) {
      const s = (q.nextSource + k) % n;
      const list = s === 0 ? q.ingress : q.inputs[sources[s - 1]];
      if (list.length === 0) continue;
      q.nextSource = (s + 1) % n;
      const message = list.shift()!;
      if (s > 0 && list.length === 0) delete q.inputs[sources[s - 1]];
      this.bestEffortMessageBytes -= bestEffortBytes(message);
      return message;
    }
    throw new Error('scheduler: a canister queue counted a message it does not hold');
  }

  /** Ingress messages waiting for a canister: inducted into its queue, in the round's block or in the pool. */
  ingressWaiting(canisterId: string): number {
    let n = this.queues.get(canisterId)?.ingress.length ?? 0;
    for (const m of this.ingressPool) if (m.callee === canisterId) n++;
    for (const m of this.block) if (m.callee === canisterId) n++;
    return n;
  }
}
