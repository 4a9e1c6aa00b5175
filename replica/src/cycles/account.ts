// A canister's cycles as the IC accounts for them: the freezing threshold, withdrawals that must
// leave it intact, prepaying and refunding execution, and the periodic charge for storage.
//
// Freezing threshold (interface spec, "Canister settings: freezing_threshold"; formula as in
// dfinity/ic rs/cycles_account_manager/src/lib.rs `freeze_threshold_cycles`, read 2026-11-28):
//   idle burn per day = memory cost of max(memory allocation, memory usage) for a day
//                     + memory cost of the message memory for a day
//                     + compute allocation cost for a day
//   threshold = idle burn per day * freezing_threshold_seconds / 86400 - reserved cycles (>= 0)
// A canister whose balance is below its threshold is frozen: it rejects calls and runs no
// messages, but keeps its state until the balance reaches zero.

import { applicationSubnetCosts, DEFAULT_FREEZING_THRESHOLD_SECONDS, type CyclesCosts } from './fees.ts';
import { ErrorCode } from '../ic/reject-codes.ts';

export interface CyclesState {
  balance: bigint;
  /** Cycles set aside for storage reservations (interface spec: reserved_cycles). */
  reservedBalance?: bigint;
  freezingThresholdSeconds?: bigint;
  /** Heap + stable memory + module + snapshots, in bytes (what canister_status calls memory_size). */
  memoryBytes: bigint;
  /** Memory allocation setting in bytes (0 or absent: best effort). */
  memoryAllocationBytes?: bigint;
  /** Bytes held in the canister's input and output queues. */
  messageMemoryBytes?: bigint;
  computeAllocationPercent?: bigint;
  /** The subnet's cost schedule (topology/topology.ts); default: a 13-node application subnet. */
  costs?: CyclesCosts;
}

const SECONDS_PER_DAY = 86_400n;
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** Cycles the canister burns per day while idle (canister_status: idle_cycles_burned_per_day). */
export function idleCyclesBurnedPerDay(s: CyclesState, costs: CyclesCosts = s.costs ?? applicationSubnetCosts): bigint {
  const memory = max(s.memoryAllocationBytes ?? 0n, s.memoryBytes);
  return (
    costs.memory(memory, SECONDS_PER_DAY) +
    costs.memory(s.messageMemoryBytes ?? 0n, SECONDS_PER_DAY) +
    costs.computeAllocation(s.computeAllocationPercent ?? 0n, SECONDS_PER_DAY)
  );
}

/** The balance below which the canister is frozen. */
export function freezingThresholdCycles(s: CyclesState, costs: CyclesCosts = s.costs ?? applicationSubnetCosts): bigint {
  const seconds = s.freezingThresholdSeconds ?? DEFAULT_FREEZING_THRESHOLD_SECONDS;
  const threshold = (idleCyclesBurnedPerDay(s, costs) * seconds) / SECONDS_PER_DAY;
  const reserved = s.reservedBalance ?? 0n;
  return threshold > reserved ? threshold - reserved : 0n;
}

export function isFrozen(s: CyclesState, costs: CyclesCosts = s.costs ?? applicationSubnetCosts): boolean {
  return freezingThresholdCycles(s, costs) > s.balance;
}

/**
 * The IC's CanisterOutOfCycles error (code IC0207). The message reveals how much to top up only
 * to a controller, as the IC does (`reveal_top_up`).
 */
export class OutOfCyclesError extends Error {
  readonly errorCode = ErrorCode.CanisterOutOfCycles;
  readonly canisterId: string;
  readonly available: bigint;
  readonly requested: bigint;
  readonly threshold: bigint;

  constructor(canisterId: string, available: bigint, requested: bigint, threshold: bigint, revealTopUp: boolean) {
    const missing = threshold + requested - available;
    super(
      revealTopUp
        ? `Canister ${canisterId} is out of cycles: please top up the canister with at least ${missing} additional cycles`
        : `Canister ${canisterId} is out of cycles`,
    );
    this.name = 'OutOfCyclesError';
    this.canisterId = canisterId;
    this.available = available;
    this.requested = requested;
    this.threshold = threshold;
  }
}

/**
 * Takes `amount` from the balance if what is left stays at or above the freezing threshold
 * (`withdraw_with_threshold` / `consume_with_threshold`); otherwise throws OutOfCyclesError and
 * changes nothing. Returns the new balance and mutates `s.balance`.
 */
export function withdrawCycles(
  s: CyclesState,
  amount: bigint,
  canisterId: string,
  options: { revealTopUp?: boolean; costs?: CyclesCosts; threshold?: bigint } = {},
): bigint {
  if (amount < 0n) throw new RangeError(`cannot withdraw a negative amount (${amount})`);
  const threshold = options.threshold ?? freezingThresholdCycles(s, options.costs);
  const available = s.balance > threshold ? s.balance - threshold : 0n;
  if (amount > available) {
    throw new OutOfCyclesError(canisterId, s.balance, amount, threshold, options.revealTopUp ?? false);
  }
  s.balance -= amount;
  return s.balance;
}

/**
 * The per-message cycles flow of an update-type execution:
 * `prepay` before running (fails when frozen or too poor, IC0207), `settle` afterwards with the
 * instructions actually used (refunds the unused part). Queries are free on the IC.
 */
export function prepayExecution(
  s: CyclesState,
  canisterId: string,
  instructionLimit: bigint,
  options: { wasm64?: boolean; revealTopUp?: boolean; costs?: CyclesCosts } = {},
): { prepaid: bigint; settle(used: bigint): { charged: bigint; refunded: bigint } } {
  const costs = options.costs ?? s.costs ?? applicationSubnetCosts;
  const prepaid = costs.execution(instructionLimit, options.wasm64);
  withdrawCycles(s, prepaid, canisterId, { revealTopUp: options.revealTopUp, costs });
  let settled = false;
  return {
    prepaid,
    settle(used: bigint) {
      if (settled) throw new Error('execution cycles were already settled');
      settled = true;
      const refunded = costs.executionRefund(instructionLimit, used, options.wasm64);
      s.balance += refunded;
      return { charged: prepaid - refunded, refunded };
    },
  };
}

/**
 * Charges storage and compute allocation for `seconds` (the IC does this every
 * `duration_between_allocation_charges` = 10 s). This may take the balance down to zero but
 * not below: reserved cycles are drained first, then the main balance. `exhausted` means the
 * canister could not pay in full; the IC then uninstalls its code.
 */
export function chargeForResources(
  s: CyclesState,
  seconds: bigint,
  costs: CyclesCosts = s.costs ?? applicationSubnetCosts,
): { charged: bigint; exhausted: boolean } {
  const perDay = idleCyclesBurnedPerDay(s, costs);
  let due = (perDay * seconds) / SECONDS_PER_DAY;
  let charged = 0n;
  const reserved = s.reservedBalance ?? 0n;
  const fromReserved = due < reserved ? due : reserved;
  if (fromReserved > 0n) {
    s.reservedBalance = reserved - fromReserved;
    due -= fromReserved;
    charged += fromReserved;
  }
  const fromBalance = due < s.balance ? due : s.balance;
  s.balance -= fromBalance;
  charged += fromBalance;
  return { charged, exhausted: fromBalance < due };
}
