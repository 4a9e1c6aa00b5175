// The Internet Computer's resource limits for an application subnet, as named constants with
// their sources. Every limit can be lowered per replica (`Replica.create({ limits })`, the CLI's
// --limit flags) so a test or a demo can hit it with little data; the defaults are the IC's.
//
// Sources (read 2026-11-28):
//   [docs]   internetcomputer.org "Canister resource limits" page (developer docs, current).
//   [config] dfinity/ic rs/config/src/subnet_config.rs (instruction limits, DTS slice) and
//            rs/config/src/embedders.rs (stable memory page limits, module shape limits).
// Every field is enforced (a test lowers it and hits it) and part of the public API
// (Replica.create({ limits }), the CLI's --limit). IC limits this replica does not enforce yet are
// not fields, so that --limit cannot claim to lower them:
//   - inter-canister request payload across subnets, 2 MiB [docs] (this replica is one subnet:
//     its calls get the same-subnet limit, maxRequestBytes);
//   - wasm32 main memory, 4 GiB (the 32-bit address space) [docs];
//   - stable memory per canister, 500 GiB [docs];
//   - uncompressed module size, 100 MiB [config WASM_MAX_SIZE]; functions per module, 50,000
//     [config MAX_FUNCTIONS]; globals per module, 1,000 [config MAX_GLOBALS].

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export interface Limits {
  /** Instructions per update call, callback, heartbeat or timer: 40 billion [docs; config MAX_INSTRUCTIONS_PER_MESSAGE]. */
  instructionsPerUpdate: number;
  /** Instructions per query or composite query: 5 billion [docs; config MAX_INSTRUCTIONS_PER_QUERY_MESSAGE]. */
  instructionsPerQuery: number;
  /** Instructions per install_code (start + init, or pre_upgrade + start + post_upgrade): 300 billion [docs; config MAX_INSTRUCTIONS_PER_INSTALL_CODE]. */
  instructionsPerInstall: number;
  /** Instructions per canister_inspect_message: 200 million [docs]. */
  instructionsPerInspect: number;
  /** Largest ingress message payload: 2 MiB [docs]. */
  maxIngressBytes: number;
  /** Largest response of a replicated execution (update, inter-canister): 2 MiB [docs]. */
  maxResponseBytes: number;
  /**
   * Largest inter-canister request (method name and argument) to a canister on the same subnet:
   * 10 MiB, five times the 2 MiB inter-canister payload [dfinity/ic rs/embedders system_api
   * MULTIPLIER_MAX_SIZE_LOCAL_SUBNET = 5; rs/types messages.rs MAX_INTER_CANISTER_PAYLOAD_IN_BYTES].
   * Beyond it ic0.call_new (method name) or ic0.call_data_append traps with IC0504
   * (system_api request_in_prep.rs).
   *
   * Best-effort (bounded-wait) calls have no payload limit of their own: request_in_prep.rs
   * applies this limit to every call whatever its kind (`timeout_seconds` only sets the
   * deadline), and their responses are held to `maxResponseBytes` as all responses are
   * (system_api.rs: an update's `max_reply_size` is MAX_INTER_CANISTER_PAYLOAD_IN_BYTES whatever
   * the call's deadline; read 2026-12-05). What bounds best-effort messages beyond that is the
   * subnet's best-effort message memory, by shedding (`bestEffortMessageMemoryBytes`).
   */
  maxRequestBytes: number;
  /** Largest response of a non-replicated query: 3 MiB [docs]. */
  maxQueryResponseBytes: number;
  /** Nested composite-query calls (the IC's MAX_QUERY_CALL_DEPTH = 6). */
  maxQueryCallDepth: number;
  /** Snapshots a canister may keep (the IC allows 10: MAX_NUMBER_OF_SNAPSHOTS_PER_CANISTER). */
  maxSnapshotsPerCanister: number;

  /** Stable memory a replicated message (update, callback, timer) may read or write: 2 GiB each [docs; config STABLE_MEMORY_*_PAGE_LIMIT_MESSAGE]. */
  stableAccessBytesPerMessage: number;
  stableWrittenBytesPerMessage: number;
  /** ... an install/upgrade: 8 GiB each [docs; config *_UPGRADE]. */
  stableAccessBytesPerUpgrade: number;
  stableWrittenBytesPerUpgrade: number;
  /** ... a query: 1 GiB each [docs; config *_QUERY]. */
  stableAccessBytesPerQuery: number;
  stableWrittenBytesPerQuery: number;

  // The subnet's scheduler (scheduler/README.md). [subnet] is dfinity/ic
  // rs/config/src/subnet_config.rs, [exec] rs/config/src/execution_environment.rs.
  /** Instructions one execution thread may run in a round: 7 billion [subnet MAX_INSTRUCTIONS_PER_ROUND]. */
  instructionsPerRound: number;
  /** Execution threads of an application subnet: 4 [subnet/exec NUMBER_OF_EXECUTION_THREADS]. */
  executionThreads: number;
  /** Deterministic time slicing: a slice of an update, callback or timer: 2 billion [subnet MAX_INSTRUCTIONS_PER_SLICE]. */
  instructionsPerSlice: number;
  /** ... a slice of install_code: 2 billion [subnet MAX_INSTRUCTIONS_PER_INSTALL_CODE_SLICE]. */
  instructionsPerInstallSlice: number;
  /** Messages one canister-pair queue holds, requests and responses each: 500 [rs/replicated_state/src/canister_state/queues.rs DEFAULT_QUEUE_CAPACITY]. */
  queueCapacity: number;
  /** Callbacks every canister may hold whatever the subnet's load: 50 [exec CANISTER_GUARANTEED_CALLBACK_QUOTA]. */
  canisterCallbackQuota: number;
  /** Callbacks on the subnet beyond which a canister is held to its quota: 1,000,000 [exec SUBNET_CALLBACK_SOFT_LIMIT]. */
  subnetCallbackSoftLimit: number;
  /**
   * Guaranteed-response message memory of the subnet: 15 GiB [exec
   * SUBNET_GUARANTEED_RESPONSE_MESSAGE_MEMORY_CAPACITY]. Every guaranteed-response call in flight
   * holds `max(request bytes, MAX_RESPONSE_COUNT_BYTES)` of it until its response is delivered
   * (rs/replicated_state canister_state/queues.rs `memory_usage_of_request`); best-effort calls
   * hold none. ic0.call_perform returns SYS_TRANSIENT (2) when a call does not fit (rs/system_api
   * `push_output_request`: failure to allocate message memory). The IC swaps a call's reservation
   * for its response's actual size once the response is queued; this replica keeps the
   * reservation until the response is delivered (usually in the same round), which can only
   * refuse a call the IC would accept in that short window. Message bytes count towards the
   * canister's own memory on the IC too; this replica does not count them there.
   */
  guaranteedResponseMessageMemoryBytes: number;
  /**
   * Best-effort message memory of the subnet: 5 GiB [exec SUBNET_BEST_EFFORT_MESSAGE_MEMORY_CAPACITY].
   * Best-effort calls are never refused against it: at the end of every round, while the
   * best-effort requests and responses waiting in the canisters' queues hold more, the largest
   * message of the canister holding the most is shed (rs/replicated_state queues.rs
   * `shed_largest_message`, message_pool.rs). A message counts its payload as the IC's
   * `count_bytes` does (a request its method name and argument, a response its reply data or
   * reject message); the IC adds the in-memory size of its Rust message structs, a few hundred
   * bytes per message that depend on its build, which this replica leaves out.
   */
  bestEffortMessageMemoryBytes: number;
  /** Longest timeout of a best-effort call: 300 s [rs/embedders system_api.rs MAX_CALL_TIMEOUT_SECONDS; spec ic0.call_with_best_effort_response]. */
  maxCallTimeoutSeconds: number;
  /** Bytes the query cache may hold, keys and values: 200 MiB [exec QUERY_CACHE_CAPACITY]. */
  queryCacheBytes: number;
  /** Seconds a cached query result stays valid at most: 600 [exec QUERY_CACHE_MAX_EXPIRY_TIME]. */
  queryCacheMaxExpirySeconds: number;
  /** ... if it read the data certificate: 60 [exec QUERY_CACHE_DATA_CERTIFICATE_EXPIRY_TIME]. */
  queryCacheDataCertificateExpirySeconds: number;
}

