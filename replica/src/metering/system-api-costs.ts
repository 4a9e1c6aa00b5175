// What the IC charges, in instructions, for calling into the System API, and the helpers the
// execution engine uses to charge it on the same counter the instrumented code decrements.
//
// Source: dfinity/ic rs/embedders/src/wasmtime_embedder/system_api_complexity.rs (`overhead`
// constants) and linker.rs (which call charges what), read 2026-11-28. A call costs a fixed
// overhead plus one instruction per byte it copies between the heap and the system
// (`get_num_instructions_from_bytes` on application subnets); bytes that leave the canister in a
// reply, a reject or an outgoing call cost 50 per byte (BYTE_TRANSMISSION_COST_FACTOR).
//
// Where we differ: the IC charges log output by the space it takes in the canister log ring buffer
// (2 x bytes kept + 50 x bytes sent to the replica); we charge debug_print and trap as if the
// message were kept and sent whole, up to the 4 KiB log buffer. Stable memory writes also cost
// the IC 1,000 instructions per 4 KiB page they dirty for the first time in a message
// (DEFAULT_DIRTY_PAGE_OVERHEAD); the engine passes that page count to `chargeStableWrite`.

export const BYTE_TRANSMISSION_COST_FACTOR = 50n;
export const DIRTY_PAGE_OVERHEAD = 1_000n;
export const CANISTER_LOG_BUFFER_BYTES = 4096n;

/** Fixed instructions per System API call (overhead); names as imported from "ic0". */
export const SYSTEM_API_OVERHEAD: Readonly<Record<string, bigint>> = {
  accept_message: 500n,
  call_cycles_add: 500n,
  call_cycles_add128: 500n,
  call_data_append: 500n,
  call_new: 1_500n,
  call_on_cleanup: 500n,
  call_perform: 5_000n,
  call_with_best_effort_response: 500n,
  canister_cycle_balance: 500n,
  canister_cycle_balance128: 500n,
  canister_liquid_cycle_balance128: 500n,
  canister_self_copy: 500n,
  canister_self_size: 500n,
  canister_status: 500n,
  canister_version: 500n,
  certified_data_set: 500n,
  controller_copy: 500n,
  controller_size: 500n,
  cycles_burn128: 100n,
  data_certificate_copy: 500n,
  data_certificate_present: 500n,
  data_certificate_size: 500n,
  debug_print: 100n,
  global_timer_set: 500n,
  in_replicated_execution: 500n,
  is_controller: 1_000n,
  msg_arg_data_copy: 500n,
  msg_arg_data_size: 500n,
  msg_caller_copy: 500n,
  msg_caller_size: 500n,
  msg_cycles_accept: 500n,
  msg_cycles_accept128: 500n,
  msg_cycles_available: 500n,
  msg_cycles_available128: 500n,
  msg_cycles_refunded: 500n,
  msg_cycles_refunded128: 500n,
  msg_deadline: 500n,
  msg_method_name_copy: 500n,
  msg_method_name_size: 500n,
  msg_reject: 500n,
  msg_reject_code: 500n,
  msg_reject_msg_copy: 500n,
  msg_reject_msg_size: 500n,
  msg_reply: 500n,
  msg_reply_data_append: 500n,
  performance_counter: 200n,
  root_key_copy: 500n,
  root_key_size: 500n,
  stable_grow: 100n,
  stable_read: 20n,
  stable_size: 20n,
  stable_write: 20n,
  stable64_grow: 100n,
  stable64_read: 20n,
  stable64_size: 20n,
  stable64_write: 20n,
  subnet_self_copy: 500n,
  subnet_self_size: 500n,
  time: 500n,
  trap: 500n,
};

/** Calls the IC's table does not list (newer cost_* helpers and the like) cost this much. */
export const DEFAULT_SYSTEM_API_OVERHEAD = 500n;

/**
 * Which argument of each call is a byte count that is charged, and at what rate per byte.
 * Positions are 0-based in the ic0 signature (interface spec, "System API imports").
 */
const BYTE_ARGUMENTS: Readonly<Record<string, ReadonlyArray<readonly [number, bigint]>>> = {
  msg_caller_copy: [[2, 1n]],
  msg_arg_data_copy: [[2, 1n]],
  msg_method_name_copy: [[2, 1n]],
  msg_reject_msg_copy: [[2, 1n]],
  msg_reply_data_append: [[1, BYTE_TRANSMISSION_COST_FACTOR]],
  msg_reject: [[1, BYTE_TRANSMISSION_COST_FACTOR]],
  canister_self_copy: [[2, 1n]],
  subnet_self_copy: [[2, 1n]],
  root_key_copy: [[2, 1n]],
  controller_copy: [[2, 1n]],
  data_certificate_copy: [[2, 1n]],
  certified_data_set: [[1, 1n]],
  is_controller: [[1, 1n]],
  call_new: [
    [1, 1n],
    [3, 1n],
  ], // callee id and method name
  call_data_append: [[1, BYTE_TRANSMISSION_COST_FACTOR]],
  stable_read: [[2, 1n]],
  stable_write: [[2, 1n]],
  stable64_read: [[2, 1n]],
  stable64_write: [[2, 1n]],
};

const toBig = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(Math.max(0, Math.trunc(Number(v)))));

