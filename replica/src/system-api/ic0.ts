// The `ic0` imports (interface spec, "Canister interface (System API)"), for 32- and 64-bit
// memories. Each function is declared once with its spec signature, where `I` is i32 for
// wasm32 and i64 for wasm64 modules, and with the entry-point kinds it may be called from (the
// spec's availability table). A call from any other kind traps, as on the IC.
import { CanisterTrap, type ApiKind, type MessageContext } from './context.ts';
import type { StableMemory } from '../execution/stable-memory.ts';
import { ErrorCode, RejectCode } from '../ic/reject-codes.ts';
import { docRef, hypervisorError, TrapCode } from '../ic/user-errors.ts';
import { applicationSubnetCosts, CyclesCosts, freeCosts } from '../cycles/fees.ts';
import { fromUtf8, utf8 } from '../ic/bytes.ts';
import { principalToText } from '../ic/principal.ts';
import { chargeSystemApiCall, DIRTY_PAGE_OVERHEAD } from '../metering/system-api-costs.ts';
import { replyTooLarge, requestTooLarge } from '../limits.ts';

export interface ApiHost {
  /** The message being executed; undefined between messages. */
  context(): MessageContext | undefined;
  memory(): WebAssembly.Memory;
  stable(): StableMemory;
  memory64: boolean;
  /** The instance's instruction counter when metered (metering/INTEGRATION.md), charged per System API call. */
  counter(): WebAssembly.Global | undefined;
  /** Records that the host wrote into main memory, for page-wise rollback (dirty-pages.ts). */
  markDirty(offset: number, length: number): void;
  /** The canister's environment variables (settings), sorted by name as the IC keeps them. */
  environmentVariables(): Array<[string, string]>;
}

/** The longest variable name the env_var_* calls accept (system_api.rs MAX_ENV_VAR_NAME_SIZE). */
export const MAX_ENV_VAR_NAME_SIZE = 100;

/** The variable `env_var_*(name_src, name_size, …)` names, with the IC's checks (system_api.rs). */
function envVarName(h: ApiHost, call: string, src: number, size: number): string {
  if (size > MAX_ENV_VAR_NAME_SIZE) throw CanisterTrap.of(hypervisorError.userContractViolation(`ic0.${call}: Variable name is too large.`));
  const bytes = readMem(h, src, size, `ic0.${call}`);
  try {
    return fromUtf8(bytes);
  } catch {
    throw CanisterTrap.of(
      hypervisorError.userContractViolation(`ic0.${call}: Variable name is not a valid UTF-8 string.`, {
        kind: 'user',
        suggestion: 'Provide a valid UTF-8 string for the environment variable name.',
        docLink: '',
      }),
    );
  }
}

function envVarAt(h: ApiHost, index: number): [string, string] {
  const vars = h.environmentVariables();
  if (index >= vars.length) throw CanisterTrap.of(hypervisorError.environmentVariableIndexOutOfBounds(index, vars.length));
  return vars[index];
}

function envVarValue(h: ApiHost, name: string): string {
  const found = h.environmentVariables().find(([n]) => n === name);
  if (!found) throw CanisterTrap.of(hypervisorError.environmentVariableNotFound(name));
  return found[1];
}

/** What the canister's subnet charges (cycles/fees.ts). */
const costsOf = (c: MessageContext): CyclesCosts => c.canister.costs ?? applicationSubnetCosts;

/**
 * Threshold keys a canister may ask the cost of (cost_sign_with_*, cost_vetkd_derive_key): the
 * test keys PocketIC and dfx provide. Curves and algorithms by their ic.did variant index.
 */
const KNOWN_THRESHOLD_KEYS = new Set(['dfx_test_key', 'test_key_1', 'key_1']);
/**
 * A signature or key derivation is paid at the fee of the subnet that holds the key, scaled by
 * that subnet's size, not the caller's (the signing subnet charges it, with its own
 * `subnet_size`). PocketIC holds all three keys on its II and Fiduciary subnets
 * (rs/pocket_ic_server `subnet_chain_keys`), 34 nodes each, as mainnet holds `key_1` on the
 * 34-node fiduciary subnet: 10B * 34 / 13 = 26_153_846_153 cycles. (Mainnet's `test_key_1` is
 * on a 13-node subnet and costs 10B there; we price it as PocketIC does.) A canister on a subnet
 * with the Free cost schedule is quoted 0, as it pays nothing for anything else.
 */
export const THRESHOLD_KEY_SUBNET_SIZE = 34;
const thresholdKeySubnetCosts = new CyclesCosts(undefined, THRESHOLD_KEY_SUBNET_SIZE);
const ECDSA_CURVES = 1; // secp256k1
const SCHNORR_ALGORITHMS = 2; // bip340secp256k1, ed25519
const VETKD_CURVES = 1; // bls12_381_g2