export const DEFAULT_LIMITS: Limits = {
  instructionsPerUpdate: 40e9,
  instructionsPerQuery: 5e9,
  instructionsPerInstall: 300e9,
  instructionsPerInspect: 200e6,
  maxIngressBytes: 2 * MiB,
  maxResponseBytes: 2 * MiB,
  maxRequestBytes: 10 * MiB,
  maxQueryResponseBytes: 3 * MiB,
  maxQueryCallDepth: 6,
  maxSnapshotsPerCanister: 10,

  stableAccessBytesPerMessage: 2 * GiB,
  stableWrittenBytesPerMessage: 2 * GiB,
  stableAccessBytesPerUpgrade: 8 * GiB,
  stableWrittenBytesPerUpgrade: 8 * GiB,
  stableAccessBytesPerQuery: 1 * GiB,
  stableWrittenBytesPerQuery: 1 * GiB,

  instructionsPerRound: 7e9,
  executionThreads: 4,
  instructionsPerSlice: 2e9,
  instructionsPerInstallSlice: 2e9,
  queueCapacity: 500,
  canisterCallbackQuota: 50,
  subnetCallbackSoftLimit: 1_000_000,
  guaranteedResponseMessageMemoryBytes: 15 * GiB,
  bestEffortMessageMemoryBytes: 5 * GiB,
  maxCallTimeoutSeconds: 300,
  queryCacheBytes: 200 * MiB,
  queryCacheMaxExpirySeconds: 600,
  queryCacheDataCertificateExpirySeconds: 60,
};

