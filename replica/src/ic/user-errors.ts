// The texts of the errors the IC itself produces, written the way the IC writes them, so that a
// client (or a calling canister) sees here what it sees on the IC. Our own words and context
// (function names, the method that failed) go to the log line, never into these texts.
//
// Sources in dfinity/ic (read 2026-12):
//  - rs/interfaces/src/execution_environment/errors.rs: `HypervisorError`, its Display text,
//    its advice (`AsErrorHelp`) and `into_user_error`, which makes the user-facing description
//    "Error from Canister <id>: <text>" and, when there is advice, ".\n<advice>" after it;
//    `TrapCode` and its Display.
//  - rs/types/wasm_types/src/errors.rs: `ErrorHelp` (its Display: "<suggestion> See
//    documentation: <link>", the toolchain and internal-error texts) and `doc_ref`.
//  - rs/execution_environment/src/canister_manager/types.rs: `CanisterManagerError` into
//    `UserError` (the description, then "\n<advice>" when there is advice).
//  - packages/ic-error-types/src/lib.rs: `UserError`'s Display is "<code>: <description>";
//    that is the text a calling canister receives when the callee's execution failed
//    (rs/execution_environment/src/execution/common.rs, `action_to_request_response`).
import { ErrorCode, RejectCode, rejectCodeOf } from './reject-codes.ts';
import type { CallResponse } from './call-outcome.ts';

/**
 * The execution-errors page the IC's advice links to: dfinity/ic's `doc_ref`
 * (rs/types/wasm_types/src/errors.rs) builds `<base>#<section>`. Its base was
 * `http://internetcomputer.org/docs/current/references/execution-errors`, then `https://` (dfinity/ic
 * pull request 3895), and since May 2026 the new documentation site's
 * `https://docs.internetcomputer.org/references/execution-errors` (dfinity/ic pull request 10268);
 * replicas built since answer with that, so this does too.
 */
export const EXECUTION_ERRORS_DOC = 'https://docs.internetcomputer.org/references/execution-errors';

export const docRef = (section: string): string => `${EXECUTION_ERRORS_DOC}#${section}`;

/** The IC's `ErrorHelp`: advice for the canister's developer, a toolchain bug, or an IC bug. */
export type ErrorHelp = { kind: 'user'; suggestion: string; docLink: string } | { kind: 'toolchain' } | { kind: 'internal' } | { kind: 'none' };

export const TOOLCHAIN_HELP =
  'This is likely an error with the compiler/CDK toolchain being used to build the canister. Please report the error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister.';
export const INTERNAL_HELP = 'This is an internal error on the IC. Please report it to IC devs on the forum: https://forum.dfinity.org';

const NO_HELP: ErrorHelp = { kind: 'none' };
const advice = (suggestion: string, section: string): ErrorHelp => ({ kind: 'user', suggestion, docLink: docRef(section) });

/** ErrorHelp's Display: empty when there is no suggestion. */
export function helpText(help: ErrorHelp): string {
  switch (help.kind) {
    case 'user':
      return help.suggestion ? `${help.suggestion} See documentation: ${help.docLink}` : '';
    case 'toolchain':
      return TOOLCHAIN_HELP;
    case 'internal':
      return INTERNAL_HELP;
    case 'none':
      return '';
  }
}

/** An error as the IC reports it to a user: the code and the description. */
export interface UserError {
  errorCode: ErrorCode;
  description: string;
}

export const rejectCodeOfUserError = (e: UserError): RejectCode => rejectCodeOf(e.errorCode);

/** UserError's Display: what a calling canister reads as the reject message. */
export const userErrorText = (e: UserError): string => `${e.errorCode}: ${e.description}`;

// ---------------------------------------------------------------- HypervisorError

