// The management canister's messages, as the IC's subnet queue: each iteration of a round runs
// the requests to `aaaaa-aa` that may run now (raw_rand waits for the next round; a message about
// a canister whose execution is paused waits until it has finished) and hands each to the
// management canister (management/), which answers at once or later. Those not answered yet
// are in flight (SubnetState.managementInFlight) and their asynchronous work in `work`.
import type { Principal } from '@dfinity/principal';
import type { CallResponse } from '../ic/call-outcome.ts';
import { RejectCode } from '../ic/reject-codes.ts';
import { formatDuration, type ReplicaLog } from '../log.ts';
import type { RequestMessage } from './call-context.ts';
import type { SubnetState } from './subnet-state.ts';

/** What the management canister (management/) must provide to the scheduler. */
export interface ManagementHandler {
  /** Handles a call; calls `done` once, possibly later (stop_canister waits for the canister to stop). */
  handle(request: RequestMessage, done: (response: CallResponse, refund: bigint) => void): void | Promise<void>;
  /** Methods users may call by ingress (the others only canisters may call). */
  acceptsIngress(method: string, sender: Uint8Array, arg: Uint8Array): CallResponse | undefined;
  /** The management canister's query methods (fetch_canister_logs); undefined: not a query method. */
  query(method: string, arg: Uint8Array, sender: Uint8Array): CallResponse | undefined;
  /** Whether some subnet of this replica hosts the canister id (it is in a canister range). */
  hostsCanisterId?(id: Principal): boolean;
  /** The canister a call is about (its `canister_id`), as text; undefined when it names none. */
  canisterOf?(method: string, arg: Uint8Array): string | undefined;
}

/** What running the management canister's messages needs of the scheduler (the Scheduler passes itself). */
export interface SubnetMessagesHost {
  readonly state: SubnetState;
  readonly management?: ManagementHandler;
  readonly log: ReplicaLog;
  callerName(caller: Uint8Array): string;
  /** Sends a response to whoever made the request. */
  answer(request: RequestMessage, response: CallResponse, refund: bigint): void;
  scheduleRounds(): void;
}

const reject = (code: RejectCode, message: string): CallResponse => ({ kind: 'reject', code, errorCode: undefined, message });

/** Runs the subnet queue's requests that may run now; the others stay queued, in order. */
export function executeSubnetMessages(s: SubnetMessagesHost, work: Set<Promise<void>>): void {
  const later: RequestMessage[] = [];
  while (s.state.subnetQueue.length > 0) {
    const request = s.state.subnetQueue.shift()!;
    if (request.notBeforeRound !== undefined && request.notBeforeRound > s.state.round) {
      later.push(request);
      continue;
    }
    // A message about a canister whose execution is paused waits until it has finished
    // (the IC's scheduler holds subnet messages for such canisters too).
    const about = s.state.paused.size > 0 ? s.management?.canisterOf?.(request.method, request.arg) : undefined;
    if (about !== undefined && s.state.paused.has(about)) {
      later.push(request);
      continue;
    }
    s.state.queued--;
    try {
      deliverManagement(s, work, request);
    } catch (e) {
      s.log.info(`replica error while handling a management call: ${(e as Error).stack ?? e}`);
      s.answer(request, reject(RejectCode.SYS_FATAL, `replica error: ${(e as Error).message}`), request.cycles);
    }
  }
  s.state.subnetQueue.push(...later);
}

function deliverManagement(s: SubnetMessagesHost, work: Set<Promise<void>>, request: RequestMessage): void {
  if (!s.management) throw new Error('no management canister attached');
  let answered = false;
  const started = performance.now();
  s.state.managementInFlight.add(request);
  const done = (response: CallResponse, refund: bigint) => {
    if (answered) return;
    answered = true;
    s.state.managementInFlight.delete(request);
    const outcome = response.kind === 'reply' ? 'replied' : `rejected (${response.errorCode ?? `code ${response.code}`}): ${response.message}`;
    s.log.emit({
      kind: 'message',
      level: request.origin.kind === 'ingress' ? 'normal' : 'verbose',
      text: `management.${request.method} (${s.callerName(request.caller)}) -> ${outcome} ${formatDuration(performance.now() - started)}`,
    });
    s.answer(request, response, refund);
    s.scheduleRounds();
  };
  const pending = s.management.handle(request, done);
  if (pending) {
    const tracked: Promise<void> = pending
      .catch((e) => done(reject(RejectCode.CANISTER_ERROR, `management canister: ${(e as Error).message}`), request.cycles))
      .finally(() => work.delete(tracked));
    work.add(tracked);
  }
}
