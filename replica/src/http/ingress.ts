// Ingress bookkeeping: the calls this replica knows (by request id), so replays are not executed
// twice, read_state can check who may read a status, and statuses are pruned after the spec's
// window (https-interface.md#http-call-overview: never before ingress_expiry; ~5 min after done).

import { toHex } from '../ic/bytes.ts';
import type { CallOutcome } from './engine-port.ts';
import { REQUEST_STATUS_RETENTION_NS } from './constants.ts';

export interface KnownCall {
  requestId: Uint8Array;
  sender: Uint8Array;
  /** The request's canister_id (aaaaa-aa for management calls): delegation targets must include it to read the status. */
  canisterId: Uint8Array;
  effectiveCanisterId: Uint8Array;
  ingressExpiry: bigint;
  /** Resolves with the outcome and the certifier version that holds it (no outcome: restored as done). */
  done: Promise<{ outcome?: CallOutcome; version: number }>;
  finished: boolean;
  /** The outcome, kept only while a disk store takes changes (a checkpoint writes every retained reply). */
  outcome?: CallOutcome;
}

/** A call still executing, as the disk store keeps it: after a restart it reads as processing and completes there. */
export interface InflightCall {
  requestId: Uint8Array;
  sender: Uint8Array;
  canisterId: Uint8Array;
  effectiveCanisterId: Uint8Array;
  ingressExpiry: bigint;
}

/** What the disk store keeps of a completed call, so a replay after a restart is not re-executed. */
export interface CompletedCall {
  requestId: Uint8Array;
  sender: Uint8Array;
  canisterId: Uint8Array;
  effectiveCanisterId: Uint8Array;
  ingressExpiry: bigint;
  pruneAt: bigint;
  /** The reply or reject, read back as `replied`/`rejected` until pruneAt; absent (an older state log): `done`. */
  outcome?: CallOutcome;
}

export class IngressRegistry {
  #calls = new Map<string, KnownCall>();
  // Holds the calls themselves (not a second hex key per call): thousands are alive under load.
  // Each entry's `record` is what completedCalls() hands out, made once: a store that reads every
  // remembered call at each commit then allocates nothing per call (and can key its notes by it).
  #pruneQueue: Array<{ call: KnownCall; pruneAt: bigint; record: CompletedCall }> = [];
  #completedSinceTake: CompletedCall[] = [];
  #prunedSinceTake: Uint8Array[] = [];
  /** Changes are only collected once someone takes them (the disk store), else they would pile up. */
  #tracking = false;

  /**
   * From now on every completion keeps its outcome for the disk store (which also switches this
   * on at its first commit): call it before any call can complete, or the calls that finish before
   * the first commit would be written without their replies.
   */
  keepForDisk(): void {
    this.#tracking = true;
  }

  get size(): number {
    return this.#calls.size;
  }

  get(requestId: Uint8Array): KnownCall | undefined {
    return this.#calls.get(toHex(requestId));
  }

  add(call: KnownCall): void {
    this.#calls.set(toHex(call.requestId), call);
  }

  /** Schedules removal once the status has been readable long enough and the request expired. */
  completed(call: KnownCall, nowNs: bigint, outcome?: CallOutcome): void {
    call.finished = true;
    const retained = nowNs + REQUEST_STATUS_RETENTION_NS;
    const pruneAt = retained > call.ingressExpiry ? retained : call.ingressExpiry;
    if (this.#tracking) call.outcome = outcome;
    const record: CompletedCall = {
      requestId: call.requestId,
      sender: call.sender,
      canisterId: call.canisterId,
      effectiveCanisterId: call.effectiveCanisterId,
      ingressExpiry: call.ingressExpiry,
      pruneAt,
      outcome: call.outcome,
    };
    this.#pruneQueue.push({ call, pruneAt, record });
    if (this.#tracking) this.#completedSinceTake.push(record);
  }

  /** Adds a call restored from disk (with its outcome when the log kept it). */
  restore(call: CompletedCall, done: KnownCall['done']): void {
    this.add({ ...call, done, finished: true });
    this.#pruneQueue.push({ call: this.get(call.requestId)!, pruneAt: call.pruneAt, record: call });
    this.#pruneQueue.sort((a, b) => (a.pruneAt < b.pruneAt ? -1 : a.pruneAt > b.pruneAt ? 1 : 0));
  }

  /** Calls accepted and not yet completed (every commit writes them with the scheduler's state). */
  inflightCalls(): InflightCall[] {
    const out: InflightCall[] = [];
    for (const c of this.#calls.values()) {
      if (!c.finished)
        out.push({
          requestId: c.requestId,
          sender: c.sender,
          canisterId: c.canisterId,
          effectiveCanisterId: c.effectiveCanisterId,
          ingressExpiry: c.ingressExpiry,
        });
    }
    return out;
  }

  /** Every completed call still remembered (for a checkpoint); the same objects on every call, to read only. */
  completedCalls(): CompletedCall[] {
    this.#tracking = true;
    return this.#pruneQueue.map((entry) => entry.record);
  }

  /** Calls completed and pruned since the last take (for an incremental commit). */
  takeChanges(): { completed: CompletedCall[]; pruned: Uint8Array[] } {
    this.#tracking = true;
    const out = { completed: this.#completedSinceTake, pruned: this.#prunedSinceTake };
    this.#completedSinceTake = [];
    this.#prunedSinceTake = [];
    return out;
  }

  /** Removes due entries and returns their request ids (to drop from the state tree). */
  prune(nowNs: bigint): Uint8Array[] {
    const removed: Uint8Array[] = [];
    let i = 0;
    while (i < this.#pruneQueue.length && this.#pruneQueue[i].pruneAt <= nowNs) {
      const { call } = this.#pruneQueue[i];
      const key = toHex(call.requestId);
      if (this.#calls.get(key) === call) {
        this.#calls.delete(key);
        removed.push(call.requestId);
        if (this.#tracking) this.#prunedSinceTake.push(call.requestId);
      }
      i++;
    }
    if (i > 0) this.#pruneQueue.splice(0, i);
    return removed;
  }
}