/** The IC's `TrapCode` Display texts. */
export const TrapCode = {
  StackOverflow: 'stack overflow',
  HeapOutOfBounds: 'heap out of bounds',
  StableMemoryOutOfBounds: 'stable memory out of bounds',
  StableMemoryTooBigFor32Bit: '32 bit stable memory api used on a memory larger than 4GB',
  IntegerDivByZero: 'integer division by 0',
  Unreachable: 'unreachable',
  TableOutOfBounds: 'table out of bounds',
  CyclesAmountTooBigFor64Bit: 'cycles amount exceeds 64-bit representation',
  Other: 'unknown',
} as const;
export type TrapCode = (typeof TrapCode)[keyof typeof TrapCode];

/** The IC's text for a call whose arguments or results do not match the callee's type (wasmtime_embedder.rs). */
export const BAD_SIGNATURE_MESSAGE = 'function invocation does not match its signature';

/**
 * A failed execution as the IC's `HypervisorError` describes it: the Display text, the code and
 * the advice. `backtrace` holds the Wasm function names, innermost first, when the module has a
 * name section; it is shown only to callers allowed to read the canister's logs.
 */
export interface HypervisorError {
  errorCode: ErrorCode;
  text: string;
  help: ErrorHelp;
  backtrace?: string[];
  /** What the IC appends to the canister log for traps ("[TRAP]: …"), without the prefix. */
  logText?: string;
}

const TRAPPED_ADVICE = 'Consider gracefully handling failures from this canister or altering the canister to handle exceptions.';

