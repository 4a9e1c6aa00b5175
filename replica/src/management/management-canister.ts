// The management canister aaaaa-aa (interface spec, "The IC management canister"), decoding
// and encoding with ic.did's types. Controllers are checked on every method that names a
// canister; a reject names the method, the canister and the cause.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { Canister, type ChangeOrigin, type Visibility } from '../execution/canister.ts';
import { compareBytes, equalBytes, toHex as hex, utf8 } from '../ic/bytes.ts';
import { ErrorCode, RejectCode, rejectCodeOf } from '../ic/reject-codes.ts';
import {
  admission,
  candidDecodeError,
  canisterManagerError,
  managementRouting,
  settingsError,
  userErrorResponse,
  wasmChunkStoreMessage,
  type UserError,
} from '../ic/user-errors.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import type { RequestMessage } from '../scheduler/call-context.ts';
import type { ManagementHandler, Scheduler } from '../scheduler/scheduler.ts';
import { canisterNamedInManagementArg, decodeManagementArg, managementMethods, unsupportedManagementMethods, type ManagementMethod } from './ic-idl.ts';
import { installCode, modeName, type InstallMode } from './install.ts';
import { canisterIdFromIndex, canisterIndexOf, FIRST_CANISTER_INDEX, CANISTER_RANGE_END } from './canister-ids.ts';
import { captureSnapshot, restoreSnapshot, snapshotSize } from './snapshots.ts';
import { idleCyclesBurnedPerDay } from '../cycles/account.ts';

/** Cycles a canister gets from provisional_create_canister_with_cycles without `amount` (as PocketIC / dfx). */
export const DEFAULT_PROVISIONAL_CYCLES = 100_000_000_000_000n;
/** upload_chunk: at most 1 MiB per chunk (wasm_chunk_store.rs CHUNK_SIZE, 256 pages of 4 KiB). */
const MAX_CHUNK_BYTES = 1024 * 1024;
/**
 * The chunk store holds 100 MiB (rs/config/src/execution_environment.rs: wasm_chunk_store_max_size,
 * the Wasm module size limit), counted as whole chunks: 100 of them.
 */
const WASM_CHUNK_STORE_MAX_BYTES = 100 * 1024 * 1024;
/** A canister's controllers (rs/config/src/execution_environment.rs MAX_CONTROLLERS). */
const MAX_CONTROLLERS = 10;
/** wasm_memory_limit above 2^48 is refused (canister_settings.rs MAX_WASM_MEMORY_LIMIT, "from the spec"). */
const MAX_WASM_MEMORY_LIMIT = 2n ** 48n;

/** The argument types of the chain-key methods, as far as routing reads them (the key id). */
const ecdsaKey = IDL.Record({ key_id: IDL.Record({ curve: IDL.Variant({ secp256k1: IDL.Null }), name: IDL.Text }) });
const schnorrKey = IDL.Record({
  key_id: IDL.Record({ algorithm: IDL.Variant({ bip340secp256k1: IDL.Null, ed25519: IDL.Null }), name: IDL.Text }),
});
const vetkdKey = IDL.Record({ key_id: IDL.Record({ curve: IDL.Variant({ bls12_381_g2: IDL.Null }), name: IDL.Text }) });
/** `MasterPublicKeyId`'s Display, by the variant's ic.did name. */
const KEY_VARIANT_TEXT: Record<string, string> = {
  secp256k1: 'Secp256k1',
  bip340secp256k1: 'Bip340Secp256k1',
  ed25519: 'Ed25519',
  bls12_381_g2: 'Bls12_381_G2',
};
const CHAIN_KEY_METHODS: Record<string, { type: IDL.RecordClass; scheme: string; field: string; signing: boolean }> = {
  ecdsa_public_key: { type: ecdsaKey, scheme: 'ecdsa', field: 'curve', signing: false },
  sign_with_ecdsa: { type: ecdsaKey, scheme: 'ecdsa', field: 'curve', signing: true },
  schnorr_public_key: { type: schnorrKey, scheme: 'schnorr', field: 'algorithm', signing: false },
  sign_with_schnorr: { type: schnorrKey, scheme: 'schnorr', field: 'algorithm', signing: true },
  vetkd_public_key: { type: vetkdKey, scheme: 'vetkd', field: 'curve', signing: false },
  vetkd_derive_key: { type: vetkdKey, scheme: 'vetkd', field: 'curve', signing: true },
};

