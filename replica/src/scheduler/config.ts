// The subnet figures the scheduler uses that are not per-replica limits (those live in
// limits.ts, where tests and the CLI can lower them). Each is the IC's, named as the IC names
// it, with the file it comes from in dfinity/ic.

/** Entering and leaving the Wasm engine, counted against the round: 2 million (rs/config/src/subnet_config.rs INSTRUCTION_OVERHEAD_PER_EXECUTION). */
export const INSTRUCTION_OVERHEAD_PER_EXECUTION = 2_000_000n;

/** Preparing a canister for execution in a round: 8 million (subnet_config.rs INSTRUCTION_OVERHEAD_PER_CANISTER). */
export const INSTRUCTION_OVERHEAD_PER_CANISTER = 8_000_000n;

/**
 * Long executions that may be paused between rounds at once: 4 (subnet_config.rs
 * MAX_PAUSED_EXECUTIONS). At the end of a round those past it are aborted and run again from
 * the start (scheduler.ts abortPausedAboveLimit); paused install_code steps do not count.
 */
export const MAX_PAUSED_EXECUTIONS = 4;

/** Ingress messages one block (one round) brings in at most: 1000 (rs/limits/src/lib.rs MAX_INGRESS_MESSAGES_PER_BLOCK). */
export const MAX_INGRESS_MESSAGES_PER_BLOCK = 1000;

/**
 * How long a notary of an application subnet waits before notarizing a block of rank 0: 600 ms
 * (rs/limits/src/lib.rs INITIAL_NOTARY_DELAY_APP_SUBNET). It sets the pace of blocks, hence of
 * rounds, on an application subnet; `--pacing mainnet` starts a round this often.
 */
export const INITIAL_NOTARY_DELAY_APP_SUBNET_MS = 600;

/**
 * What the caller's callback receives when a best-effort call's deadline passes before the
 * response arrives (interface spec, "Best-effort responses": the system answers SYS_UNKNOWN).
 * The text is the IC's for an expired callback (dfinity/ic rs/replicated_state system_state.rs
 * `pop_input`: a `DeadlineExpired` compact response becomes a SysUnknown reject with it). The
 * IC's other timeout text, "Request timed out." (SYS_TRANSIENT), is for a request that expired
 * in an output queue before reaching its callee, which cannot happen here: calls reach their
 * callee's queue as they are made, as between canisters of one subnet.
 */
export const DEADLINE_EXPIRED_MESSAGE = 'Call deadline has expired.';

/**
 * What the caller's callback receives, with SYS_UNKNOWN, in place of a best-effort response that
 * was shed to keep the subnet's best-effort message memory within its limit (dfinity/ic
 * rs/replicated_state system_state.rs `pop_input`: a `ResponseDropped` compact response becomes a
 * SysUnknown reject with this text).
 */
export const RESPONSE_DROPPED_MESSAGE = 'Response was dropped.';

export type Pacing = 'instant' | 'mainnet';

export interface SubnetOptions {
  /**
   * 'instant' (default): a round starts as soon as a message waits, so an update answers in
   * about a millisecond. 'mainnet': a round starts every `roundMs` and an update's reply is
   * released when the round after the one that executed it is certified, as on an
   * application subnet; queries still answer at once.
   */
  pacing?: Pacing;
  /** Milliseconds between rounds with mainnet pacing. Default INITIAL_NOTARY_DELAY_APP_SUBNET_MS. */
  roundMs?: number;
  /** The replica-side query cache (on by default, as on the IC). */
  queryCache?: boolean;
}