/**
 * The kinds of execution the IC budgets separately. Callbacks, timers, heartbeats and cleanup
 * run under the update limit; `start` runs inside install_code.
 */
export type ExecutionKind =
  | 'update'
  | 'replicated-query'
  | 'query'
  | 'composite-query'
  | 'callback'
  | 'cleanup'
  | 'timer'
  | 'heartbeat'
  | 'install'
  | 'upgrade'
  | 'pre-upgrade'
  | 'post-upgrade'
  | 'start'
  | 'inspect';

/** The instruction budget of one execution of `kind` (for the counter global, see metering/INTEGRATION.md). */
export function instructionLimit(limits: Limits, kind: ExecutionKind): bigint {
  switch (kind) {
    case 'query':
    case 'composite-query':
      return BigInt(limits.instructionsPerQuery);
    case 'install':
    case 'upgrade':
    case 'pre-upgrade':
    case 'post-upgrade':
    case 'start':
      return BigInt(limits.instructionsPerInstall);
    case 'inspect':
      return BigInt(limits.instructionsPerInspect);
    default:
      // update, replicated query, callbacks, cleanup, timers, heartbeats
      return BigInt(limits.instructionsPerUpdate);
  }
}

/** Stable memory bytes one execution of `kind` may access and write. */
export function stableMemoryAccessLimits(limits: Limits, kind: ExecutionKind): { accessed: number; written: number } {
  switch (kind) {
    case 'query':
    case 'composite-query':
    case 'inspect':
      return { accessed: limits.stableAccessBytesPerQuery, written: limits.stableWrittenBytesPerQuery };
    case 'install':
    case 'upgrade':
    case 'pre-upgrade':
    case 'post-upgrade':
    case 'start':
      return { accessed: limits.stableAccessBytesPerUpgrade, written: limits.stableWrittenBytesPerUpgrade };
    default:
      return { accessed: limits.stableAccessBytesPerMessage, written: limits.stableWrittenBytesPerMessage };
  }
}

/** Largest reply of one execution of `kind`. */
export function maxReplyBytes(limits: Limits, kind: ExecutionKind): number {
  return kind === 'query' || kind === 'composite-query' ? limits.maxQueryResponseBytes : limits.maxResponseBytes;
}

/**
 * What one guaranteed-response call in flight reserves for its response: the largest
 * inter-canister payload, 2 MiB (rs/types messages.rs MAX_INTER_CANISTER_PAYLOAD_IN_BYTES). The
 * IC's MAX_RESPONSE_COUNT_BYTES adds the in-memory size of its Rust `RequestOrResponse` and
 * `Response` structs, a few hundred bytes that depend on the IC's build; this replica leaves them
 * out, so its reservation is that much smaller than the IC's.
 */
export const MAX_RESPONSE_COUNT_BYTES = 2 * MiB;

/**
 * Main memory of a wasm64 canister: 6 GiB (internetcomputer.org, "Execution errors: Wasm memory
 * limit exceeded", read 2026-11-28: 4 GiB for wasm32, 6 GiB for wasm64).
 */