/**
 * Why the IC's routing (`resolve_destination`) would refuse a canister's call to aaaaa-aa, as
 * the Debug text of its error, or undefined: a method ic.did does not have, and the chain-key
 * methods, whose keys no subnet of this replica holds (it has no threshold keys).
 */
function unroutableReason(method: string, arg: Uint8Array): string | undefined {
  if (!(method in managementMethods) && !unsupportedManagementMethods.has(method)) return managementRouting.methodNotFound(method);
  const chainKey = CHAIN_KEY_METHODS[method];
  if (!chainKey) return undefined;
  let keyId: { name: string } & Record<string, Record<string, null>>;
  try {
    keyId = (IDL.decode([chainKey.type], arg)[0] as unknown as { key_id: typeof keyId }).key_id;
  } catch (e) {
    return managementRouting.undecodable((e as Error).message);
  }
  const text = `${chainKey.scheme}:${KEY_VARIANT_TEXT[Object.keys(keyId[chainKey.field])[0]]}:${keyId.name}`;
  return chainKey.signing ? managementRouting.unknownSigningKey(text) : managementRouting.unknownKey(text);
}

const chunkStoreError = (message: string) => Reject.of(canisterManagerError.wasmChunkStoreError(message));

class Reject extends Error {
  readonly response: CallResponse;
  constructor(code: RejectCode, errorCode: ErrorCode | undefined, message: string) {
    super(message);
    this.response = { kind: 'reject', code, errorCode, message };
  }

  /** A UserError as the IC words it (ic/user-errors.ts). */
  static of(e: UserError): Reject {
    return new Reject(rejectCodeOf(e.errorCode), e.errorCode, e.description);
  }
}

interface Call {
  method: ManagementMethod;
  caller: Uint8Array;
  callerIsCanister: boolean;
  cycles: bigint;
  /** The argument's `sender_canister_version`, which canister_info's history records as given. */
  senderCanisterVersion?: [] | [bigint];
}

type Settings = Record<string, [] | [unknown]>;

/** Environment variable limits of a canister (dfinity/ic rs/config/src/execution_environment.rs). */
export const MAX_ENVIRONMENT_VARIABLES = 20;
export const MAX_ENVIRONMENT_VARIABLE_NAME_LENGTH = 128;
export const MAX_ENVIRONMENT_VARIABLE_VALUE_LENGTH = 128;

/**
 * Where canisters go when the replica models several subnets (topology/topology.ts). Without
 * one, the management canister hands out ids from the local range (canister-ids.ts).
 */
export interface CanisterPlacement {
  /**
   * The id of a new canister: `specifiedId` when a subnet hosts it, else a fresh id on the
   * creator's subnet (a canister's own; a user's chosen one). A string says why there is none.
   */
  place(creator: Uint8Array, creatorIsCanister: boolean, specifiedId: Principal | undefined, inUse: (id: Principal) => boolean): Principal | string;
  /** Gives a new (or restored) canister its subnet's id and cycles costs. */
  assign(canister: Canister): void;
  /** Whether a subnet hosts `id`. */
  hosts(id: Principal): boolean;
}

export class ManagementCanister implements ManagementHandler {
  private readonly s: Scheduler;
  private nextIndex = FIRST_CANISTER_INDEX;
  private randomCounter = 0n;
  private readonly seed?: Uint8Array;
  /** Set for a multi-subnet replica: where new canisters go and what they pay. */
  placement?: CanisterPlacement;

  constructor(scheduler: Scheduler, seed?: Uint8Array) {
    this.s = scheduler;
    this.seed = seed;
    scheduler.management = this;
  }

  /** The id allocator and raw_rand counter, for persistence (store/). */
  get allocatorState(): { nextIndex: bigint; randomCounter: bigint } {
    return { nextIndex: this.nextIndex, randomCounter: this.randomCounter };
  }

  set allocatorState(state: { nextIndex: bigint; randomCounter: bigint }) {
    this.nextIndex = BigInt(state.nextIndex);
    this.randomCounter = BigInt(state.randomCounter);
  }

  /** The canister a call is about (its `canister_id`), as text; undefined when it names none. */
  canisterOf(method: string, arg: Uint8Array): string | undefined {
    const named = canisterNamedInManagementArg(method, arg);
    if (!named) return undefined;
    try {
      return Principal.fromUint8Array(named.id).toText();
    } catch {
      return undefined;
    }
  }

