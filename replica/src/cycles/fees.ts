// The IC's cycles fee table for an application subnet, and the cost formulas built on it.
//
// Source of every fee below, unless a line says otherwise: dfinity/ic
// rs/config/src/subnet_config.rs, `CyclesAccountManagerConfig::application_subnet()` (read
// 2026-11-28). The formulas follow rs/cycles_account_manager/src/lib.rs (same date): fees are
// stated for the reference subnet size of 13 nodes and scale linearly with the subnet's size
// (`scale_cost`: fee * subnet_size / 13). The replica models a 13-node application subnet, so
// by default the scaling is the identity; `subnetSize` is there for demos of other sizes.
//
// Where we differ: the newest IC code also charges a per-canister base fee per second for any
// canister with memory (`base_per_second_fee`); the fee table we read does not list its value,
// so we do not charge it. Cycles are bigints throughout (they are u128 on the IC).

export const REFERENCE_SUBNET_SIZE = 13n;

export interface FeeTable {
  /** Creating a canister: 500B cycles. */
  canisterCreation: bigint;
  /** Fixed fee for every executed update-type message: 5M cycles. */
  updateMessageExecution: bigint;
  /** Per 10 instructions of an update-type message in a wasm32 canister: 10 cycles (1/instruction). */
  tenUpdateInstructions: bigint;
  /** ... in a wasm64 canister: twice that (WASM64_INSTRUCTION_COST_OVERHEAD = 2). */
  tenUpdateInstructionsWasm64: bigint;
  /** Per inter-canister call (request and response): 260K cycles. */
  xnetCall: bigint;
  /** Per byte of an inter-canister request or response: 1,000 cycles. */
  xnetByteTransmission: bigint;
  /** Per ingress message received: 1.2M cycles. */
  ingressMessageReception: bigint;
  /** Per byte of an ingress message: 2,000 cycles. */
  ingressByteReception: bigint;
  /** Per GiB stored per second: 127,000 cycles (4 SDR per GiB per year, as the source notes). */
  gibStoragePerSecond: bigint;
  /** Per percent of compute allocation per second: 10M cycles. */
  computePercentAllocatedPerSecond: bigint;
  /** Threshold ECDSA / Schnorr signature and vetKD derivation: 10B cycles each (ECDSA_SIGNATURE_FEE etc.). */
  ecdsaSignature: bigint;
  schnorrSignature: bigint;
  vetkd: bigint;
  /** HTTPS outcalls: linear and per-node quadratic base, per request byte, per response byte. */
  httpRequestLinearBaseline: bigint;
  httpRequestQuadraticBaseline: bigint;
  httpRequestPerByte: bigint;
  httpResponsePerByte: bigint;
  /** fetch_canister_logs: 1M base plus 800 per byte. */
  fetchCanisterLogsBase: bigint;
  fetchCanisterLogsPerByte: bigint;
  /** Reserved-cycles limit when a canister sets none: 5T cycles (DEFAULT_RESERVED_BALANCE_LIMIT). */
  defaultReservedBalanceLimit: bigint;
}

export const APPLICATION_SUBNET_FEES: FeeTable = {
  canisterCreation: 500_000_000_000n,
  updateMessageExecution: 5_000_000n,
  tenUpdateInstructions: 10n,
  tenUpdateInstructionsWasm64: 20n,
  xnetCall: 260_000n,
  xnetByteTransmission: 1_000n,
  ingressMessageReception: 1_200_000n,
  ingressByteReception: 2_000n,
  gibStoragePerSecond: 127_000n,
  computePercentAllocatedPerSecond: 10_000_000n,
  ecdsaSignature: 10_000_000_000n,
  schnorrSignature: 10_000_000_000n,
  vetkd: 10_000_000_000n,
  httpRequestLinearBaseline: 3_000_000n,
  httpRequestQuadraticBaseline: 60_000n,
  httpRequestPerByte: 400n,
  httpResponsePerByte: 800n,
  fetchCanisterLogsBase: 1_000_000n,
  fetchCanisterLogsPerByte: 800n,
  defaultReservedBalanceLimit: 5_000_000_000_000n,
};

/** Interface spec: a canister's default freezing threshold is 30 days. */
export const DEFAULT_FREEZING_THRESHOLD_SECONDS = 30n * 24n * 3600n;
/** Largest inter-canister payload; calls prepay the transmission of a response this large. */
export const MAX_INTER_CANISTER_PAYLOAD_BYTES = 2n * 1024n * 1024n;
const GIB = 1024n * 1024n * 1024n;

/** Cost formulas over one fee table and subnet size. */
export class CyclesCosts {
  readonly fees: FeeTable;
  readonly subnetSize: bigint;

  constructor(fees: FeeTable = APPLICATION_SUBNET_FEES, subnetSize = 13) {
    if (!Number.isInteger(subnetSize) || subnetSize <= 0) throw new Error(`subnet size must be a positive integer, got ${subnetSize}`);
    this.fees = fees;
    this.subnetSize = BigInt(subnetSize);
  }

