// Ingress messages, from acceptance to answer: the checks before one is accepted (interface
// spec, "Ingress message inspection"), the pool it waits in until a round takes it into its
// block, its induction into the callee's queue (or the subnet queue), and its answer, handed to
// whoever waits for it (under mainnet pacing only once the round that produced it is certified).
// The waiters and the answers held for a certificate are not replicated state: they live here.
import { mayReadLogs, type Canister } from '../execution/canister.ts';
import type { Entry, ExecutionResult } from '../execution/execute.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import { MANAGEMENT_CANISTER_TEXT } from '../ic/principal.ts';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';
import { admission, executionFailure, userErrorResponse } from '../ic/user-errors.ts';
import type { Limits } from '../limits.ts';
import type { ReplicaLog } from '../log.ts';
import type { ApiKind, MessageContext } from '../system-api/context.ts';
import type { InputMessage, RequestMessage } from './call-context.ts';
import type { Pacing } from './config.ts';
import type { SchedulerMetrics } from './metrics.ts';
import type { SubnetState } from './subnet-state.ts';

/** What ingress needs of the scheduler (the Scheduler passes itself). */
export interface IngressHost {
  readonly state: SubnetState;
  readonly canisters: ReadonlyMap<string, Canister>;
  readonly limits: Limits;
  readonly log: ReplicaLog;
  readonly metrics: SchedulerMetrics;
  readonly pacing: Pacing;
  readonly management?: { acceptsIngress(method: string, sender: Uint8Array, arg: Uint8Array): CallResponse | undefined };
  readonly onIngressCompleted?: (key: string | undefined, response: CallResponse) => void;
  callerName(caller: Uint8Array): string;
  checkCallable(canister: Canister | undefined, id: string, method: string, mode: 'update' | 'query'): CallResponse | undefined;
  newContext(canister: Canister, kind: ApiKind, init?: Partial<MessageContext>): MessageContext;
  run(canister: Canister, ctx: MessageContext, entry: Entry, persist: boolean | 'sandbox', label: { method: string; callerName?: string }): ExecutionResult;
  /** Puts a message in a canister's queue (the one way a message enters a queue). */
  enqueue(canister: string, source: string, message: InputMessage): void;
  scheduleRounds(): void;
}

/** An ingress answer waiting for the certification of the round that produced it (mainnet pacing). */
export interface UncertifiedAnswer {
  key: string | undefined;
  response: CallResponse;
  release: () => void;
}

const reject = (code: RejectCode, errorCode: ErrorCode | undefined, message: string): CallResponse => ({ kind: 'reject', code, errorCode, message });

export class Ingress {
  private readonly s: IngressHost;
  /** Whether the scheduler was closed (answers are then released at once). */
  private readonly closed: () => boolean;
  private readonly waiters = new Map<number, { resolve: (response: CallResponse) => void; submitted: number; key?: string }>();
  /**
   * Ingress answers waiting for the certification of the round that produced them (mainnet
   * pacing). Their call contexts are gone from the state, so snapshot() keeps them (`answered`):
   * a commit taken between the round and its certificate must not lose the answer.
   */
  uncertified: UncertifiedAnswer[] = [];

  constructor(host: IngressHost, closed: () => boolean) {
    this.s = host;
    this.closed = closed;
  }