  /**
   * The IC's ingress filter for aaaaa-aa: methods only canisters may call are refused, and for
   * methods about one canister the sender must control it (checked before the message is
   * inducted, so a refused message is never executed).
   */
  acceptsIngress(method: string, sender: Uint8Array, arg: Uint8Array): CallResponse | undefined {
    const canistersOnly = ['create_canister', 'raw_rand', 'deposit_cycles', 'canister_info', ...unsupportedManagementMethods];
    // The IC's ingress filter (canister_manager.rs should_accept_ingress_message).
    if (method === 'fetch_canister_logs') {
      return {
        kind: 'reject',
        code: RejectCode.CANISTER_REJECT,
        errorCode: ErrorCode.CanisterRejectedMessage,
        message: 'fetch_canister_logs API is not accessible via ingress in replicated mode',
      };
    }
    if (canistersOnly.includes(method) || !(method in managementMethods)) return userErrorResponse(admission.onlyCanisters(method));
    if (method.startsWith('provisional_')) return undefined;
    let decoded: Record<string, unknown> | undefined;
    try {
      decoded = decodeManagementArg(method as ManagementMethod, arg)[0] as Record<string, unknown> | undefined;
    } catch {
      decoded = undefined;
    }
    const target = (decoded?.canister_id ?? decoded?.target_canister) as Principal | undefined;
    if (!target)
      return userErrorResponse({ errorCode: ErrorCode.InvalidManagementPayload, description: `Failed to decode payload for ic00 method: ${method}` });
    const canister = this.s.canister(target);
    if (!canister) return userErrorResponse(admission.canisterNotFound(target.toText()));
    const visible = method === 'canister_status' && visibleTo(canister.settings.statusVisibility, sender);
    if (!visible && !canister.isController(sender)) return userErrorResponse(admission.onlyControllers(target.toText(), method));
    return undefined;
  }

  /**
   * fetch_canister_logs, the management canister's one query for users (interface spec): the
   * records visible to the sender under the canister's log_visibility, optionally filtered.
   */
  query(method: string, arg: Uint8Array, sender: Uint8Array): CallResponse | undefined {
    if (method !== 'fetch_canister_logs') return undefined;
    const [argTypes, resultTypes] = managementMethods.fetch_canister_logs;
    let a: { canister_id: Principal; filter: [] | [{ by_idx: { start: bigint; end: bigint } } | { by_timestamp_nanos: { start: bigint; end: bigint } }] };
    try {
      a = IDL.decode([...argTypes], arg)[0] as unknown as typeof a;
    } catch (e) {
      return userErrorResponse(candidDecodeError((e as Error).message));
    }
    try {
      const call: Call = { method: 'fetch_canister_logs', caller: sender, callerIsCanister: false, cycles: 0n };
      const canister = this.s.canister(a.canister_id);
      const c = this.target(a.canister_id, call, !visibleTo(canister?.settings.logVisibility, sender));
      let records = c.logRecords;
      const filter = a.filter[0];
      if (filter && 'by_idx' in filter) records = records.filter((r) => r.idx >= filter.by_idx.start && r.idx < filter.by_idx.end);
      if (filter && 'by_timestamp_nanos' in filter)
        records = records.filter((r) => r.timestamp_nanos >= filter.by_timestamp_nanos.start && r.timestamp_nanos < filter.by_timestamp_nanos.end);
      return { kind: 'reply', data: new Uint8Array(IDL.encode([...resultTypes], [{ canister_log_records: records }])) };
    } catch (e) {
      if (e instanceof Reject) return e.response;
      throw e;
    }
  }

  async handle(request: RequestMessage, done: (response: CallResponse, refund: bigint) => void): Promise<void> {
    const method = request.method;
    try {
      // What the IC's routing refuses before any subnet sees the call (a calling canister only:
      // ingress to these methods is refused by acceptsIngress).
      if (request.origin.kind === 'canister') {
        const unroutable = unroutableReason(method, request.arg);
        if (unroutable) throw new Reject(RejectCode.DESTINATION_INVALID, undefined, managementRouting.unroutable(method, unroutable));
      }
      if (unsupportedManagementMethods.has(method)) {
        throw new Reject(
          RejectCode.CANISTER_REJECT,
          ErrorCode.UnknownManagementMessage,
          `The management canister method ${method} is not provided by this local replica`,
        );
      }
      if (!(method in managementMethods)) {
        throw Reject.of({ errorCode: ErrorCode.CanisterMethodNotFound, description: `Management canister has no method '${method}'` });
      }
      const resultTypes = managementMethods[method as ManagementMethod][1];
      let args: unknown[];
      try {
        args = decodeManagementArg(method as ManagementMethod, request.arg);
      } catch (e) {
        throw Reject.of(candidDecodeError((e as Error).message));
      }
      const senderCanisterVersion = (args[0] as { sender_canister_version?: [] | [bigint] } | undefined)?.sender_canister_version;
      const call: Call = {
        method: method as ManagementMethod,
        caller: request.caller,
        callerIsCanister: request.origin.kind === 'canister',
        cycles: request.cycles,
        senderCanisterVersion,
      };
      const reply = (value: unknown, refund?: bigint) => {
        const data = new Uint8Array(IDL.encode([...resultTypes], resultTypes.length ? [value] : []));
        done({ kind: 'reply', data }, refund ?? call.cycles);
      };
      // Synchronous unless the method must load a module: stop_canister registers its waiter
      // before any other message can run, so a canister that stops right after is not missed.
      const pending = this.dispatch(call, args[0] as any, done);
      const result = pending instanceof Promise ? await pending : pending;
      if (result !== WAIT) reply(result.value, result.refund);
    } catch (e) {
      if (e instanceof Reject) return done(e.response, request.cycles);
      throw e;
    }
  }