  /** The IC's `scale_cost`: fees are quoted for 13 nodes. */
  scale(cycles: bigint): bigint {
    return (cycles * this.subnetSize) / REFERENCE_SUBNET_SIZE;
  }

  /** Instructions to cycles without the fixed fee (`convert_instructions_to_cycles`). */
  instructionsToCycles(instructions: bigint, wasm64 = false): bigint {
    const ten = wasm64 ? this.fees.tenUpdateInstructionsWasm64 : this.fees.tenUpdateInstructions;
    return (ten * instructions) / 10n;
  }

  /** Cost of executing an update-type message of `instructions` (`execution_cost`). */
  execution(instructions: bigint, wasm64 = false): bigint {
    return this.scale(this.fees.updateMessageExecution + this.instructionsToCycles(instructions, wasm64));
  }

  /**
   * What is refunded after a message prepaid for `limit` instructions used `used`
   * (`refund_unused_execution_cycles`: the variable part of the unused instructions).
   */
  executionRefund(limit: bigint, used: bigint, wasm64 = false): bigint {
    const unused = used >= limit ? 0n : limit - used;
    return this.scale(this.instructionsToCycles(unused, wasm64));
  }

  /** Ingress induction: paid by the receiving canister (`ingress_induction_cost_from_bytes`). */
  ingressInduction(messageBytes: number | bigint): bigint {
    return this.scale(this.fees.ingressMessageReception) + this.scale(this.fees.ingressByteReception) * BigInt(messageBytes);
  }

  /**
   * What `ic0.call_perform` withdraws from the caller beyond attached cycles: the call fee, the
   * request bytes, the transmission of a maximal response, and the execution of the response
   * callback at the update instruction limit (`xnet_call_total_fee`). Most is refunded later.
   */
  callPrepayment(requestBytes: number | bigint, maxInstructions: bigint, wasm64 = false): { transmission: bigint; execution: bigint } {
    const transmission =
      this.scale(this.fees.xnetCall) +
      this.scale(this.fees.xnetByteTransmission * BigInt(requestBytes)) +
      this.scale(this.fees.xnetByteTransmission * MAX_INTER_CANISTER_PAYLOAD_BYTES);
    return { transmission, execution: this.execution(maxInstructions, wasm64) };
  }

  /** Refund of the response-transmission prepayment once the response size is known. */
  responseTransmissionRefund(responseBytes: number | bigint): bigint {
    const prepaid = this.scale(this.fees.xnetByteTransmission * MAX_INTER_CANISTER_PAYLOAD_BYTES);
    const actual = this.scale(this.fees.xnetByteTransmission * BigInt(responseBytes));
    return actual >= prepaid ? 0n : prepaid - actual;
  }

  /** Storage of `bytes` for `seconds` (`memory_cost`). */
  memory(bytes: number | bigint, seconds: number | bigint): bigint {
    return this.scale((BigInt(bytes) * this.fees.gibStoragePerSecond * BigInt(seconds)) / GIB);
  }

  /** A compute allocation of `percent` for `seconds`. */
  computeAllocation(percent: number | bigint, seconds: number | bigint): bigint {
    return this.scale(this.fees.computePercentAllocatedPerSecond * BigInt(seconds) * BigInt(percent));
  }

  canisterCreation(): bigint {
    return this.scale(this.fees.canisterCreation);
  }

  /**
   * An HTTPS outcall (ic0.cost_http_request; interface spec "Cycles costs", the IC's
   * `http_request_fee`): (3M + 60K·n)·n + 400·n per request byte + 800·n per byte of the
   * response limit, for n nodes.
   */
  httpRequest(requestBytes: bigint, maxResponseBytes: bigint): bigint {
    const n = this.subnetSize;
    const f = this.fees;
    return (
      (f.httpRequestLinearBaseline + f.httpRequestQuadraticBaseline * n) * n +
      f.httpRequestPerByte * n * requestBytes +
      f.httpResponsePerByte * n * maxResponseBytes
    );
  }
}

export const applicationSubnetCosts = new CyclesCosts();

/**
 * The Free cost schedule: nothing costs cycles. Canisters on subnets of type "system" (NNS, II,
 * Bitcoin, system subnets) pay no fees on the IC: rs/cycles_account_manager/src/lib.rs scales
 * every cost to zero under `CanisterCyclesCostSchedule::Free` (read 2026-12-04); PocketIC lets
 * application subnets ask for it too (`cost_schedule`). Every formula above goes through
 * `scale`, so zeroing it zeroes them all.
 */
class FreeCyclesCosts extends CyclesCosts {
  override scale(): bigint {
    return 0n;
  }
}
export const freeCosts: CyclesCosts = new FreeCyclesCosts();