export const hypervisorError = {
  trapped(trapCode: TrapCode, backtrace?: string[]): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterTrapped,
      text: `Canister trapped: ${trapCode}`,
      help: advice(TRAPPED_ADVICE, 'trapped'),
      backtrace,
      logText: trapCode,
    };
  },
  calledTrap(message: string, backtrace?: string[]): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterCalledTrap,
      text: `Canister called \`ic0.trap\` with message: '${message}'`,
      help: advice(TRAPPED_ADVICE, 'trapped-explicitly'),
      backtrace,
      logText: message === '' ? '(no message)' : message,
    };
  },
  methodNotFound(kind: 'update' | 'query' | 'composite_query' | 'system', name: string): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterMethodNotFound,
      text: `Canister has no ${kind} method '${name}'.`,
      help: advice('Check that the method being called is exported by the target canister.', 'method-not-found'),
    };
  },
  instructionLimitExceeded(limit: bigint): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterInstructionLimitExceeded,
      text: `Canister exceeded the limit of ${limit} instructions for single message execution.`,
      help: advice('Try optimizing this method to consume fewer instructions or split the work across multiple messages.', 'instruction-limit-exceeded'),
    };
  },
  wasmModuleNotFound(): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterWasmModuleNotFound,
      text: 'Attempted to execute a message, but the canister contains no Wasm module.',
      help: advice('Please install code to this canister before calling it.', 'wasm-module-not-found'),
    };
  },
  outOfMemory(): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterOutOfMemory,
      text: 'Canister cannot grow its memory usage.',
      help: advice(
        "Check the canister's memory usage against its allocation and the system wide limits to determine why more memory cannot be allocated.",
        'out-of-memory',
      ),
    };
  },
  /** A System API misuse the canister's developer can fix (the IC's `UserContractViolation`). */
  userContractViolation(error: string, help: ErrorHelp = NO_HELP): HypervisorError {
    return { errorCode: ErrorCode.CanisterContractViolation, text: `Canister violated contract: ${error}`, help };
  },
  /** A System API misuse a CDK or compiler caused (the IC's `ToolchainContractViolation`). */
  toolchainContractViolation(error: string): HypervisorError {
    return { errorCode: ErrorCode.CanisterContractViolation, text: `Canister violated contract: ${error}`, help: { kind: 'toolchain' } };
  },
  /** `ic0.*` called from an entry point that may not call it (system_api.rs `error_for`). */
  wrongMode(apiName: string, apiType: string): HypervisorError {
    return hypervisorError.userContractViolation(
      `"${apiName}" cannot be executed in ${apiType} mode`,
      advice('Check the ICP documentation to make sure APIs are being called in the correct message types.', 'calling-a-system-api-from-the-wrong-mode'),
    );
  },
  invalidWasm(validationError: string, help: ErrorHelp): HypervisorError {
    return { errorCode: ErrorCode.CanisterInvalidWasm, text: `Canister's Wasm module is not valid: ${validationError}`, help };
  },
  memoryAccessLimitExceeded(detail: string): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterMemoryAccessLimitExceeded,
      text: `Canister exceeded memory access limits: ${detail}`,
      help: advice(
        "Try optimizing the use of stable memory so that individual messages don't need to access as much stable memory.",
        'memory-access-limit-exceeded',
      ),
    };
  },
  wasmMemoryLimitExceeded(bytes: bigint, limit: bigint): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterWasmMemoryLimitExceeded,
      text:
        `Canister exceeded its current Wasm memory limit of ${limit} bytes. The peak Wasm memory usage was ${bytes} bytes. ` +
        'If the canister reaches 4GiB, then it may stop functioning and may become unrecoverable. ' +
        'Please reach out to the canister owner to investigate the reason for the increased memory usage. ' +
        'It might be necessary to move data from the Wasm memory to the stable memory. ' +
        'If such high Wasm memory usage is expected and safe, then the developer can increase the Wasm memory limit in the canister settings.',
      help: advice(
        'Try checking the canister for a possible memory leak or modifying it to use more stable memory instead of Wasm memory.',
        'wasm-memory-limit-exceeded',
      ),
    };
  },
  /** Sending more cycles than the balance allows: the IC reports the out-of-cycles text as a contract violation. */
  insufficientCyclesBalance(outOfCyclesText: string): HypervisorError {
    return { errorCode: ErrorCode.CanisterContractViolation, text: outOfCyclesText, help: NO_HELP };
  },
  environmentVariableNotFound(name: string): HypervisorError {
    return { errorCode: ErrorCode.CanisterContractViolation, text: `Environment variable ${name} not found.`, help: NO_HELP };
  },
  environmentVariableIndexOutOfBounds(index: number, length: number): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterContractViolation,
      text: `Environment variable index ${index} is out of bounds. The number of environment variables is ${length}.`,
      help: NO_HELP,
    };
  },
  functionNotFound(tableIndex: number, functionIndex: number): HypervisorError {
    return {
      errorCode: ErrorCode.CanisterFunctionNotFound,
      text: `Canister requested to invoke a non-existent Wasm function ${functionIndex} from table ${tableIndex}`,
      help: { kind: 'toolchain' },
    };
  },
  /** Any other failure with a code of its own (no advice). */
  other(errorCode: ErrorCode, text: string): HypervisorError {
    return { errorCode, text, help: NO_HELP };
  },
};

/** `CanisterBacktrace`'s Display: a header line, then one function per line. */
export function backtraceText(frames: readonly string[]): string {
  return `Canister Backtrace:\n${frames.map((f) => `${f}\n`).join('')}`;
}

/**
 * `HypervisorError::into_user_error`: "Error from Canister <id>: <text>", the backtrace on its own
 * lines when the caller may see it, then ".\n<advice>" when the IC gives advice.
 */
export function toUserError(canisterId: string, e: HypervisorError, showBacktrace = false): UserError {
  const text = showBacktrace && e.backtrace?.length ? `${e.text}\n${backtraceText(e.backtrace)}` : e.text;
  const help = helpText(e.help);
  return { errorCode: e.errorCode, description: help ? `Error from Canister ${canisterId}: ${text}.\n${help}` : `Error from Canister ${canisterId}: ${text}` };
}

/** The canister log record the IC writes for a trap ("[TRAP]: <what>", the backtrace below it). */
export function trapLogRecord(e: HypervisorError): string | undefined {
  if (e.logText === undefined) return undefined;
  return e.backtrace?.length ? `[TRAP]: ${e.logText}\n${backtraceText(e.backtrace)}` : `[TRAP]: ${e.logText}`;
}