/** The spec's result codes of the cost_* calls for threshold keys: 0 ok, 1 unknown curve, 2 unknown key. */
function thresholdCost(
  c: MessageContext,
  h: ApiHost,
  src: number,
  size: number,
  curve: number,
  curves: number,
  fee: bigint,
  dst: number,
  what: string,
): number {
  const name = new TextDecoder().decode(readMem(h, src, size, what));
  if (curve < 0 || curve >= curves) return 1;
  if (!KNOWN_THRESHOLD_KEYS.has(name)) return 2;
  writeU128(h, dst, costsOf(c) === freeCosts ? 0n : thresholdKeySubnetCosts.scale(fee), what);
  return 0;
}

type ParamType = 'I' | 'i32' | 'i64';
type Impl = (ctx: MessageContext, host: ApiHost, ...args: any[]) => number | bigint | void;

interface ApiFunction {
  params: ParamType[];
  result?: ParamType;
  allowed: ReadonlySet<ApiKind> | 'all';
  impl: Impl;
}

const kinds = (...k: ApiKind[]) => new Set(k);
// Groups from the spec's availability table.
const ARG = kinds('I', 'U', 'RQ', 'NRQ', 'CQ', 'Ry', 'CRy', 'F');
const CALLER = kinds('I', 'G', 'U', 'RQ', 'NRQ', 'CQ', 'F', 'Ry', 'Rt', 'CRy', 'CRt', 'C', 'T');
const REJECT_INFO = kinds('Ry', 'Rt', 'CRy', 'CRt', 'C');
const REJECT_MSG = kinds('Rt', 'CRt');
const RESPOND = kinds('U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt');
const CYCLES_IN = kinds('U', 'RQ', 'Ry', 'Rt');
const CYCLES_REFUNDED = kinds('Ry', 'Rt');
const CALLS = kinds('U', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'T');
const CALL_CYCLES = kinds('U', 'Ry', 'Rt', 'T');
const MUTATE = kinds('I', 'G', 'U', 'Ry', 'Rt', 'C', 'T');
const CERTIFICATE = kinds('NRQ', 'CQ', 'CRy', 'CRt');
const INSPECT = kinds('F');
const CALLER_INFO = kinds('U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'C', 'F');
const ALL: 'all' = 'all';

const MAX_CYCLES_128 = (1n << 128n) - 1n;
/** The IC's output queue capacity per canister (DEFAULT_QUEUE_CAPACITY in rs/config): call_perform fails beyond it. */
export const OUTPUT_QUEUE_CAPACITY = 500;

function mem(host: ApiHost): Uint8Array {
  return new Uint8Array(host.memory().buffer);
}

function readMem(host: ApiHost, ptr: number, len: number, what: string): Uint8Array {
  const m = mem(host);
  if (ptr < 0 || len < 0 || ptr + len > m.length) {
    throw CanisterTrap.of(heapOutOfRange(what, ptr, len, m.length));
  }
  return m.slice(ptr, ptr + len);
}

function writeMem(host: ApiHost, ptr: number, data: Uint8Array, what: string): void {
  const m = mem(host);
  if (ptr < 0 || ptr + data.length > m.length) {
    throw CanisterTrap.of(heapOutOfRange(what, ptr, data.length, m.length));
  }
  host.markDirty(ptr, data.length);
  m.set(data, ptr);
}

/** `*_copy(dst, offset, size)`: copies a slice of `source`, trapping if the slice is out of range. */
function copyOut(host: ApiHost, source: Uint8Array, dst: number, offset: number, size: number, what: string): void {
  if (offset + size > source.length) {
    // The IC's `valid_subslice` check on the source (system_api.rs).
    throw CanisterTrap.of(hypervisorError.toolchainContractViolation(`${what}: src=${offset} + length=${size} exceeds the slice size=${source.length}`));
  }
  writeMem(host, dst, source.subarray(offset, offset + size), what);
}

function writeU128(host: ApiHost, dst: number, value: bigint, what: string): void {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, value & 0xffff_ffff_ffff_ffffn, true);
  view.setBigUint64(8, value >> 64n, true);
  writeMem(host, dst, out, what);
}

const u128 = (high: bigint, low: bigint) => (BigInt.asUintN(64, high) << 64n) | BigInt.asUintN(64, low);

function stableCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    // The IC's trap for a stable memory access beyond its size (TrapCode::StableMemoryOutOfBounds).
    if (e instanceof RangeError) throw CanisterTrap.of(hypervisorError.trapped(TrapCode.StableMemoryOutOfBounds));
    throw e;
  }
}