/** Instructions the IC charges for one call of `ic0.<name>` with these arguments. */
export function systemApiCost(name: string, args: ArrayLike<unknown> = []): bigint {
  let cost = SYSTEM_API_OVERHEAD[name] ?? DEFAULT_SYSTEM_API_OVERHEAD;
  if (name === 'debug_print' || name === 'trap') {
    // Message bytes, plus the log buffer charge (see the header).
    const size = toBig(args[1] ?? 0);
    const kept = size < CANISTER_LOG_BUFFER_BYTES ? size : CANISTER_LOG_BUFFER_BYTES;
    return cost + size + 2n * kept + BYTE_TRANSMISSION_COST_FACTOR * kept;
  }
  const byteArgs = BYTE_ARGUMENTS[name];
  if (byteArgs) for (const [index, rate] of byteArgs) cost += toBig(args[index] ?? 0) * rate;
  return cost;
}

/** Thrown by a System API call when the message has run out of instructions. */
export class OutOfInstructionsError extends Error {
  constructor(limit?: bigint) {
    super(
      limit === undefined
        ? 'Canister exceeded the instruction limit for single message execution.'
        : `Canister exceeded the limit of ${limit} instructions for single message execution.`,
    );
    this.name = 'OutOfInstructionsError';
  }
}

/**
 * Stateless form of `InstructionMeter.chargeSystemApi` for an engine that keeps only the
 * instance's counter global: charges `ic0.<name>(...args)` on it, and throws
 * OutOfInstructionsError (leaving the counter negative, which is how the engine recognises the
 * IC0522 case) when the counter is already negative or the charge takes it below zero.
 * A module without a counter (unmetered) is not charged.
 *
 * `reserve`: for a time-sliced message, the part of its budget not yet in the counter. The
 * counter then holds one slice, and a charge larger than what is left of it only ends the slice:
 * the counter may go that far below zero, and the Wasm's next counter check pauses the message
 * (execution/execute.ts executeSliced), as the IC's System API calls its out-of-instructions
 * handler when a charge exceeds the slice. Only the message's whole budget makes it IC0522, so
 * outcomes and counts are the same sliced or not.
 */
export function chargeSystemApiCall(counter: WebAssembly.Global | undefined, name: string, args: ArrayLike<unknown>, reserve = 0n): void {
  if (!counter) return;
  const before = counter.value as bigint;
  if (before + reserve < 0n) throw new OutOfInstructionsError();
  const after = before - systemApiCost(name, args);
  counter.value = after;
  if (after + reserve < 0n) throw new OutOfInstructionsError();
}

/**
 * One message's instruction accounting on an instance's counter global. The engine creates one
 * per execution: `begin()` before calling into the canister, `charge*` from System API imports,
 * `end()` afterwards.
 */
export class InstructionMeter {
  readonly counter: WebAssembly.Global | undefined;
  readonly budget: bigint;
  /** Instructions charged while no counter exists (unmetered module): keeps totals honest. */
  private unmeteredCharges = 0n;

  constructor(counter: WebAssembly.Global | undefined, budget: bigint) {
    this.counter = counter;
    this.budget = budget;
  }

  begin(): void {
    if (this.counter) this.counter.value = this.budget;
  }

  left(): bigint {
    return this.counter ? (this.counter.value as bigint) : this.budget - this.unmeteredCharges;
  }

  /** Instructions used so far (ic0.performance_counter(0)); never more than the budget. */
  used(): bigint {
    const used = this.budget - this.left();
    return used > this.budget ? this.budget : used < 0n ? 0n : used;
  }

  /** True once the counter has gone below zero: the message exceeded its instruction limit. */
  exceeded(): boolean {
    return this.left() < 0n;
  }

  /**
   * Charges `instructions` like the IC's `charge_direct_fee`: a counter already below zero, or
   * one that the charge takes below zero, ends the message with OutOfInstructionsError.
   */
  charge(instructions: bigint): void {
    if (!this.counter) {
      this.unmeteredCharges += instructions;
      return;
    }
    const before = this.counter.value as bigint;
    if (before < 0n) throw new OutOfInstructionsError(this.budget);
    const after = before - instructions;
    this.counter.value = after;
    if (after < 0n) throw new OutOfInstructionsError(this.budget);
  }

  /** Charges the cost of `ic0.<name>(...args)`. Call it first thing in the import. */
  chargeSystemApi(name: string, args: ArrayLike<unknown>): void {
    this.charge(systemApiCost(name, args));
  }

  /** Stable memory writes: the call's cost plus 1,000 per 4 KiB page first dirtied now. */
  chargeStableWrite(name: 'stable_write' | 'stable64_write', size: number | bigint, newlyDirtiedPages: number): void {
    this.charge(systemApiCost(name, [0, 0, size]) + DIRTY_PAGE_OVERHEAD * BigInt(newlyDirtiedPages));
  }
}

/**
 * Wraps every function of an `ic0` import object so that it charges its IC cost on
 * `meter()` (the current message's meter) before doing its work. The wrapped functions keep
 * their names and arguments. Stable writes are charged without dirty-page overhead here; an
 * engine that tracks dirty pages charges those itself with `chargeStableWrite`.
 */
export function meteredSystemApi<T extends Record<string, unknown>>(ic0: T, meter: () => InstructionMeter | undefined): T {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(ic0)) {
    if (typeof f !== 'function') {
      out[name] = f;
      continue;
    }
    const impl = f as (...args: unknown[]) => unknown;
    out[name] = function (...args: unknown[]) {
      meter()?.chargeSystemApi(name, args);
      return impl(...args);
    };
  }
  return out as T;
}