// ---------------------------------------------------------------- CanisterManagerError

/** `From<CanisterManagerError> for UserError`: the description, then "\n<advice>" when there is advice. */
function managerError(errorCode: ErrorCode, description: string, help: ErrorHelp = NO_HELP): UserError {
  const extra = helpText(help);
  return { errorCode, description: extra ? `${description}\n${extra}` : description };
}

export const canisterManagerError = {
  invalidController(canisterId: string, controllers: readonly string[], sender: string): UserError {
    return managerError(
      ErrorCode.CanisterInvalidController,
      `Only the controllers of the canister ${canisterId} can control it.\nCanister's controllers: ${controllers.join(' ')}\nSender's ID: ${sender}`,
      advice('Execute this call from a controller of the target canister or add the current caller as a controller.', 'invalid-controller'),
    );
  },
  canisterNotFound(canisterId: string): UserError {
    return managerError(
      ErrorCode.CanisterNotFound,
      `Canister ${canisterId} not found.`,
      advice('Check the ICP dashboard to ensure the canister exists.', 'canister-not-found'),
    );
  },
  canisterNonEmpty(canisterId: string): UserError {
    return managerError(
      ErrorCode.CanisterNonEmpty,
      `Canister ${canisterId} cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead.`,
      advice("Check that you want to overwrite the canister and, if so, use mode='reinstall'.", 'canister-not-empty'),
    );
  },
  deleteCanisterNotStopped(canisterId: string): UserError {
    return managerError(
      ErrorCode.CanisterNotStopped,
      `Canister ${canisterId} must be stopped before it is deleted.`,
      advice('Stop the canister before deleting it.', 'delete-canister-not-stopped'),
    );
  },
  deleteCanisterSelf(canisterId: string): UserError {
    return managerError(
      ErrorCode.CanisterInvalidController,
      `Canister ${canisterId} cannot delete itself.`,
      advice('Delete the canister from one of its other controllers.', 'delete-canister-self'),
    );
  },
  canisterIdAlreadyExists(canisterId: string): UserError {
    return managerError(ErrorCode.CanisterIdAlreadyExists, `Unsuccessful canister creation: canister id ${canisterId} already exists.`, { kind: 'internal' });
  },
  canisterNotHostedBySubnet(message: string): UserError {
    return managerError(ErrorCode.CanisterNotHostedBySubnet, `Unsuccessful validation of specified ID: ${message}`, { kind: 'internal' });
  },
  snapshotNotFound(canisterId: string, snapshotId: string): UserError {
    return managerError(
      ErrorCode.CanisterSnapshotNotFound,
      `Could not find the snapshot ID ${snapshotId} for canister ${canisterId}.`,
      advice('Use the `list_canister_snapshot` API to see which snapshots are present.', 'canister-snapshot-not-found'),
    );
  },
  snapshotLimitExceeded(canisterId: string, limit: number): UserError {
    // The IC passes this section name without doc_ref, so the link is the bare name.
    return managerError(ErrorCode.CanisterRejectedMessage, `Canister ${canisterId} has reached the maximum number of snapshots allowed: ${limit}.`, {
      kind: 'user',
      suggestion: 'Consider deleting an unnecessary snapshot of the specified canister before creating a new one.',
      docLink: 'canister-snapshot-limit-exceeded',
    });
  },
  snapshotOfEmptyCanister(canisterId: string): UserError {
    return managerError(ErrorCode.CanisterRejectedMessage, `Failed to create snapshot for empty canister ${canisterId}:`);
  },
  missingUpgradeOption(message: string): UserError {
    // The IC's match arm for this error does not append its advice.
    return managerError(ErrorCode.CanisterContractViolation, `Missing upgrade option: ${message}`);
  },
  invalidUpgradeOption(message: string): UserError {
    return managerError(ErrorCode.CanisterContractViolation, `Invalid upgrade option: ${message}`);
  },
  invalidSettings(message: string): UserError {
    // The IC writes a space (not a newline) before the advice here.
    return {
      errorCode: ErrorCode.CanisterContractViolation,
      description: `Could not validate the settings: ${message} \n${helpText(advice('Apply the described changes to make the settings valid.', 'invalid-settings'))}`,
    };
  },
  createCanisterNotEnoughCycles(sent: bigint, required: bigint): UserError {
    return managerError(
      ErrorCode.InsufficientCyclesForCreateCanister,
      `Creating a canister requires a fee of ${required} that is deducted from the canister's initial balance but only ${sent} cycles were received with the create_canister request.`,
      advice('Try sending more cycles with the request.', 'create-canister-not-enough-cycles'),
    );
  },
  wasmChunkStoreError(message: string): UserError {
    return managerError(
      ErrorCode.CanisterContractViolation,
      `Error from Wasm chunk store: ${message}.`,
      advice('Use the `stored_chunks` API to check which hashes are present or top up the canister if it is low on cycles.', 'wasm-chunk-store-error'),
    );
  },
  environmentVariablesTooMany(count: number, max: number): UserError {
    return managerError(ErrorCode.InvalidManagementPayload, `Too many environment variables: ${count} (max: ${max})`);
  },
  environmentVariableNameTooLong(name: string, max: number): UserError {
    return managerError(ErrorCode.InvalidManagementPayload, `Environment variable name "${name}" exceeds the maximum allowed length of ${max}.`);
  },
  environmentVariableValueTooLong(value: string, max: number): UserError {
    return managerError(ErrorCode.InvalidManagementPayload, `Environment variable value "${value}" exceeds the maximum allowed length of ${max}.`);
  },
};

