// The MessageContext a System API call sees, built per execution (interface spec, "System
// API": what each entry point may read and change), and the cycles account the fee helpers of
// cycles/ work on.
import { CanisterTrap, effect, type ApiKind, type MessageContext } from '../system-api/context.ts';
import type { Canister } from '../execution/canister.ts';
import { maxReplyBytes, stableMemoryAccessLimits, type ExecutionKind, type Limits } from '../limits.ts';
import { StableMemoryAccessMeter } from '../metering/stable-access.ts';
import { freezingThresholdCycles, OutOfCyclesError, withdrawCycles, type CyclesState } from '../cycles/account.ts';
import type { Clock } from './clock.ts';
import type { ReplicaLog } from '../log.ts';

export interface ContextSource {
  log: ReplicaLog;
  clock: Clock;
  limits: Limits;
  subnetId: Uint8Array;
  /** The time of the round under way, which replicated executions see (the IC's batch time). */
  roundTime?: bigint;
}

export function createMessageContext(s: ContextSource, canister: Canister, kind: ApiKind, init: Partial<MessageContext> = {}): MessageContext {
  const log = s.log;
  const replicated = kind !== 'NRQ' && kind !== 'CQ' && kind !== 'CRy' && kind !== 'CRt' && kind !== 'F';
  const now = (replicated ? s.roundTime : undefined) ?? s.clock.nowNanos();
  const ctx: MessageContext = {
    kind,
    canister,
    caller: new Uint8Array(),
    arg: new Uint8Array(),
    methodName: '',
    time: now,
    rejectCode: 0,
    rejectMessage: '',
    callContextResponded: false,
    replyBuffer: [],
    replySize: 0,
    cyclesAvailable: 0n,
    cyclesAccepted: 0n,
    cyclesRefunded: 0n,
    outgoing: [],
    previousGlobalTimer: canister.globalTimer,
    messageAccepted: false,
    debugPrint: (line) =>
      effect(ctx, () => {
        log.debugPrint(canister.name, line);
        // Only replicated executions reach the canister log, as on the IC.
        if (replicated) canister.appendLog(line, now);
      }),
    instructionCounter: () => 0n,
    callContextInstructions: 0n,
    replicated,
    deadline: 0n,
    subnetId: canister.subnetId ?? s.subnetId,
    takeCycles: (amount) => {
      if (amount > 0n && canister.balance < amount) {
        throw new CanisterTrap(`insufficient cycles: the canister has ${canister.balance} and needs ${amount}`);
      }
      canister.balance -= amount;
    },
    burnCycles: (amount) => {
      // cycles_burn128 never takes the balance below the freezing threshold (interface spec).
      const threshold = freezingThresholdCycles(cyclesStateOf(canister));
      const available = canister.balance > threshold ? canister.balance - threshold : 0n;
      const burned = amount < available ? amount : available;
      canister.balance -= burned;
      return burned;
    },
    prepayCall: (requestBytes) => {
      const fees = canister.costs.callPrepayment(requestBytes, BigInt(s.limits.instructionsPerUpdate), canister.module?.info.memory64);
      try {
        withdrawCycles(cyclesStateOf(canister), fees.transmission + fees.execution, canister.idText);
        return fees;
      } catch (e) {
        if (e instanceof OutOfCyclesError) return undefined;
        throw e;
      }
    },
    replyLimit: maxReplyBytes(s.limits, executionKind(kind)),
    requestLimit: s.limits.maxRequestBytes,
    stableAccess: new StableMemoryAccessMeter(stableMemoryAccessLimits(s.limits, executionKind(kind))),
    ...init,
  };
  return ctx;
}

/** The canister's cycles account as cycles/account.ts sees it; `balance` writes through. */
export function cyclesStateOf(canister: Canister): CyclesState {
  const settings = canister.settings;
  return {
    get balance() {
      return canister.balance;
    },
    set balance(v: bigint) {
      canister.balance = v;
    },
    freezingThresholdSeconds: settings.freezingThreshold,
    memoryBytes: canister.memorySize,
    memoryAllocationBytes: settings.memoryAllocation,
    computeAllocationPercent: settings.computeAllocation,
    costs: canister.costs,
  };
}

/** The spec's entry-point kinds mapped to the IC's budget classes (limits.ts). */
export function executionKind(kind: ApiKind): ExecutionKind {
  switch (kind) {
    case 'I':
      return 'install';
    case 'G':
      return 'upgrade';
    case 's':
      return 'start';
    case 'U':
      return 'update';
    case 'RQ':
      return 'replicated-query';
    case 'NRQ':
      return 'query';
    case 'CQ':
    case 'CRy':
    case 'CRt':
      return 'composite-query';
    case 'Ry':
    case 'Rt':
      return 'callback';
    case 'C':
      return 'cleanup';
    case 'F':
      return 'inspect';
    case 'T':
      return 'timer';
  }
}

/** Executions that pay for their instructions; queries and inspect_message are free. */
export const chargedKinds = new Set<ApiKind>(['I', 'G', 's', 'U', 'RQ', 'Ry', 'Rt', 'C', 'T']);