function respond(ctx: MessageContext, what: string): void {
  // The IC's texts (system_api.rs ic0_msg_reply / _reply_data_append / _reject).
  if (ctx.outcome || ctx.callContextResponded)
    throw CanisterTrap.of(hypervisorError.toolchainContractViolation(`${what}: the call is already replied${what === 'ic0.msg_reply_data_append' ? '.' : ''}`));
}

/**
 * A System API copy to or from main memory outside its bounds. The IC checks the range against
 * the heap (`valid_subslice("<call> heap", …)`) and reports a toolchain contract violation.
 */
function heapOutOfRange(what: string, ptr: number, len: number, heapSize: number) {
  return hypervisorError.toolchainContractViolation(`${what} heap: src=${ptr} + length=${len} exceeds the slice size=${heapSize}`);
}

/** The IC reports an oversized reply as a contract violation (IC0504), before copying anything. */
function checkReplySize(ctx: MessageContext, appended: number, what: string): void {
  const problem = replyTooLarge(ctx.replySize, appended, ctx.replyLimit, what);
  if (problem) {
    // The IC ends the sentence and gives advice (system_api.rs).
    const [suggestion, section] =
      what === 'ic0.msg_reject'
        ? ['Try truncating the error messages that are too long.', 'msg_reject-payload-too-large']
        : ['Consider checking the response size and returning an error if it is too long.', 'msg_reply_data_append-payload-too-large'];
    throw CanisterTrap.of(hypervisorError.userContractViolation(`${problem}.`, { kind: 'user', suggestion, docLink: docRef(section) }));
  }
}

function stableTouch(ctx: MessageContext, host: ApiHost, offset: number, length: number, writing: boolean): void {
  if (!ctx.stableAccess) return;
  try {
    if (!writing) return ctx.stableAccess.read(offset, length);
    const fresh = ctx.stableAccess.write(offset, length);
    // The IC charges 1,000 instructions per 4 KiB page a message dirties for the first time.
    const counter = host.counter();
    if (counter && fresh > 0) counter.value = (counter.value as bigint) - DIRTY_PAGE_OVERHEAD * BigInt(fresh);
  } catch (e) {
    const code = (e as { errorCode?: ErrorCode }).errorCode;
    if (code) throw new CanisterTrap((e as Error).message, false, code);
    throw e;
  }
}