/** candid::Nat's Display (the Rust candid crate): decimal digits in groups of three joined by `_`. */
export function candidNatText(n: bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, '_');
}

/** Rust's `{:?}` of a byte slice or array: `[1, 2, 3]`. */
export const rustBytesDebug = (bytes: Uint8Array): string => `[${Array.from(bytes).join(', ')}]`;

/**
 * The settings a management call carries that the IC refuses before validating them against the
 * canister (rs/execution_environment/src/canister_settings.rs, `UpdateSettingsError` into
 * `UserError`): plain descriptions, no advice.
 */
export const settingsError = {
  computeAllocation: (given: bigint): UserError => ({
    errorCode: ErrorCode.CanisterContractViolation,
    description: `ComputeAllocation expected to be in the range [0..100], got ${candidNatText(given)}`,
  }),
  freezingThresholdOutOfRange: (given: bigint): UserError => ({
    errorCode: ErrorCode.CanisterContractViolation,
    description: `Freezing threshold expected to be in the range of [0..2^64-1], got ${candidNatText(given)}`,
  }),
  reservedCyclesLimitOutOfRange: (given: bigint): UserError => ({
    errorCode: ErrorCode.CanisterContractViolation,
    description: `Reserved cycles limit expected to be in the range of [0..2^128-1], got ${candidNatText(given)}`,
  }),
  /** The IC refuses more than 2^48 with this text too (its bound is `MAX_WASM_MEMORY_LIMIT`, 2^48). */
  wasmMemoryLimitOutOfRange: (given: bigint): UserError => ({
    errorCode: ErrorCode.CanisterContractViolation,
    description: `Wasm memory limit expected to be in the range of [0..2^64-1], got ${candidNatText(given)}`,
  }),
  wasmMemoryThresholdOutOfRange: (given: bigint): UserError => ({
    errorCode: ErrorCode.CanisterContractViolation,
    description: `Wasm memory threshold expected to be in the range of [0..2^64-1], got ${candidNatText(given)}`,
  }),
  duplicateEnvironmentVariables: (): UserError => ({
    errorCode: ErrorCode.InvalidManagementPayload,
    description: 'Duplicate environment variables are not allowed',
  }),
};

