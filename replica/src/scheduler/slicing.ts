// Deterministic time slicing, the scheduler's side: a message whose execution used up a slice is
// suspended (execution/slicing.ts) and continued in the following rounds, one slice per round,
// while the canister runs nothing else and the other canisters go on (the IC: paused executions
// in rs/execution_environment/src/scheduler.rs). The suspended Wasm stack cannot be written to
// disk, so a snapshot shows the message as not yet executed, back at the head of its queue: after
// a restart it runs again from the start, as the IC does with an execution aborted at a
// checkpoint.
import type { Callback, InputMessage } from './call-context.ts';
import { ExecutionAborted } from '../execution/slicing.ts';

/** Between the scheduler and one execution that may be sliced. */
export class SliceChannel {
  /** Instructions per slice (limits.instructionsPerSlice). */
  readonly sliceLimit: number;
  /** The call context the delivery opened (a request or task), which a snapshot leaves out. */
  opened?: number;
  /** The callback the delivery consumed (a response), which a snapshot puts back. */
  callback?: Callback;
  private onPaused?: () => void;
  private resumeNext?: () => void;
  private abortNext?: (reason: Error) => void;
  private readonly hooks: { paused(): void; resumed(): void };

  constructor(sliceLimit: number, hooks: { paused(): void; resumed(): void }) {
    this.sliceLimit = sliceLimit;
    this.hooks = hooks;
  }

  /** Called by the execution when a slice is used up: resolves when the scheduler resumes it. */
  readonly pause = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.resumeNext = resolve;
      this.abortNext = reject;
      this.hooks.paused();
      const paused = this.onPaused;
      this.onPaused = undefined;
      paused?.();
    });

  /** Resolves when the execution next pauses (it may end first: race this with its end). */
  nextPause(): Promise<void> {
    return new Promise<void>((resolve) => (this.onPaused = resolve));
  }

  /** Lets the paused execution run its next slice. */
  resume(): void {
    const resume = this.resumeNext;
    this.resumeNext = undefined;
    this.abortNext = undefined;
    this.hooks.resumed();
    resume?.();
  }

  /**
   * Ends the paused execution without another slice: its Wasm unwinds with ExecutionAborted and
   * its changes are rolled back (the hooks are not called: the canister keeps the balance and
   * the log it shows while paused, without the message's cycles and lines).
   */
  abort(): void {
    const abort = this.abortNext;
    this.resumeNext = undefined;
    this.abortNext = undefined;
    abort?.(new ExecutionAborted());
  }
}

/** A message paused between slices. */
export interface SlicedExecution {
  canister: string;
  /** The method or callback, for the log. */
  label: string;
  /** Slices run so far (one per round), and the instructions the rounds counted for them. */
  slice: number;
  /** The round its first slice ran in. */
  startRound: number;
  counted: bigint;
  channel: SliceChannel;
  /** The message as it arrived and the queue it came from ('' ingress, 'task', or the sender); none for an install_code step. */
  message?: InputMessage;
  source?: string;
  /** Settles with the message's instructions when its last slice has run. */
  done: Promise<bigint>;
}