const api: Record<string, ApiFunction> = {
  // --- Message arguments, caller, reject info
  msg_arg_data_size: { params: [], result: 'I', allowed: ARG, impl: (c) => c.arg.length },
  msg_arg_data_copy: { params: ['I', 'I', 'I'], allowed: ARG, impl: (c, h, dst, off, size) => copyOut(h, c.arg, dst, off, size, 'ic0.msg_arg_data_copy') },
  msg_caller_size: { params: [], result: 'I', allowed: CALLER, impl: (c) => c.caller.length },
  msg_caller_copy: { params: ['I', 'I', 'I'], allowed: CALLER, impl: (c, h, dst, off, size) => copyOut(h, c.caller, dst, off, size, 'ic0.msg_caller_copy') },
  msg_reject_code: { params: [], result: 'i32', allowed: REJECT_INFO, impl: (c) => c.rejectCode },
  msg_reject_msg_size: { params: [], result: 'I', allowed: REJECT_MSG, impl: (c) => utf8(c.rejectMessage).length },
  msg_reject_msg_copy: {
    params: ['I', 'I', 'I'],
    allowed: REJECT_MSG,
    impl: (c, h, dst, off, size) => copyOut(h, utf8(c.rejectMessage), dst, off, size, 'ic0.msg_reject_msg_copy'),
  },
  msg_deadline: { params: [], result: 'i64', allowed: kinds('U', 'NRQ', 'RQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt'), impl: (c) => c.deadline },
  msg_method_name_size: { params: [], result: 'I', allowed: INSPECT, impl: (c) => utf8(c.methodName).length },
  msg_method_name_copy: {
    params: ['I', 'I', 'I'],
    allowed: INSPECT,
    impl: (c, h, dst, off, size) => copyOut(h, utf8(c.methodName), dst, off, size, 'ic0.msg_method_name_copy'),
  },
  accept_message: {
    params: [],
    allowed: INSPECT,
    impl: (c) => {
      if (c.messageAccepted) throw new CanisterTrap('ic0.accept_message called twice');
      c.messageAccepted = true;
    },
  },

  // --- Responding
  msg_reply_data_append: {
    params: ['I', 'I'],
    allowed: RESPOND,
    impl: (c, h, src, size) => {
      respond(c, 'ic0.msg_reply_data_append');
      checkReplySize(c, size, 'ic0.msg_reply_data_append');
      c.replyBuffer.push(readMem(h, src, size, 'ic0.msg_reply_data_append'));
      c.replySize += size;
    },
  },
  msg_reply: {
    params: [],
    allowed: RESPOND,
    impl: (c) => {
      respond(c, 'ic0.msg_reply');
      const data = new Uint8Array(c.replySize);
      let o = 0;
      for (const part of c.replyBuffer) {
        data.set(part, o);
        o += part.length;
      }
      c.outcome = { kind: 'reply', data };
    },
  },
  msg_reject: {
    params: ['I', 'I'],
    allowed: RESPOND,
    impl: (c, h, src, size) => {
      respond(c, 'ic0.msg_reject');
      checkReplySize(c, size, 'ic0.msg_reject');
      c.outcome = { kind: 'reject', code: RejectCode.CANISTER_REJECT, message: new TextDecoder().decode(readMem(h, src, size, 'ic0.msg_reject')) };
    },
  },

  // --- Cycles
  msg_cycles_available: { params: [], result: 'i64', allowed: CYCLES_IN, impl: (c) => clamp64(c.cyclesAvailable) },
  msg_cycles_available128: { params: ['I'], allowed: CYCLES_IN, impl: (c, h, dst) => writeU128(h, dst, c.cyclesAvailable, 'ic0.msg_cycles_available128') },
  msg_cycles_refunded: { params: [], result: 'i64', allowed: CYCLES_REFUNDED, impl: (c) => clamp64(c.cyclesRefunded) },
  msg_cycles_refunded128: { params: ['I'], allowed: CYCLES_REFUNDED, impl: (c, h, dst) => writeU128(h, dst, c.cyclesRefunded, 'ic0.msg_cycles_refunded128') },
  msg_cycles_accept: { params: ['i64'], result: 'i64', allowed: CYCLES_IN, impl: (c, _h, max) => accept(c, BigInt.asUintN(64, max)) },
  msg_cycles_accept128: {
    params: ['i64', 'i64', 'I'],
    allowed: CYCLES_IN,
    impl: (c, h, high, low, dst) => writeU128(h, dst, accept(c, u128(high, low)), 'ic0.msg_cycles_accept128'),
  },
  cycles_burn128: {
    params: ['i64', 'i64', 'I'],
    allowed: MUTATE,
    impl: (c, h, high, low, dst) => writeU128(h, dst, c.burnCycles(u128(high, low)), 'ic0.cycles_burn128'),
  },
  canister_cycle_balance: {
    params: [],
    result: 'i64',
    allowed: ALL,
    impl: (c) => {
      if (c.observed) c.observed.balance = true;
      return clamp64(c.canister.balance);
    },
  },
  canister_cycle_balance128: {
    params: ['I'],
    allowed: ALL,
    impl: (c, h, dst) => {
      if (c.observed) c.observed.balance = true;
      writeU128(h, dst, c.canister.balance, 'ic0.canister_cycle_balance128');
    },
  },
  canister_liquid_cycle_balance128: {
    params: ['I'],
    allowed: ALL,
    impl: (c, h, dst) => writeU128(h, dst, c.canister.balance, 'ic0.canister_liquid_cycle_balance128'),
  },

  // --- Canister and subnet identity, status
  canister_self_size: { params: [], result: 'I', allowed: ALL, impl: (c) => c.canister.id.length },
  canister_self_copy: {
    params: ['I', 'I', 'I'],
    allowed: ALL,
    impl: (c, h, dst, off, size) => copyOut(h, c.canister.id, dst, off, size, 'ic0.canister_self_copy'),
  },
  subnet_self_size: { params: [], result: 'I', allowed: ALL, impl: (c) => c.subnetId.length },
  subnet_self_copy: { params: ['I', 'I', 'I'], allowed: ALL, impl: (c, h, dst, off, size) => copyOut(h, c.subnetId, dst, off, size, 'ic0.subnet_self_copy') },
  canister_status: { params: [], result: 'i32', allowed: ALL, impl: (c) => c.canister.statusCode() },
  canister_version: { params: [], result: 'i64', allowed: ALL, impl: (c) => c.canister.version },
  is_controller: {
    params: ['I', 'I'],
    result: 'i32',
    allowed: ALL,
    impl: (c, h, src, size) => {
      if (size > 29) throw new CanisterTrap(`ic0.is_controller: ${size} bytes is not a valid principal (at most 29)`);
      return c.canister.isController(readMem(h, src, size, 'ic0.is_controller')) ? 1 : 0;
    },
  },
  in_replicated_execution: { params: [], result: 'i32', allowed: ALL, impl: (c) => (c.replicated ? 1 : 0) },
  root_key_size: { params: [], result: 'I', allowed: ALL, impl: (c) => c.rootKey?.length ?? 0 },
  root_key_copy: {
    params: ['I', 'I', 'I'],
    allowed: ALL,
    impl: (c, h, dst, off, size) => copyOut(h, c.rootKey ?? new Uint8Array(), dst, off, size, 'ic0.root_key_copy'),
  },

  // --- Inter-canister calls
  call_new: {
    params: ['I', 'I', 'I', 'I', 'I', 'I', 'I', 'I'],
    allowed: CALLS,
    impl: (c, h, calleeSrc, calleeSize, nameSrc, nameSize, replyFun, replyEnv, rejectFun, rejectEnv) => {
      if (c.building) c.takeCycles(-c.building.cycles); // an abandoned call gives its cycles back
      if (nameSize > c.requestLimit) {
        // The IC checks the method name against the request limit first (request_in_prep.rs).
        throw CanisterTrap.of(hypervisorError.userContractViolation(`Size of method_name ${nameSize} exceeds the allowed limit of ${c.requestLimit}.`));
      }
      c.building = {
        callee: readMem(h, calleeSrc, calleeSize, 'ic0.call_new'),
        method: new TextDecoder().decode(readMem(h, nameSrc, nameSize, 'ic0.call_new')),
        reply: { fun: Number(replyFun), env: BigInt(replyEnv) },
        reject: { fun: Number(rejectFun), env: BigInt(rejectEnv) },
        arg: [],
        argSize: 0,
        cycles: 0n,
      };
    },
  },
  call_on_cleanup: {
    params: ['I', 'I'],
    allowed: CALLS,
    impl: (c, _h, fun, env) => {
      const call = building(c, 'ic0.call_on_cleanup');
      if (call.cleanup) throw new CanisterTrap('ic0.call_on_cleanup called twice for the same call');
      call.cleanup = { fun: Number(fun), env: BigInt(env) };
    },
  },
  call_data_append: {
    params: ['I', 'I'],
    allowed: CALLS,
    impl: (c, h, src, size) => {
      const call = building(c, 'ic0.call_data_append');
      // A cheap upper bound first (a UTF-16 unit is at most 3 UTF-8 bytes); the exact size only near the limit.
      if (call.method.length * 3 + call.argSize + size > c.requestLimit) {
        const tooLarge = requestTooLarge(principalToText(call.callee), call.method, utf8(call.method).length + call.argSize, size, c.requestLimit);
        if (tooLarge) throw CanisterTrap.of(hypervisorError.userContractViolation(tooLarge));
      }
      call.arg.push(readMem(h, src, size, 'ic0.call_data_append'));
      call.argSize += size;
    },
  },
  call_with_best_effort_response: {
    params: ['i32'],
    allowed: CALLS,
    impl: (c, _h, timeout) => {
      const call = building(c, 'ic0.call_with_best_effort_response');
      if (call.timeoutSeconds !== undefined) throw new CanisterTrap('ic0.call_with_best_effort_response called twice for the same call');
      // The IC caps the timeout (MAX_CALL_TIMEOUT_SECONDS); the scheduler applies the replica's cap when it sends the call.
      call.timeoutSeconds = timeout >>> 0;
    },
  },
  call_cycles_add: { params: ['i64'], allowed: CALL_CYCLES, impl: (c, _h, amount) => addCycles(c, BigInt.asUintN(64, amount)) },
  call_cycles_add128: { params: ['i64', 'i64'], allowed: CALL_CYCLES, impl: (c, _h, high, low) => addCycles(c, u128(high, low)) },
  call_perform: {
    params: [],
    result: 'i32',
    allowed: CALLS,
    impl: (c) => {
      const call = building(c, 'ic0.call_perform');
      c.building = undefined;
      // The scheduler knows the queues and callbacks (scheduler/README.md): a call it cannot
      // enqueue is not performed and the canister learns SYS_TRANSIENT, as on the IC.
      const refused = c.refuseCall
        ? c.refuseCall(call)
        : c.canister.outstandingCalls + c.outgoing.length >= OUTPUT_QUEUE_CAPACITY
          ? RejectCode.SYS_TRANSIENT
          : 0;
      if (refused !== 0) {
        c.takeCycles(-call.cycles);
        return refused;
      }
      const fees = c.prepayCall(call.argSize + utf8(call.method).length);
      if (!fees) {
        // Not performed: the attached cycles go back and the canister learns a non-zero code (spec: call_perform).
        c.takeCycles(-call.cycles);
        return RejectCode.SYS_TRANSIENT;
      }
      call.prepaidFees = fees;
      c.outgoing.push(call);
      return 0;
    },
  },

  // --- Stable memory (always 64-bit offsets in the stable64 API; the 32-bit API traps past 4 GiB)
  stable_size: {
    params: [],
    result: 'i32',
    allowed: ALL,
    impl: (_c, h) => {
      const size = h.stable().size;
      if (size > 65536) throw CanisterTrap.of(hypervisorError.trapped(TrapCode.StableMemoryTooBigFor32Bit));
      return size;
    },
  },
  stable_grow: {
    params: ['i32'],
    result: 'i32',
    allowed: ALL,
    impl: (_c, h, delta) => {
      const s = h.stable();
      if (s.size > 65536) throw CanisterTrap.of(hypervisorError.trapped(TrapCode.StableMemoryTooBigFor32Bit));
      if (s.size + (delta >>> 0) > 65536) return -1;
      return s.grow(delta >>> 0);
    },
  },
  stable_write: {
    params: ['i32', 'i32', 'i32'],
    allowed: ALL,
    impl: (c, h, off, src, size) => {
      stableTouch(c, h, off >>> 0, size >>> 0, true);
      stableCall(() => h.stable().write(off >>> 0, readMem(h, src >>> 0, size >>> 0, 'ic0.stable_write')));
    },
  },
  stable_read: {
    params: ['i32', 'i32', 'i32'],
    allowed: ALL,
    impl: (c, h, dst, off, size) => {
      stableTouch(c, h, off >>> 0, size >>> 0, false);
      writeMem(
        h,
        dst >>> 0,
        stableCall(() => h.stable().read(off >>> 0, size >>> 0)),
        'ic0.stable_read',
      );
    },
  },
  stable64_size: { params: [], result: 'i64', allowed: ALL, impl: (_c, h) => BigInt(h.stable().size) },
  stable64_grow: { params: ['i64'], result: 'i64', allowed: ALL, impl: (_c, h, delta) => BigInt(h.stable().grow(Number(BigInt.asUintN(64, delta)))) },
  stable64_write: {
    params: ['i64', 'i64', 'i64'],
    allowed: ALL,
    impl: (c, h, off, src, size) => {
      stableTouch(c, h, Number(off), Number(size), true);
      stableCall(() => h.stable().write(Number(off), readMem(h, Number(src), Number(size), 'ic0.stable64_write')));
    },
  },
  stable64_read: {
    params: ['i64', 'i64', 'i64'],
    allowed: ALL,
    impl: (c, h, dst, off, size) => {
      stableTouch(c, h, Number(off), Number(size), false);
      writeMem(
        h,
        Number(dst),
        stableCall(() => h.stable().read(Number(off), Number(size))),
        'ic0.stable64_read',
      );
    },
  },

  // --- Certified data
  certified_data_set: {
    params: ['I', 'I'],
    allowed: MUTATE,
    impl: (c, h, src, size) => {
      if (size > 32) throw new CanisterTrap(`ic0.certified_data_set: ${size} bytes exceeds the 32-byte limit`);
      c.certifiedData = readMem(h, src, size, 'ic0.certified_data_set');
    },
  },
  data_certificate_present: { params: [], result: 'i32', allowed: ALL, impl: (c) => (c.dataCertificate ? 1 : 0) },
  data_certificate_size: {
    params: [],
    result: 'I',
    allowed: CERTIFICATE,
    impl: (c) => {
      if (!c.dataCertificate) throw new CanisterTrap('ic0.data_certificate_size: no certificate is present');
      return c.dataCertificate.length;
    },
  },
  data_certificate_copy: {
    params: ['I', 'I', 'I'],
    allowed: CERTIFICATE,
    impl: (c, h, dst, off, size) => {
      if (!c.dataCertificate) throw new CanisterTrap('ic0.data_certificate_copy: no certificate is present');
      if (c.observed) c.observed.certificate = true;
      copyOut(h, c.dataCertificate, dst, off, size, 'ic0.data_certificate_copy');
    },
  },

  // --- Time, timers, performance counter
  time: {
    params: [],
    result: 'i64',
    allowed: ALL,
    impl: (c) => {
      if (c.observed) c.observed.time = true;
      return c.time;
    },
  },
  global_timer_set: {
    params: ['i64'],
    result: 'i64',
    allowed: MUTATE,
    impl: (c, _h, deadline) => {
      const previous = c.globalTimer ?? c.previousGlobalTimer;
      c.globalTimer = BigInt.asUintN(64, deadline);
      return previous;
    },
  },
  performance_counter: {
    params: ['i32'],
    result: 'i64',
    allowed: ALL,
    impl: (c, _h, type) => {
      if (type === 0) return c.instructionCounter();
      if (type === 1) return c.callContextInstructions + c.instructionCounter();
      throw new CanisterTrap(`ic0.performance_counter: unknown counter type ${type}`);
    },
  },

  // --- Cost of System API operations in cycles (fees: cycles/fees.ts; the canister's subnet's schedule)
  cost_call: {
    params: ['i64', 'i64', 'I'],
    allowed: ALL,
    impl: (c, h, methodNameSize, payloadSize, dst) => {
      const { transmission, execution } = costsOf(c).callPrepayment(methodNameSize + payloadSize, 40_000_000_000n, h.memory64);
      writeU128(h, dst, transmission + execution, 'ic0.cost_call');
    },
  },
  cost_create_canister: { params: ['I'], allowed: ALL, impl: (c, h, dst) => writeU128(h, dst, costsOf(c).canisterCreation(), 'ic0.cost_create_canister') },
  cost_http_request: {
    params: ['i64', 'i64', 'I'],
    allowed: ALL,
    impl: (c, h, requestSize: bigint, maxResponseBytes: bigint, dst) =>
      writeU128(h, dst, costsOf(c).httpRequest(requestSize, maxResponseBytes), 'ic0.cost_http_request'),
  },
  cost_sign_with_ecdsa: {
    params: ['I', 'I', 'i32', 'I'],
    result: 'i32',
    allowed: ALL,
    impl: (c, h, src, size, curve, dst) => thresholdCost(c, h, src, size, curve, ECDSA_CURVES, costsOf(c).fees.ecdsaSignature, dst, 'ic0.cost_sign_with_ecdsa'),
  },
  cost_sign_with_schnorr: {
    params: ['I', 'I', 'i32', 'I'],
    result: 'i32',
    allowed: ALL,
    impl: (c, h, src, size, algorithm, dst) =>
      thresholdCost(c, h, src, size, algorithm, SCHNORR_ALGORITHMS, costsOf(c).fees.schnorrSignature, dst, 'ic0.cost_sign_with_schnorr'),
  },
  cost_vetkd_derive_key: {
    params: ['I', 'I', 'i32', 'I'],
    result: 'i32',
    allowed: ALL,
    impl: (c, h, src, size, curve, dst) => thresholdCost(c, h, src, size, curve, VETKD_CURVES, costsOf(c).fees.vetkd, dst, 'ic0.cost_vetkd_derive_key'),
  },

  // --- Environment variables (canister settings), available everywhere but the start function
  env_var_count: { params: [], result: 'I', allowed: ALL, impl: (_c, h) => h.environmentVariables().length },
  env_var_name_size: { params: ['I'], result: 'I', allowed: ALL, impl: (_c, h, index) => utf8(envVarAt(h, index)[0]).length },
  env_var_name_copy: {
    params: ['I', 'I', 'I', 'I'],
    allowed: ALL,
    impl: (_c, h, index, dst, offset, size) => copyOut(h, utf8(envVarAt(h, index)[0]), dst, offset, size, 'ic0.env_var_name_copy'),
  },
  env_var_name_exists: {
    params: ['I', 'I'],
    result: 'i32',
    allowed: ALL,
    impl: (_c, h, src, size) => (h.environmentVariables().some(([n]) => n === envVarName(h, 'env_var_name_exists', src, size)) ? 1 : 0),
  },
  env_var_value_size: {
    params: ['I', 'I'],
    result: 'I',
    allowed: ALL,
    impl: (_c, h, src, size) => utf8(envVarValue(h, envVarName(h, 'env_var_value_size', src, size))).length,
  },
  env_var_value_copy: {
    params: ['I', 'I', 'I', 'I', 'I'],
    allowed: ALL,
    impl: (_c, h, src, size, dst, offset, n) =>
      copyOut(h, utf8(envVarValue(h, envVarName(h, 'env_var_value_copy', src, size))), dst, offset, n, 'ic0.env_var_value_copy'),
  },

  // --- Caller information: auxiliary data a canister signature may carry about the caller.
  // Deliberate difference: this replica does not read caller information out of canister
  // signatures, so these are empty, as the IC's are for every other caller.
  msg_caller_info_data_size: { params: [], result: 'I', allowed: CALLER_INFO, impl: () => 0 },
  msg_caller_info_data_copy: {
    params: ['I', 'I', 'I'],
    allowed: CALLER_INFO,
    impl: (_c, h, dst, off, size) => copyOut(h, new Uint8Array(), dst, off, size, 'ic0.msg_caller_info_data_copy'),
  },
  msg_caller_info_signer_size: { params: [], result: 'I', allowed: CALLER_INFO, impl: () => 0 },
  msg_caller_info_signer_copy: {
    params: ['I', 'I', 'I'],
    allowed: CALLER_INFO,
    impl: (_c, h, dst, off, size) => copyOut(h, new Uint8Array(), dst, off, size, 'ic0.msg_caller_info_signer_copy'),
  },

  // --- Debugging
  debug_print: {
    params: ['I', 'I'],
    allowed: ALL,
    impl: (c, h, src, size) => {
      // The IC never traps on debug_print; out-of-range text is printed as a note.
      const m = mem(h);
      const text = src + size <= m.length ? new TextDecoder().decode(m.subarray(src, src + size)) : `<debug_print out of bounds: offset ${src}, size ${size}>`;
      c.debugPrint(text);
    },
  },
  trap: {
    params: ['I', 'I'],
    allowed: ALL,
    impl: (_c, h, src, size) => {
      const m = mem(h);
      const text = src + size <= m.length ? new TextDecoder().decode(m.subarray(src, src + size)) : '<trap message out of bounds>';
      throw new CanisterTrap(text, true);
    },
  },
};