/**
 * A management call whose argument does not decode (rs/types/management_canister_types,
 * `candid_error_to_user_error`): "Error decoding candid: " and the decoder's own words, which
 * are the Rust candid crate's on the IC and @dfinity/candid's here, so only the prefix and the
 * code are the IC's.
 */
export const candidDecodeError = (detail: string): UserError => ({
  errorCode: ErrorCode.InvalidManagementPayload,
  description: `Error decoding candid: ${detail}`,
});

/**
 * The messages of the IC's Wasm chunk store (rs/replicated_state/.../wasm_chunk_store.rs
 * `can_insert_chunk`; rs/execution_environment/src/canister_manager/types.rs
 * `WasmSource::into_canister_module`), each reported as `canisterManagerError.wasmChunkStoreError`.
 */
export const wasmChunkStoreMessage = {
  chunkTooLarge: (size: number, max: number): string => `Wasm chunk size ${size} exceeds the maximum chunk size of ${max}`,
  /**
   * `max_size` is a NumBytes, whose Display is byte_unit's binary unit with two decimals
   * (100 MiB: "100.00 MiB"), so the IC's text reads "… of 100.00 MiB bytes …".
   */
  storeFull: (maxBytes: number, maxChunks: number): string =>
    `Wasm chunk store has already reached maximum capacity of ${binaryUnitText(maxBytes)} bytes or the maximum number of entries, ${maxChunks}`,
  chunkNotFound: (hash: Uint8Array): string => `Chunk hash ${rustBytesDebug(hash)} was not found`,
  /** The given hash is a `WasmHash`, a tuple struct: its Debug wraps the array. */
  hashMismatch: (actual: Uint8Array, given: Uint8Array): string =>
    `Wasm module hash ${rustBytesDebug(actual)} does not match given hash WasmHash(${rustBytesDebug(given)})`,
};

/** byte_unit's `get_appropriate_unit(true).format(2)`: bytes as "N B", larger as "x.xx KiB/MiB/GiB/…". */
function binaryUnitText(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}

/** Rust's `{:?}` of a string: quoted, with `"`, `\\` and control characters escaped. */
export function rustStringDebug(text: string): string {
  const escaped = Array.from(text, (ch) => {
    if (ch === '"' || ch === '\\') return `\\${ch}`;
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    const code = ch.codePointAt(0)!;
    return code < 0x20 || code === 0x7f ? `\\u{${code.toString(16)}}` : ch;
  }).join('');
  return `"${escaped}"`;
}

/**
 * A call from a canister to aaaaa-aa that the IC cannot route to a subnet
 * (rs/execution_environment/src/execution_environment.rs and its routing module,
 * `resolve_destination`): reject code 3 (DESTINATION_INVALID), no error code, and the Debug
 * form of the routing error. A chain key no subnet holds (this replica holds none, as a
 * PocketIC instance without an II or Fiduciary subnet):
 * `ChainKeyError("Requested unknown threshold key: ecdsa:Secp256k1:key_1, existing keys: []")`,
 * and for signing "unknown or disabled … existing enabled keys".
 */
export const managementRouting = {
  unroutable: (method: string, error: string): string => `Unable to route management canister request ${method}: ${error}`,
  methodNotFound: (method: string): string => `MethodNotFound(${rustStringDebug(method)})`,
  unknownKey: (keyId: string): string => `ChainKeyError(${rustStringDebug(`Requested unknown threshold key: ${keyId}, existing keys: []`)})`,
  unknownSigningKey: (keyId: string): string =>
    `ChainKeyError(${rustStringDebug(`Requested unknown or disabled threshold key: ${keyId}, existing enabled keys: []`)})`,
  undecodable: (detail: string): string =>
    `UserError(UserError { code: InvalidManagementPayload, description: ${rustStringDebug(`Error decoding candid: ${detail}`)} })`,
};