  private target(id: Principal, call: Call, controllersOnly = true): Canister {
    const canister = this.s.canister(id);
    if (!canister) throw Reject.of(canisterManagerError.canisterNotFound(id.toText()));
    if (controllersOnly && !canister.isController(call.caller)) {
      // The IC lists the controllers in its set's order (sorted by their bytes).
      const controllers = [...canister.settings.controllers].sort((a, b) => compareBytes(a.toUint8Array(), b.toUint8Array())).map((c) => c.toText());
      throw Reject.of(canisterManagerError.invalidController(canister.idText, controllers, Principal.fromUint8Array(call.caller).toText()));
    }
    return canister;
  }

  /**
   * Who made a change, for canister_info's history: a user, or a canister with the
   * `sender_canister_version` it passed (null when it passed none), as the IC records it
   * (interface spec, "IC method canister_info": the canister version is the one the caller claims).
   */
  private origin(call: Call): ChangeOrigin {
    const p = Principal.fromUint8Array(call.caller);
    if (!call.callerIsCanister) return { from_user: { user_id: p } };
    const claimed = call.senderCanisterVersion?.length ? ([BigInt(call.senderCanisterVersion[0])] as [bigint]) : ([] as []);
    return { from_canister: { canister_id: p, canister_version: claimed } };
  }

  /** Whether this replica hosts the canister id: calls to any other id have no route. */
  hostsCanisterId(id: Principal): boolean {
    return this.placement ? this.placement.hosts(id) : canisterIndexOf(id) !== undefined;
  }

  /** Creates a canister (shared by the create methods and the programmatic API). */
  createCanister(caller: Uint8Array, origin: ChangeOrigin, cycles: bigint, settings?: Settings, specifiedId?: Principal): Canister {
    let id: Principal;
    if (this.placement) {
      const placed = this.placement.place(caller, 'from_canister' in origin, specifiedId, (p) => this.s.canister(p) !== undefined);
      if (typeof placed === 'string') throw new Reject(RejectCode.CANISTER_REJECT, ErrorCode.CanisterNotHostedBySubnet, placed);
      if (this.s.canister(placed)) throw new Reject(RejectCode.SYS_TRANSIENT, ErrorCode.CanisterIdAlreadyExists, `Canister ${placed.toText()} already exists`);
      id = placed;
    } else if (specifiedId) {
      if (canisterIndexOf(specifiedId) === undefined) {
        throw Reject.of(
          canisterManagerError.canisterNotHostedBySubnet(
            `Specified CanisterId ${specifiedId.toText()} is not hosted by subnet ${Principal.fromUint8Array(this.s.subnetId).toText()}.`,
          ),
        );
      }
      if (this.s.canister(specifiedId)) throw Reject.of(canisterManagerError.canisterIdAlreadyExists(specifiedId.toText()));
      id = specifiedId;
    } else {
      do {
        if (this.nextIndex > CANISTER_RANGE_END) throw new Reject(RejectCode.SYS_FATAL, undefined, 'The subnet canister id range is exhausted');
        id = canisterIdFromIndex(this.nextIndex++);
      } while (this.s.canister(id));
    }
    const now = this.s.clock.nowNanos();
    const canister = new Canister(id, [Principal.fromUint8Array(caller)], cycles, now);
    this.placement?.assign(canister);
    if (settings) this.applySettings(canister, settings);
    this.s.canisters.set(canister.idText, canister);
    canister.recordChange(origin, { creation: { controllers: canister.settings.controllers, environment_variables_hash: [] } }, now);
    return canister;
  }