  /**
   * The checks made before an ingress update call is accepted (interface spec, "Ingress
   * message inspection"): the canister exists, runs, has code and the method, its queue has
   * room, and its canister_inspect_message accepts the message. Returns a reject, or undefined
   * if accepted.
   */
  inspect(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array): CallResponse | undefined {
    const s = this.s;
    if (arg.length > s.limits.maxIngressBytes) {
      return reject(
        RejectCode.CANISTER_REJECT,
        ErrorCode.CanisterRejectedMessage,
        `The ingress message of ${arg.length} bytes for ${canisterId}.${method} exceeds the limit of ${s.limits.maxIngressBytes} bytes`,
      );
    }
    if (canisterId === MANAGEMENT_CANISTER_TEXT) return s.management?.acceptsIngress(method, sender, arg);
    const canister = s.canisters.get(canisterId);
    const problem = s.checkCallable(canister, canisterId, method, 'update');
    if (problem) return problem;
    const c = canister!;
    // The IC bounds what waits for a canister (canister queues of DEFAULT_QUEUE_CAPACITY; the
    // ingress pool and each block's quota per canister): here ingress waiting for one canister
    // is held to the same capacity and refused past it, with the IC's queue-full code.
    const waiting = s.state.ingressWaiting(canisterId);
    if (waiting >= s.limits.queueCapacity) {
      s.metrics.ingressRefused++;
      s.log.emit({
        kind: 'message',
        level: 'normal',
        text: `${c.name}.${method} (${s.callerName(sender)}) -> refused: ${waiting} ingress messages already wait for this canister`,
      });
      return reject(
        RejectCode.SYS_TRANSIENT,
        ErrorCode.CanisterQueueFull,
        `Canister ${canisterId} cannot accept the message: its ingress queue is full (capacity ${s.limits.queueCapacity}). Try again later.`,
      );
    }
    if (!c.instance!.hasExport('canister_inspect_message')) return undefined;
    const ctx = s.newContext(c, 'F', { caller: sender, arg, methodName: method });
    const result = s.run(c, ctx, { export: 'canister_inspect_message' }, false, { method: `canister_inspect_message(${method})` });
    if (result.trap) {
      return executionFailure(canisterId, result.trap, mayReadLogs(c, sender));
    }
    if (!ctx.messageAccepted) {
      s.log.emit({ kind: 'message', level: 'normal', text: `${c.name}.${method} (${s.callerName(sender)}) -> refused by canister_inspect_message` });
      return userErrorResponse(admission.messageRejected(canisterId));
    }
    return undefined;
  }

  /** Puts an accepted ingress message in the pool and resolves with its response. */
  submit(canisterId: string, method: string, arg: Uint8Array, sender: Uint8Array, key?: string): Promise<CallResponse> {
    const s = this.s;
    return new Promise((resolve) => {
      const messageId = s.state.nextId++;
      this.waiters.set(messageId, { resolve, submitted: performance.now(), key });
      s.state.ingressPool.push({
        kind: 'request',
        callee: canisterId,
        method,
        arg,
        cycles: 0n,
        caller: sender,
        origin: { kind: 'ingress', messageId, key },
        deadline: 0n,
      });
      s.state.queued++;
      s.scheduleRounds();
    });
  }

  /**
   * Ingress enters the state in the order it arrived: each iteration takes the next run of
   * messages to canisters, or the next run of messages to the management canister, from the
   * round's block, so a stop_canister sent after an update finds that update's call context
   * open, as it would have in the block's order.
   */
  induct(block: RequestMessage[]): void {
    if (block.length === 0) return;
    const state = this.s.state;
    const management = block[0].callee === MANAGEMENT_CANISTER_TEXT;
    let n = 1;
    while (n < block.length && (block[n].callee === MANAGEMENT_CANISTER_TEXT) === management) n++;
    for (const m of block.splice(0, n)) {
      state.queued--; // enqueue counts it again
      if (m.callee === MANAGEMENT_CANISTER_TEXT) {
        state.subnetQueue.push(m);
        state.queued++;
      } else this.s.enqueue(m.callee, '', m);
    }
  }

  /** Hands an ingress message's response to whoever waits for it (under mainnet pacing, once its round is certified). */
  resolve(messageId: number, key: string | undefined, response: CallResponse): void {
    const release = () => {
      const waiter = this.waiters.get(messageId);
      if (waiter) {
        this.waiters.delete(messageId);
        this.s.metrics.updateLatency.observe((performance.now() - waiter.submitted) / 1000);
        waiter.resolve(response);
      }
      this.s.onIngressCompleted?.(key, response);
    };
    // Mainnet pacing: the reply is readable once the state of this round is certified.
    if (this.s.pacing === 'mainnet' && !this.closed()) this.uncertified.push({ key, response, release });
    else release();
  }

  /** The round's state is certified: its answers go out. */
  releaseCertified(): void {
    const ready = this.uncertified;
    this.uncertified = [];
    for (const { release } of ready) release();
  }

  /** After a restore: nobody in this process waits for the restored messages. */
  forgetWaiters(): void {
    this.waiters.clear();
  }
}