function clamp64(v: bigint): bigint {
  return v > 0xffff_ffff_ffff_ffffn ? 0xffff_ffff_ffff_ffffn : v;
}

function accept(c: MessageContext, max: bigint): bigint {
  const amount = max < c.cyclesAvailable ? max : c.cyclesAvailable;
  c.cyclesAvailable -= amount;
  c.cyclesAccepted += amount;
  c.takeCycles(-amount);
  return amount;
}

function addCycles(c: MessageContext, amount: bigint): void {
  const call = building(c, 'ic0.call_cycles_add');
  if (amount > MAX_CYCLES_128) throw new CanisterTrap('ic0.call_cycles_add128: amount exceeds 2^128');
  c.takeCycles(amount); // traps when the balance is insufficient, as the spec requires
  call.cycles += amount;
}

function building(c: MessageContext, what: string) {
  if (!c.building) throw new CanisterTrap(`${what} called without a preceding ic0.call_new`);
  return c.building;
}

/** Builds the `ic0` import object for one instance. Imports the module does not use are harmless. */
export function systemApiImports(host: ApiHost, wanted: readonly string[]): Record<string, (...args: any[]) => any> {
  const out: Record<string, (...args: any[]) => any> = {};
  const toNumber = (v: number | bigint, t: ParamType) => {
    if (t === 'i64') return typeof v === 'bigint' ? v : BigInt(v);
    if (t === 'I') return typeof v === 'bigint' ? Number(v) : v >>> 0;
    return typeof v === 'bigint' ? Number(v) : v;
  };
  for (const name of wanted) {
    const f = api[name];
    if (!f) {
      out[name] = () => {
        throw new CanisterTrap(`ic0.${name} is not supported by this replica`);
      };
      continue;
    }
    const resultType = f.result === 'I' ? (host.memory64 ? 'i64' : 'i32') : f.result;
    out[name] = (...raw: (number | bigint)[]) => {
      const ctx = host.context();
      if (!ctx) throw new CanisterTrap(`ic0.${name} called outside of a message`);
      if (ctx.kind === 's' ? !(name === 'trap' || name === 'debug_print' || name.startsWith('stable')) : f.allowed !== 'all' && !f.allowed.has(ctx.kind)) {
        throw CanisterTrap.of(hypervisorError.wrongMode(`ic0_${name}`, apiTypeName(ctx)));
      }
      chargeSystemApiCall(host.counter(), name, raw, ctx.sliceReserve?.() ?? 0n);
      const args = raw.map((v, i) => toNumber(v, f.params[i] ?? 'i32'));
      const result = f.impl(ctx, host, ...args);
      if (resultType === 'i64') return typeof result === 'bigint' ? result : BigInt(result ?? 0);
      if (resultType === 'i32') return Number(result ?? 0) | 0;
      return undefined;
    };
  }
  return out;
}

export const supportedSystemApi = (): string[] => Object.keys(api);

/** The IC's names of the entry-point kinds, as its wrong-mode error prints them (system_api.rs `ApiType::as_str`). */
const API_TYPE_NAMES: Record<ApiKind, string> = {
  I: 'init',
  G: 'pre upgrade',
  s: 'start',
  U: 'update',
  RQ: 'replicated query',
  NRQ: 'non replicated query',
  CQ: 'composite query',
  Ry: 'reply callback',
  Rt: 'reject callback',
  CRy: 'composite reply callback',
  CRt: 'composite reject callback',
  C: 'cleanup',
  F: 'inspect message',
  T: 'heartbeat',
};

function apiTypeName(ctx: MessageContext): string {
  if (ctx.kind === 'T')
    return ctx.methodName === 'canister_global_timer' ? 'global timer' : ctx.methodName === 'canister_on_low_wasm_memory' ? 'on low Wasm memory' : 'heartbeat';
  return API_TYPE_NAMES[ctx.kind];
}