// ---------------------------------------------------------------- checks before execution

/** Texts of the checks the IC makes before a message reaches a canister. */
export const admission = {
  /** Ingress or query to a canister the subnet does not have (execution_environment.rs, replicated_state.rs). */
  canisterNotFound: (canisterId: string): UserError => ({ errorCode: ErrorCode.CanisterNotFound, description: `Canister ${canisterId} not found` }),
  /** A stopped canister has no call context manager (replicated_state.rs `get_active_canister`). */
  canisterStopped: (canisterId: string): UserError => ({
    errorCode: ErrorCode.CanisterStopped,
    description: `Canister ${canisterId} is stopped and therefore does not have a CallContextManager`,
  }),
  canisterStopping: (canisterId: string): UserError => ({ errorCode: ErrorCode.CanisterStopping, description: `Canister ${canisterId} is stopping` }),
  /** Ingress to the management canister for a method users may not call (canister_manager.rs). */
  onlyCanisters: (method: string): UserError => ({
    errorCode: ErrorCode.CanisterRejectedMessage,
    description: `Only canisters can call ic00 method ${method}`,
  }),
  /** Ingress to the management canister from a non-controller (canister_manager.rs `should_accept_ingress_message`). */
  onlyControllers: (canisterId: string, method: string): UserError => ({
    errorCode: ErrorCode.CanisterInvalidController,
    description: `Only controllers of canister ${canisterId} can call ic00 method ${method}`,
  }),
  /** Ingress the canister's canister_inspect_message did not accept (HypervisorError::MessageRejected). */
  messageRejected: (canisterId: string): UserError =>
    toUserError(canisterId, { errorCode: ErrorCode.CanisterRejectedMessage, text: 'Canister rejected the message', help: NO_HELP }),
};

/** Reject texts of the routing layer: they carry a reject code but no IC error code. */
export const routing = {
  /** A call to a canister id no subnet hosts (stream builder). */
  noRoute: (canisterId: string): string => `No route to canister ${canisterId}`,
  /** A call to an id in this subnet's range with no canister behind it (induction). */
  canisterNotFound: (canisterId: string): string => `Canister ${canisterId} not found`,
  /** A call context that ended without a response, seen by a calling canister (common.rs). */
  noResponse: 'No response',
};

// ---------------------------------------------------------------- as responses

/** A failed execution of `canisterId` as the reject its caller receives. */
export function executionFailure(canisterId: string, e: HypervisorError & { plain?: boolean }, showBacktrace = false): CallResponse {
  const user = e.plain ? { errorCode: e.errorCode, description: e.text } : toUserError(canisterId, e, showBacktrace);
  return { kind: 'reject', code: rejectCodeOf(user.errorCode), errorCode: user.errorCode, message: user.description };
}

/** A UserError the system produced (management canister, admission checks) as a reject. */
export function userErrorResponse(e: UserError): CallResponse {
  return { kind: 'reject', code: rejectCodeOf(e.errorCode), errorCode: e.errorCode, message: e.description };
}

/** A canister's own msg_reject: reject code 4; a user sees it with error code IC0406. */
export function canisterReject(message: string): CallResponse {
  return { kind: 'reject', code: RejectCode.CANISTER_REJECT, errorCode: ErrorCode.CanisterRejectedMessage, message, ownReject: true };
}

/**
 * What a calling canister reads as the reject message of a response (ic0.msg_reject_msg): an
 * error the IC produced arrives as the UserError's Display, "<code>: <description>" (e.g.
 * "IC0536: Management canister has no method 'x'", or a trap of the callee); a canister's own
 * reject and the routing layer's rejects ("No route to canister …") arrive as they are.
 */
export function rejectMessageForCanister(response: Extract<CallResponse, { kind: 'reject' }>): string {
  return response.errorCode && !response.ownReject ? `${response.errorCode}: ${response.message}` : response.message;
}