export const WASM64_HEAP_BYTES = 6 * GiB;

/**
 * Whether the canister's wasm_memory_limit setting applies: update calls, timers, heartbeats,
 * install and post_upgrade fail past it; queries, pre_upgrade and callbacks do not (ic-utils
 * `WasmMemoryLimit` docs, which describe the management canister setting).
 */
export function wasmMemoryLimitApplies(kind: ExecutionKind): boolean {
  return kind === 'update' || kind === 'timer' || kind === 'heartbeat' || kind === 'install' || kind === 'post-upgrade' || kind === 'start';
}

/** The IC's IC0539 text (rs/types error Display for WasmMemoryLimitExceeded). */
export function wasmMemoryLimitExceeded(limitBytes: bigint, peakBytes: bigint): string {
  return (
    `Canister exceeded its current Wasm memory limit of ${limitBytes} bytes. The peak Wasm memory usage was ${peakBytes} bytes. ` +
    'If the canister reaches 4GiB, then it may stop functioning and may become unrecoverable. ' +
    'Please reach out to the canister owner to investigate the reason for the increased memory usage. ' +
    'It might be necessary to move data from the Wasm memory to the stable memory. ' +
    'If such high Wasm memory usage is expected and safe, then the developer can increase the Wasm memory limit in the canister settings.'
  );
}

/**
 * The IC's contract-violation text (IC0504) when a reply would exceed `max` bytes, or undefined
 * when `current + appended` fits (dfinity/ic system_api `ic0_msg_reply_data_append`).
 */
export function replyTooLarge(current: number, appended: number, max: number, call = 'ic0.msg_reply_data_append'): string | undefined {
  const size = current + appended;
  return size > max ? `${call}: application payload size (${size}) cannot be larger than ${max}` : undefined;
}

/**
 * The IC's contract-violation text (IC0504) when a request under construction would exceed `max`
 * bytes (method name and argument), or undefined when it fits (system_api request_in_prep.rs
 * `extend_method_payload`).
 */
export function requestTooLarge(callee: string, method: string, current: number, appended: number, max: number): string | undefined {
  const size = current + appended;
  return size > max ? `Request to ${callee}:${method} has a payload size of ${size}, which exceeds the allowed limit of ${max}.` : undefined;
}

/**
 * Defaults overlaid with the caller's changes, each checked: a limit must be a positive integer.
 * Raising a limit above the IC's is allowed (a local replica may be more generous) but lowering
 * is what tests and demos use.
 */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof Limits, unknown]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) {
      throw new Error(`unknown limit "${key}"; known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    }
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
      throw new Error(`limit ${key} must be a positive integer, got ${String(value)}`);
    }
    out[key] = n;
  }
  return out;
}

/**
 * Parses command-line limit assignments such as `instructionsPerQuery=1e6` or
 * `maxIngressBytes=64KiB` (the CLI's `--limit` flag; repeatable). Units: K/M/G for thousands
 * etc., KiB/MiB/GiB for powers of 1024, and `e` notation. Errors name the bad assignment.
 */
export function parseLimitAssignments(assignments: readonly string[]): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const text of assignments) {
    const m = /^([A-Za-z0-9]+)=([0-9.eE+]+)\s*(KiB|MiB|GiB|K|M|B|G|T)?$/.exec(text.trim());
    if (!m) throw new Error(`--limit expects name=value (e.g. instructionsPerQuery=1e6), got "${text}"`);
    const [, name, number, unit] = m;
    const scale: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12 };
    const value = Number(number) * (unit ? scale[unit] : 1);
    Object.assign(out, resolveLimitsDelta(name, value));
  }
  resolveLimits(out); // validates names and values together
  return out;
}

function resolveLimitsDelta(name: string, value: number): Partial<Limits> {
  if (!(name in DEFAULT_LIMITS)) {
    throw new Error(`unknown limit "${name}"; known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
  }
  return { [name]: value } as Partial<Limits>;
}

export const WASM_PAGE_BYTES = 64 * KiB;
/** The IC tracks stable memory access in 4 KiB OS pages (config STABLE_MEMORY_*_PAGE_LIMIT_*). */
export const OS_PAGE_BYTES = 4 * KiB;