  private applySettings(canister: Canister, settings: Settings): void {
    const get = <T>(k: string): T | undefined => (settings[k]?.length ? (settings[k][0] as T) : undefined);
    const natSetting = (k: string): bigint | undefined => (get<bigint>(k) === undefined ? undefined : BigInt(get<bigint>(k)!));
    // Everything is checked before anything changes, in the IC's order: the conversion of the
    // argument (canister_settings.rs, `CanisterSettings::try_from`), then the validation against
    // the limits (canister_manager.rs, `validate_canister_settings`).
    const compute = natSetting('compute_allocation');
    if (compute !== undefined && compute > 100n) throw Reject.of(settingsError.computeAllocation(compute));
    const freezing = natSetting('freezing_threshold');
    if (freezing !== undefined && freezing >= 2n ** 64n) throw Reject.of(settingsError.freezingThresholdOutOfRange(freezing));
    const reservedLimit = natSetting('reserved_cycles_limit');
    if (reservedLimit !== undefined && reservedLimit >= 2n ** 128n) throw Reject.of(settingsError.reservedCyclesLimitOutOfRange(reservedLimit));
    const wasmMemoryLimit = natSetting('wasm_memory_limit');
    if (wasmMemoryLimit !== undefined && wasmMemoryLimit > MAX_WASM_MEMORY_LIMIT) throw Reject.of(settingsError.wasmMemoryLimitOutOfRange(wasmMemoryLimit));
    const wasmMemoryThreshold = natSetting('wasm_memory_threshold');
    if (wasmMemoryThreshold !== undefined && wasmMemoryThreshold >= 2n ** 64n)
      throw Reject.of(settingsError.wasmMemoryThresholdOutOfRange(wasmMemoryThreshold));
    const env = get<{ name: string; value: string }[]>('environment_variables');
    if (env && new Set(env.map((v) => v.name)).size !== env.length) throw Reject.of(settingsError.duplicateEnvironmentVariables());
    const controllers = get<Principal[]>('controllers');
    if (controllers && controllers.length > MAX_CONTROLLERS) {
      throw Reject.of(canisterManagerError.invalidSettings(`Invalid settings: 'controllers' length exceeds maximum size allowed of ${MAX_CONTROLLERS}.`));
    }
    if (env) {
      // The IC's limits (rs/config/src/execution_environment.rs MAX_ENVIRONMENT_VARIABLES,
      // MAX_ENVIRONMENT_VARIABLE_NAME_LENGTH, _VALUE_LENGTH), lengths in bytes.
      const bytes = (t: string) => utf8(t).length;
      if (env.length > MAX_ENVIRONMENT_VARIABLES) throw Reject.of(canisterManagerError.environmentVariablesTooMany(env.length, MAX_ENVIRONMENT_VARIABLES));
      for (const { name, value } of env) {
        if (bytes(name) > MAX_ENVIRONMENT_VARIABLE_NAME_LENGTH)
          throw Reject.of(canisterManagerError.environmentVariableNameTooLong(name, MAX_ENVIRONMENT_VARIABLE_NAME_LENGTH));
        if (bytes(value) > MAX_ENVIRONMENT_VARIABLE_VALUE_LENGTH)
          throw Reject.of(canisterManagerError.environmentVariableValueTooLong(value, MAX_ENVIRONMENT_VARIABLE_VALUE_LENGTH));
      }
    }

    if (controllers) canister.settings.controllers = controllers;
    const nat = (k: string, apply: (v: bigint) => void) => {
      const v = natSetting(k);
      if (v !== undefined) apply(v);
    };
    nat('compute_allocation', (v) => (canister.settings.computeAllocation = v));
    nat('memory_allocation', (v) => (canister.settings.memoryAllocation = v));
    nat('freezing_threshold', (v) => (canister.settings.freezingThreshold = v));
    nat('reserved_cycles_limit', (v) => (canister.settings.reservedCyclesLimit = v));
    nat('wasm_memory_limit', (v) => (canister.settings.wasmMemoryLimit = v));
    nat('wasm_memory_threshold', (v) => (canister.settings.wasmMemoryThreshold = v));
    nat('log_memory_limit', (v) => (canister.settings.logMemoryLimit = v));
    nat('minimum_incoming_canister_call_cycles', (v) => (canister.settings.minimumIncomingCallCycles = v));
    const vis = (k: string, apply: (v: Visibility) => void) => {
      const v = get<Visibility>(k);
      if (v) apply(v);
    };
    canister.checkLowWasmMemory(); // wasm_memory_limit or _threshold may have moved
    vis('log_visibility', (v) => (canister.settings.logVisibility = v));
    vis('snapshot_visibility', (v) => (canister.settings.snapshotVisibility = v));
    vis('status_visibility', (v) => (canister.settings.statusVisibility = v));
    if (env) canister.settings.environmentVariables = [...env].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private dispatch(call: Call, a: any, done: (response: CallResponse, refund: bigint) => void): Result | Promise<Result> {
    const s = this.s;
    const now = s.clock.nowNanos();
    switch (call.method) {
      case 'create_canister': {
        const c = this.createCanister(call.caller, this.origin(call), call.cycles, a.settings[0]);
        return { value: { canister_id: c.principal }, refund: 0n };
      }
      case 'provisional_create_canister_with_cycles': {
        const amount = a.amount.length ? BigInt(a.amount[0]) : DEFAULT_PROVISIONAL_CYCLES;
        const c = this.createCanister(call.caller, this.origin(call), amount + call.cycles, a.settings[0], a.specified_id[0]);
        return { value: { canister_id: c.principal }, refund: 0n };
      }
      case 'provisional_top_up_canister': {
        const c = this.target(a.canister_id, call, false);
        c.balance += BigInt(a.amount);
        return { value: undefined };
      }
      case 'deposit_cycles': {
        const c = this.target(a.canister_id, call, false);
        c.balance += call.cycles;
        return { value: undefined, refund: 0n };
      }
      case 'update_settings': {
        const c = this.target(a.canister_id, call);
        const before = c.settings.controllers.map((p) => p.toText()).join();
        this.applySettings(c, a.settings);
        c.version += 1n;
        if (c.settings.controllers.map((p) => p.toText()).join() !== before) {
          c.recordChange(this.origin(call), { controllers_change: { controllers: c.settings.controllers } }, now);
        }
        return { value: undefined };
      }
      case 'upload_chunk': {
        const c = this.target(a.canister_id, call);
        const chunk = Uint8Array.from(a.chunk as Uint8Array);
        const hash = sha256(chunk);
        // The IC's order: a chunk already stored is accepted as it is, then the size, then room.
        if (!c.chunkStore.has(hex(hash))) {
          if (chunk.length > MAX_CHUNK_BYTES) throw chunkStoreError(wasmChunkStoreMessage.chunkTooLarge(chunk.length, MAX_CHUNK_BYTES));
          if (c.chunkStore.size * MAX_CHUNK_BYTES >= WASM_CHUNK_STORE_MAX_BYTES)
            throw chunkStoreError(wasmChunkStoreMessage.storeFull(WASM_CHUNK_STORE_MAX_BYTES, WASM_CHUNK_STORE_MAX_BYTES / MAX_CHUNK_BYTES));
        }
        c.chunkStore.set(hex(hash), chunk);
        return { value: { hash } };
      }
      case 'clear_chunk_store': {
        this.target(a.canister_id, call).chunkStore.clear();
        return { value: undefined };
      }
      case 'stored_chunks': {
        const c = this.target(a.canister_id, call);
        return { value: [...c.chunkStore.keys()].map((h) => ({ hash: Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16))) })) };
      }
      case 'install_code': {
        const c = this.target(a.canister_id, call);
        return this.install(c, a.mode, Uint8Array.from(a.wasm_module), Uint8Array.from(a.arg), call).then(() => ({ value: undefined }));
      }
      case 'install_chunked_code': {
        const target = this.target(a.target_canister, call);
        const store = a.store_canister.length ? this.target(a.store_canister[0], call) : target;
        const parts: Uint8Array[] = [];
        for (const { hash } of a.chunk_hashes_list as { hash: Uint8Array }[]) {
          const chunk = store.chunkStore.get(hex(Uint8Array.from(hash)));
          if (!chunk) throw chunkStoreError(wasmChunkStoreMessage.chunkNotFound(Uint8Array.from(hash)));
          parts.push(chunk);
        }
        const wasm = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          wasm.set(p, o);
          o += p.length;
        }
        if (!equalBytes(sha256(wasm), Uint8Array.from(a.wasm_module_hash))) {
          throw chunkStoreError(wasmChunkStoreMessage.hashMismatch(sha256(wasm), Uint8Array.from(a.wasm_module_hash)));
        }
        return this.install(target, a.mode, wasm, Uint8Array.from(a.arg), call).then(() => ({ value: undefined }));
      }
      case 'uninstall_code': {
        const c = this.target(a.canister_id, call);
        this.uninstall(c, call);
        return { value: undefined };
      }
      case 'start_canister': {
        const c = this.target(a.canister_id, call);
        if (c.status === 'stopping') {
          // Pending stop requests are answered with an error (spec: start_canister).
          const waiters = s.stopWaiters.get(c.idText) ?? [];
          s.stopWaiters.delete(c.idText);
          c.status = 'running';
          for (const w of waiters) w(false);
        }
        c.status = 'running';
        return { value: undefined };
      }
      case 'stop_canister': {
        const c = this.target(a.canister_id, call);
        if (c.status === 'stopped') return { value: undefined };
        c.status = 'stopping';
        s.checkStopped(c);
        if ((c.status as string) === 'stopped') return { value: undefined };
        const waiters = s.stopWaiters.get(c.idText) ?? [];
        waiters.push((stopped) =>
          done(
            stopped
              ? { kind: 'reply', data: new Uint8Array(IDL.encode([], [])) }
              : {
                  kind: 'reject',
                  code: RejectCode.CANISTER_ERROR,
                  errorCode: ErrorCode.CanisterStoppingCancelled,
                  message: `Canister ${c.idText}'s stop request was cancelled by start_canister`,
                },
            0n,
          ),
        );
        s.stopWaiters.set(c.idText, waiters);
        return WAIT;
      }
      case 'canister_status': {
        const c = this.target(a.canister_id, call, !visibleTo(s.canister(a.canister_id)?.settings.statusVisibility, call.caller));
        return { value: this.status(c) };
      }
      case 'canister_info': {
        const c = this.target(a.canister_id, call, false);
        const n = a.num_requested_changes.length ? Number(a.num_requested_changes[0]) : 0;
        return {
          value: {
            total_num_changes: c.totalChanges,
            recent_changes: n > 0 ? c.history.slice(-n) : [],
            module_hash: c.module ? [c.module.hash] : [],
            controllers: c.settings.controllers,
          },
        };
      }
      case 'delete_canister': {
        const c = this.target(a.canister_id, call);
        if (equalBytes(c.id, call.caller)) throw Reject.of(canisterManagerError.deleteCanisterSelf(c.idText));
        if (c.status !== 'stopped') throw Reject.of(canisterManagerError.deleteCanisterNotStopped(c.idText));
        s.rejectOpenCallContexts(c, `Canister ${c.idText} has been deleted`);
        s.canisters.delete(c.idText);
        return { value: undefined };
      }
      case 'raw_rand':
        return { value: this.randomBytes() };
      case 'take_canister_snapshot': {
        const c = this.target(a.canister_id, call);
        const replace: Uint8Array | undefined = a.replace_snapshot.length ? Uint8Array.from(a.replace_snapshot[0]) : undefined;
        if (replace && !c.snapshots.has(hex(replace))) throw snapshotNotFound(c, replace);
        if (!replace && c.snapshots.size >= s.limits.maxSnapshotsPerCanister) {
          throw Reject.of(canisterManagerError.snapshotLimitExceeded(c.idText, s.limits.maxSnapshotsPerCanister));
        }
        if (replace) c.snapshots.delete(hex(replace));
        const id = new Uint8Array(18);
        id.set(c.id, 0);
        new DataView(id.buffer).setBigUint64(10, c.nextSnapshotIndex++);
        const snap = captureSnapshot(c, id, now);
        c.snapshots.set(hex(id), snap);
        if (a.uninstall_code[0] === true) this.uninstall(c, call);
        return { value: { id, taken_at_timestamp: now, total_size: snapshotSize(snap) } };
      }
      case 'load_canister_snapshot': {
        const c = this.target(a.canister_id, call);
        const id = Uint8Array.from(a.snapshot_id);
        const snap = c.snapshots.get(hex(id));
        if (!snap) throw snapshotNotFound(c, id);
        restoreSnapshot(c, snap);
        c.version += 1n;
        c.recordChange(
          this.origin(call),
          {
            load_snapshot: {
              from_canister_id: [],
              snapshot_id: id,
              canister_version: snap.canisterVersion,
              taken_at_timestamp: snap.takenAt,
              source: { taken_from_canister: null },
            },
          },
          now,
        );
        return { value: undefined };
      }
      case 'list_canister_snapshots': {
        const c = this.target(a.canister_id, call);
        return { value: [...c.snapshots.values()].map((x) => ({ id: x.id, taken_at_timestamp: x.takenAt, total_size: snapshotSize(x) })) };
      }
      case 'fetch_canister_logs':
        throw new Reject(
          RejectCode.CANISTER_REJECT,
          ErrorCode.CanisterRejectedMessage,
          'fetch_canister_logs can only be called with a query call by a user, not by a canister',
        );
      case 'delete_canister_snapshot': {
        const c = this.target(a.canister_id, call);
        const id = Uint8Array.from(a.snapshot_id);
        if (!c.snapshots.delete(hex(id))) throw snapshotNotFound(c, id);
        return { value: undefined };
      }
    }
  }

  private async install(c: Canister, mode: InstallMode, wasm: Uint8Array, arg: Uint8Array, call: Call): Promise<void> {
    const failure = await installCode(this.s, c, mode, wasm, arg, call.caller);
    if (failure && failure.kind === 'reject') throw new Reject(failure.code, failure.errorCode, failure.message);
    c.recordChange(this.origin(call), { code_deployment: { mode: { [modeName(mode)]: null }, module_hash: c.module!.hash } }, this.s.clock.nowNanos());
  }

  uninstall(c: Canister, call: Call): void {
    this.s.uninstallCode(c, `Canister ${c.idText} has been uninstalled`);
    c.recordChange(this.origin(call), { code_uninstall: null }, this.s.clock.nowNanos());
  }

  private status(c: Canister): unknown {
    const heap = BigInt(c.instance?.heapBytes ?? 0);
    let chunks = 0n;
    for (const ch of c.chunkStore.values()) chunks += BigInt(ch.length);
    let snapshots = 0n;
    for (const sn of c.snapshots.values()) snapshots += snapshotSize(sn);
    const st = c.settings;
    return {
      status: { [c.status]: null },
      ready_for_migration: false,
      version: c.version,
      settings: {
        controllers: st.controllers,
        compute_allocation: st.computeAllocation,
        memory_allocation: st.memoryAllocation,
        freezing_threshold: st.freezingThreshold,
        reserved_cycles_limit: st.reservedCyclesLimit,
        minimum_incoming_canister_call_cycles: st.minimumIncomingCallCycles,
        log_visibility: st.logVisibility,
        log_memory_limit: st.logMemoryLimit,
        snapshot_visibility: st.snapshotVisibility,
        status_visibility: st.statusVisibility,
        wasm_memory_limit: st.wasmMemoryLimit,
        wasm_memory_threshold: st.wasmMemoryThreshold,
        environment_variables: st.environmentVariables,
      },
      module_hash: c.module ? [c.module.hash] : [],
      memory_size: c.memorySize,
      memory_metrics: {
        wasm_memory_size: heap,
        stable_memory_size: BigInt(c.stable.byteLength),
        global_memory_size: BigInt((c.instance?.globals.length ?? 0) * 8),
        wasm_binary_size: BigInt(c.module?.bytes.length ?? 0),
        custom_sections_size: 0n,
        canister_history_size: BigInt(c.history.length * 64),
        wasm_chunk_store_size: chunks,
        snapshots_size: snapshots,
        log_memory_store_size: 0n,
      },
      cycles: c.balance,
      reserved_cycles: 0n,
      idle_cycles_burned_per_day: idleCyclesBurnedPerDay(this.s.cyclesState(c)),
      query_stats: {
        num_calls_total: c.queryStats.calls,
        num_instructions_total: c.queryStats.instructions,
        request_payload_bytes_total: c.queryStats.requestBytes,
        response_payload_bytes_total: c.queryStats.responseBytes,
      },
    };
  }

  /** 32 random bytes; a SHA-256 chain over the seed when the replica was created with one. */
  randomBytes(): Uint8Array {
    if (!this.seed) return crypto.getRandomValues(new Uint8Array(32));
    const counter = new Uint8Array(8);
    new DataView(counter.buffer).setBigUint64(0, this.randomCounter++);
    const input = new Uint8Array(this.seed.length + 8);
    input.set(this.seed);
    input.set(counter, this.seed.length);
    return sha256(input);
  }
}

const WAIT = Symbol('wait for the canister to stop');
type Result = { value: unknown; refund?: bigint } | typeof WAIT;

function snapshotNotFound(c: Canister, id: Uint8Array): Reject {
  return Reject.of(canisterManagerError.snapshotNotFound(c.idText, hex(id)));
}

function visibleTo(v: Visibility | undefined, caller: Uint8Array): boolean {
  if (!v) return false;
  if ('public' in v) return true;
  if ('allowed_viewers' in v) return v.allowed_viewers.some((p) => equalBytes(p.toUint8Array(), caller));
  return false;
}
