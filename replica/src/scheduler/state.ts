// The scheduler's replicated state as plain data: everything in it is a number, string,
// boolean, bigint, Uint8Array, array or plain object, so it survives structuredClone and any
// encoder that handles those (the disk store). See README.md for what each part means.
import type { CallContext, Callback, InputMessage, RequestMessage, ResponseMessage, TaskMessage } from './call-context.ts';
import type { MessageOutcome, PendingCall } from '../system-api/context.ts';
import type { TrapInfo } from '../execution/execute.ts';
import type { CallResponse } from '../ic/call-outcome.ts';

/** Bumped when the shape below changes incompatibly. */
export const SCHEDULER_STATE_FORMAT = 1;

/** One canister's input side: its canister-pair queues, ingress and this round's tasks. */
export interface CanisterQueues {
  /** Ingress messages inducted for this canister, in order. */
  ingress: RequestMessage[];
  /** One input queue per sender (its text id; 'aaaaa-aa' for the management canister): requests to this canister and responses to its calls. */
  inputs: Record<string, Array<RequestMessage | ResponseMessage>>;
  /** The heartbeat and global timer this round scheduled. */
  tasks: TaskMessage[];
  /** Which source is served next (0 ingress, then the senders in key order): round-robin between queues. */
  nextSource: number;
  /** Messages held in all of the above. */
  size: number;
  /** Response slots this canister reserved in its queue from each callee (one per call in flight). */
  reserved: Record<string, number>;
}

export function emptyQueues(): CanisterQueues {
  return { ingress: [], inputs: {}, tasks: [], nextSource: 0, size: 0, reserved: {} };
}

/** What a finished execution does to its call context, kept while a sliced message is paused. */
export interface MessageEffects {
  outgoing: PendingCall[];
  outcome?: MessageOutcome;
  cyclesAvailable: bigint;
  trap?: TrapInfo;
  instructions: bigint;
}

/** A message longer than one slice, continued one slice per round (deterministic time slicing). */
export interface PausedExecution {
  canister: string;
  callContextId: number;
  /** The method or callback, for the log. */
  label: string;
  /** Slices done so far, and in all. */
  slice: number;
  slices: number;
  effects: MessageEffects;
}

export interface SchedulerState {
  format: number;
  /** Rounds executed. */
  round: number;
  /** Next id for ingress messages, call contexts and callbacks. */
  nextId: number;
  /** Ingress accepted but not yet inducted. */
  ingressPool: RequestMessage[];
  /** Requests to the management canister. */
  subnetQueue: RequestMessage[];
  /** Each canister's queues, by its text id. */
  queues: Record<string, CanisterQueues>;
  /** Open call contexts. */
  callContexts: CallContext[];
  /** Callbacks waiting for a response, with their best-effort deadlines. */
  callbacks: Callback[];
  paused: PausedExecution[];
  /** The round in which each canister last went first on a thread. */
  lastFullRound: Record<string, number>;
  /**
   * Ingress calls answered in a round whose certificate was not issued yet (mainnet pacing), by
   * the key they were submitted with: their call contexts are closed, so this is the only place
   * their answer is. Absent in states written before it was kept.
   */
  answered?: Array<{ key: string; response: CallResponse }>;
}

export type { InputMessage };
