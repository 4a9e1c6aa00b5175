// A corpus of failures and the exact answer a client (or a calling canister) gets for each: the
// reject code, the IC error code and the message, written down from the IC's sources (each row
// cites the dfinity/ic file the text comes from), not from what this replica prints. The last
// test reports how many rows this replica answers exactly.
//
// Sources (dfinity/ic, read 2026-12):
//  [errors]   rs/interfaces/src/execution_environment/errors.rs (HypervisorError Display,
//             advice, into_user_error: "Error from Canister <id>: <text>.\n<advice>")
//  [help]     rs/types/wasm_types/src/errors.rs (ErrorHelp Display, toolchain text, doc_ref)
//  [sysapi]   rs/embedders/src/wasmtime_embedder/system_api.rs (contract violations, ApiType names)
//  [embedder] rs/embedders/src/wasmtime_embedder.rs (wasmtime traps to TrapCode)
//  [common]   rs/execution_environment/src/execution/common.rs (did-not-reply, "No response",
//             the UserError Display relayed to a calling canister)
//  [manager]  rs/execution_environment/src/canister_manager.rs and canister_manager/types.rs
//  [state]    rs/replicated_state/src/replicated_state.rs (stopped canister)
//  [routing]  rs/messaging/src/routing/stream_builder.rs ("No route to canister")
//  [ee]       rs/execution_environment/src/execution_environment.rs (ingress filter, uninstall)
//  [validate] rs/embedders/src/wasm_utils/validation.rs (imports)
//  [error-types] packages/ic-error-types/src/lib.rs (codes; UserError Display "<code>: <text>")
//  [settings] rs/execution_environment/src/canister_settings.rs (UpdateSettingsError texts)
//  [chunks]   rs/replicated_state/src/canister_state/system_state/wasm_chunk_store.rs
//             (can_insert_chunk), canister_manager/types.rs (WasmSource::into_canister_module)
//  [mgmt-types] rs/types/management_canister_types (candid_error_to_user_error)
//  [candid]   the candid crate's Nat Display (digits grouped by "_")
//  [route]    rs/execution_environment/src/execution_environment/ routing (resolve_destination,
//             route_chain_key_message) and the "Unable to route management canister request"
//             reject (DESTINATION_INVALID) in rs/execution_environment's system state changes
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { Replica, CanisterRejectError } from '../src/index.ts';
import { IDL } from '@dfinity/candid';
import { createReplica, motokoFixture, watFixture, type Fixture } from './fixtures/build.ts';
import { canisterSettings } from './replica-support.ts';
import { canisterIdFromIndex } from '../src/management/canister-ids.ts';

const DOC = 'https://docs.internetcomputer.org/references/execution-errors#';
const TRAPPED = `Consider gracefully handling failures from this canister or altering the canister to handle exceptions. See documentation: ${DOC}trapped`;
const TRAPPED_EXPLICITLY = `Consider gracefully handling failures from this canister or altering the canister to handle exceptions. See documentation: ${DOC}trapped-explicitly`;
const METHOD_NOT_FOUND = `Check that the method being called is exported by the target canister. See documentation: ${DOC}method-not-found`;
const WRONG_MODE = `Check the ICP documentation to make sure APIs are being called in the correct message types. See documentation: ${DOC}calling-a-system-api-from-the-wrong-mode`;
const TOOLCHAIN =
  'This is likely an error with the compiler/CDK toolchain being used to build the canister. Please report the error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister.';
const INSTRUCTION_LIMIT = `Try optimizing this method to consume fewer instructions or split the work across multiple messages. See documentation: ${DOC}instruction-limit-exceeded`;
const WASM_MEMORY_LIMIT = `Try checking the canister for a possible memory leak or modifying it to use more stable memory instead of Wasm memory. See documentation: ${DOC}wasm-memory-limit-exceeded`;
const INVALID_SETTINGS = `Apply the described changes to make the settings valid. See documentation: ${DOC}invalid-settings`;
const CHUNK_STORE = `Use the \`stored_chunks\` API to check which hashes are present or top up the canister if it is low on cycles. See documentation: ${DOC}wasm-chunk-store-error`;
const NO_MODULE = `Please install code to this canister before calling it. See documentation: ${DOC}wasm-module-not-found`;

interface Answer {
  rejectCode: number;
  errorCode?: string;
  message: string;
}

interface Scenario {
  name: string;
  source: string;
  expected: (ids: Ids) => Answer;
  run: (ctx: Ctx) => Promise<Answer>;
}

interface Ids {
  probe: string;
  limitedProbe: string;
  /** Two instances of fixtures/motoko/answers.mo. */
  mo: string;
  mo2: string;
  empty: string;
  stopped: string;
  /** Empty, for install_code scenarios. */
  fresh: string;
  /** fixtures/wat/refuser.wat: its canister_inspect_message accepts only `allowed`. */
  refuser: string;
  /** An id in this replica's range with no canister. */
  absent: string;
  /** An id outside every range of this replica. */
  unrouted: string;
}

interface Ctx {
  pic: Replica;
  /** A replica whose updates may run 1M instructions, and its probe. */
  limited: { pic: Replica; probe: string };
  mo: Fixture;
  ids: Ids;
  user: Principal;
  controller: Principal;
}

const answerOf = async (p: Promise<unknown>): Promise<Answer> => {
  try {
    const reply = await p;
    return { rejectCode: 0, message: `replied ${reply instanceof Uint8Array ? new TextDecoder().decode(reply) : String(reply)}` };
  } catch (e) {
    if (!(e instanceof CanisterRejectError)) throw e;
    return { rejectCode: e.rejectCode, errorCode: e.errorCode, message: e.rejectMessage };
  }
};

const update = (ctx: Ctx, method: string, sender = ctx.user, canisterId = ctx.ids.probe, arg = new Uint8Array()) =>
  answerOf(ctx.pic.updateCall({ canisterId: Principal.fromText(canisterId), method, arg, sender }));
const query = (ctx: Ctx, method: string, sender = ctx.user, canisterId = ctx.ids.probe) =>
  answerOf(ctx.pic.queryCall({ canisterId: Principal.fromText(canisterId), method, arg: new Uint8Array(), sender }));

/** What a calling canister sees: the probe's relay replies "<reject code>:<message>" or "reply:<data>". */
async function relayed(ctx: Ctx, callee: string, method: string, argument = new Uint8Array()): Promise<Answer> {
  const id = Principal.fromText(callee).toUint8Array();
  const name = new TextEncoder().encode(method);
  const arg = new Uint8Array([id.length, ...id, name.length, ...name, ...argument]);
  const reply = await ctx.pic.updateCall({ canisterId: Principal.fromText(ctx.ids.probe), method: 'relay', arg, sender: ctx.user });
  const text = new TextDecoder().decode(reply);
  if (text.startsWith('reply:')) return { rejectCode: 0, message: text };
  return { rejectCode: Number(text[0]), message: text.slice(2) };
}

const EcdsaPublicKeyArgs = IDL.Record({
  canister_id: IDL.Opt(IDL.Principal),
  derivation_path: IDL.Vec(IDL.Vec(IDL.Nat8)),
  key_id: IDL.Record({ curve: IDL.Variant({ secp256k1: IDL.Null }), name: IDL.Text }),
});
const SignWithSchnorrArgs = IDL.Record({
  message: IDL.Vec(IDL.Nat8),
  derivation_path: IDL.Vec(IDL.Vec(IDL.Nat8)),
  key_id: IDL.Record({ algorithm: IDL.Variant({ bip340secp256k1: IDL.Null, ed25519: IDL.Null }), name: IDL.Text }),
  aux: IDL.Opt(IDL.Variant({ bip341: IDL.Record({ merkle_root_hash: IDL.Vec(IDL.Nat8) }) })),
});

/** A Motoko method called by a user (Candid, no arguments unless given). */
const moUpdate = (ctx: Ctx, method: string, arg = new Uint8Array(IDL.encode([], []))) =>
  answerOf(ctx.pic.updateCall({ canisterId: Principal.fromText(ctx.ids.mo), method, arg, sender: ctx.user }));

/** What answers.mo's relay returns: "<Error.code>: <Error.message>" of the call it made. */
async function moRelayed(ctx: Ctx, method: string): Promise<Answer> {
  const arg = new Uint8Array(IDL.encode([IDL.Principal, IDL.Text], [Principal.fromText(ctx.ids.mo2), method]));
  const reply = await ctx.pic.updateCall({ canisterId: Principal.fromText(ctx.ids.mo), method: 'relay', arg, sender: ctx.user });
  return { rejectCode: 0, message: String(IDL.decode([IDL.Text], reply)[0]) };
}

/** A management call by the controller of the `empty` canister (or another canister id). */
const manage = (ctx: Ctx, method: Parameters<Replica['callManagement']>[0], arg: Record<string, unknown>) =>
  answerOf(ctx.pic.callManagement(method, arg, ctx.controller));
const settingsOf = (ctx: Ctx, over: Record<string, unknown>) =>
  manage(ctx, 'update_settings', { canister_id: Principal.fromText(ctx.ids.empty), settings: canisterSettings(over), sender_canister_version: [] });
const rustBytes = (bytes: Uint8Array) => `[${Array.from(bytes).join(', ')}]`;

const err = (id: string, text: string, help?: string) => (help ? `Error from Canister ${id}: ${text}.\n${help}` : `Error from Canister ${id}: ${text}`);

const scenarios: Scenario[] = [
  {
    name: 'install_code whose canister_init traps (the controller installing sees the backtrace)',
    source: '[manager] Hypervisor error of install_code into_user_error; [errors] CalledTrap',
    expected: ({ fresh }) => ({
      rejectCode: 5,
      errorCode: 'IC0503',
      message: err(fresh, "Canister called `ic0.trap` with message: 'boom'\nCanister Backtrace:\ninit\n", TRAPPED_EXPLICITLY),
    }),
    run: async (ctx) => {
      const wasm = await watFixture('answers');
      return answerOf(
        ctx.pic.installCode({ canisterId: Principal.fromText(ctx.ids.fresh), wasm, arg: new TextEncoder().encode('boom'), sender: ctx.controller }),
      );
    },
  },
  {
    name: 'canister_inspect_message does not accept the message',
    source: '[errors] MessageRejected (no advice)',
    expected: ({ refuser }) => ({ rejectCode: 4, errorCode: 'IC0406', message: `Error from Canister ${refuser}: Canister rejected the message` }),
    run: (ctx) => update(ctx, 'refused', ctx.user, ctx.ids.refuser),
  },
  {
    name: 'Motoko: Runtime.trap',
    source: '[errors] CalledTrap (Motoko passes its text to ic0.trap)',
    expected: ({ mo }) => ({ rejectCode: 5, errorCode: 'IC0503', message: err(mo, "Canister called `ic0.trap` with message: 'oops'", TRAPPED_EXPLICITLY) }),
    run: (ctx) => moUpdate(ctx, 'trap'),
  },
  {
    name: 'Motoko: throw Error.reject',
    source: '[ee] WasmResult::Reject -> IC0406',
    expected: () => ({ rejectCode: 4, errorCode: 'IC0406', message: 'nope' }),
    run: (ctx) => moUpdate(ctx, 'reject'),
  },
  {
    name: "Motoko: a caught trap of the callee reads as the IC's UserError",
    source: '[common] action_to_request_response; [error-types] UserError Display',
    expected: ({ mo2 }) => ({
      rejectCode: 0,
      message: `canister_error: IC0503: ${err(mo2, "Canister called `ic0.trap` with message: 'oops'", TRAPPED_EXPLICITLY)}`,
    }),
    run: (ctx) => moRelayed(ctx, 'trap'),
  },
  {
    name: "Motoko: a caught reject of the callee reads as the callee's text",
    source: '[common] CallContextAction::Reject',
    expected: () => ({ rejectCode: 0, message: 'canister_reject: nope' }),
    run: (ctx) => moRelayed(ctx, 'reject'),
  },
  {
    name: 'Motoko: a caught missing method of the callee',
    source: '[errors] MethodNotFound; [error-types] UserError Display',
    expected: ({ mo2 }) => ({ rejectCode: 0, message: `canister_error: IC0536: ${err(mo2, "Canister has no update method 'missing'.", METHOD_NOT_FOUND)}` }),
    run: (ctx) => moRelayed(ctx, 'missing'),
  },
  {
    name: 'ic0.trap in an update',
    source: '[errors] CalledTrap, advice trapped-explicitly',
    expected: ({ probe }) => ({
      rejectCode: 5,
      errorCode: 'IC0503',
      message: err(probe, "Canister called `ic0.trap` with message: 'boom'", TRAPPED_EXPLICITLY),
    }),
    run: (ctx) => update(ctx, 'trap'),
  },
  {
    name: 'ic0.trap with an empty message',
    source: '[errors] CalledTrap',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0503', message: err(probe, "Canister called `ic0.trap` with message: ''", TRAPPED_EXPLICITLY) }),
    run: (ctx) => update(ctx, 'trap_empty'),
  },
  {
    name: 'ic0.trap in a query',
    source: '[errors] CalledTrap',
    expected: ({ probe }) => ({
      rejectCode: 5,
      errorCode: 'IC0503',
      message: err(probe, "Canister called `ic0.trap` with message: 'boom'", TRAPPED_EXPLICITLY),
    }),
    run: (ctx) => query(ctx, 'trap_query'),
  },
  {
    name: 'unreachable',
    source: '[embedder] UnreachableCodeReached -> TrapCode::Unreachable; [errors] Trapped',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0502', message: err(probe, 'Canister trapped: unreachable', TRAPPED) }),
    run: (ctx) => update(ctx, 'unreachable'),
  },
  {
    name: 'integer division by zero',
    source: '[embedder] IntegerDivisionByZero -> IntegerDivByZero ("integer division by 0")',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0502', message: err(probe, 'Canister trapped: integer division by 0', TRAPPED) }),
    run: (ctx) => update(ctx, 'div_zero'),
  },
  {
    name: 'integer remainder by zero',
    source: '[embedder] IntegerDivisionByZero',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0502', message: err(probe, 'Canister trapped: integer division by 0', TRAPPED) }),
    run: (ctx) => update(ctx, 'rem_zero'),
  },
  {
    name: 'integer overflow (i32.div_s MIN / -1)',
    source: '[embedder] any other trap -> TrapCode::Other ("unknown")',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0502', message: err(probe, 'Canister trapped: unknown', TRAPPED) }),
    run: (ctx) => update(ctx, 'int_overflow'),
  },
  {
    name: 'heap out of bounds',
    source: '[embedder] MemoryOutOfBounds -> HeapOutOfBounds',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0502', message: err(probe, 'Canister trapped: heap out of bounds', TRAPPED) }),
    run: (ctx) => update(ctx, 'heap_oob'),
  },
  {
    name: 'stable memory out of bounds',
    source: '[errors] TrapCode::StableMemoryOutOfBounds',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0502', message: err(probe, 'Canister trapped: stable memory out of bounds', TRAPPED) }),
    run: (ctx) => update(ctx, 'stable_oob'),
  },
  {
    name: 'table out of bounds',
    source: '[embedder] TableOutOfBounds',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0502', message: err(probe, 'Canister trapped: table out of bounds', TRAPPED) }),
    run: (ctx) => update(ctx, 'table_oob'),
  },
  {
    name: 'instruction limit exceeded',
    source: '[errors] InstructionLimitExceeded, advice instruction-limit-exceeded',
    expected: ({ limitedProbe }) => ({
      rejectCode: 5,
      errorCode: 'IC0522',
      message: err(limitedProbe, 'Canister exceeded the limit of 1000000 instructions for single message execution.', INSTRUCTION_LIMIT),
    }),
    run: (ctx) =>
      answerOf(ctx.limited.pic.updateCall({ canisterId: Principal.fromText(ctx.limited.probe), method: 'spin', arg: new Uint8Array(), sender: ctx.user })),
  },
  {
    name: 'Wasm memory limit exceeded',
    source: '[errors] WasmMemoryLimitExceeded, advice wasm-memory-limit-exceeded',
    expected: ({ limitedProbe }) => ({
      rejectCode: 5,
      errorCode: 'IC0539',
      message: err(
        limitedProbe,
        'Canister exceeded its current Wasm memory limit of 655360 bytes. The peak Wasm memory usage was 1114112 bytes. ' +
          'If the canister reaches 4GiB, then it may stop functioning and may become unrecoverable. ' +
          'Please reach out to the canister owner to investigate the reason for the increased memory usage. ' +
          'It might be necessary to move data from the Wasm memory to the stable memory. ' +
          'If such high Wasm memory usage is expected and safe, then the developer can increase the Wasm memory limit in the canister settings.',
        WASM_MEMORY_LIMIT,
      ),
    }),
    run: (ctx) =>
      answerOf(ctx.limited.pic.updateCall({ canisterId: Principal.fromText(ctx.limited.probe), method: 'grow', arg: new Uint8Array(), sender: ctx.user })),
  },
  {
    name: "a canister's own reject reaches a user with IC0406",
    source: '[ee] WasmResult::Reject -> CanisterRejectedMessage; [error-types] 406',
    expected: () => ({ rejectCode: 4, errorCode: 'IC0406', message: 'nope' }),
    run: (ctx) => update(ctx, 'reject'),
  },
  {
    name: "a canister's own reject in a query",
    source: '[error-types] 406',
    expected: () => ({ rejectCode: 4, errorCode: 'IC0406', message: 'nope' }),
    run: (ctx) => query(ctx, 'reject_query'),
  },
  {
    name: 'no reply',
    source: '[common] action_to_ingress_response NoResponse',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0506', message: `Canister ${probe} did not reply to the call` }),
    run: (ctx) => update(ctx, 'no_reply'),
  },
  {
    name: 'reply twice',
    source: '[sysapi] ic0_msg_reply ToolchainContractViolation',
    expected: ({ probe }) => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: err(probe, 'Canister violated contract: ic0.msg_reply: the call is already replied', TOOLCHAIN),
    }),
    run: (ctx) => update(ctx, 'reply_twice'),
  },
  {
    name: 'reject after reply',
    source: '[sysapi] ic0_msg_reject ToolchainContractViolation',
    expected: ({ probe }) => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: err(probe, 'Canister violated contract: ic0.msg_reject: the call is already replied', TOOLCHAIN),
    }),
    run: (ctx) => update(ctx, 'reject_after_reply'),
  },
  {
    name: 'call_new in a query',
    source: '[sysapi] error_for, ApiType "non replicated query"',
    expected: ({ probe }) => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: err(probe, 'Canister violated contract: "ic0_call_new" cannot be executed in non replicated query mode', WRONG_MODE),
    }),
    run: (ctx) => query(ctx, 'call_in_query'),
  },
  {
    name: 'update call to a missing method',
    source: '[errors] MethodNotFound, advice method-not-found',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0536', message: err(probe, "Canister has no update method 'nothing_here'.", METHOD_NOT_FOUND) }),
    run: (ctx) => update(ctx, 'nothing_here'),
  },
  {
    name: 'query call to an update method',
    source: '[errors] MethodNotFound (query)',
    expected: ({ probe }) => ({ rejectCode: 5, errorCode: 'IC0536', message: err(probe, "Canister has no query method 'ok'.", METHOD_NOT_FOUND) }),
    run: (ctx) => query(ctx, 'ok'),
  },
  {
    name: 'call to an empty canister',
    source: '[errors] WasmModuleNotFound',
    expected: ({ empty }) => ({
      rejectCode: 5,
      errorCode: 'IC0537',
      message: err(empty, 'Attempted to execute a message, but the canister contains no Wasm module.', NO_MODULE),
    }),
    run: (ctx) => update(ctx, 'anything', ctx.user, ctx.ids.empty),
  },
  {
    name: 'call to a stopped canister',
    source: '[state] get_active_canister',
    expected: ({ stopped }) => ({
      rejectCode: 5,
      errorCode: 'IC0508',
      message: `Canister ${stopped} is stopped and therefore does not have a CallContextManager`,
    }),
    run: (ctx) => update(ctx, 'ok', ctx.user, ctx.ids.stopped),
  },
  {
    name: 'ingress to a canister that does not exist',
    source: '[ee] should_accept_ingress_message',
    expected: ({ absent }) => ({ rejectCode: 3, errorCode: 'IC0301', message: `Canister ${absent} not found` }),
    run: (ctx) => update(ctx, 'ok', ctx.user, ctx.ids.absent),
  },
  {
    name: 'a calling canister sees a trap of its callee with the error code in front',
    source: '[common] action_to_request_response: RejectContext from the UserError Display',
    expected: ({ probe }) => ({ rejectCode: 5, message: `IC0503: ${err(probe, "Canister called `ic0.trap` with message: 'boom'", TRAPPED_EXPLICITLY)}` }),
    run: (ctx) => relayed(ctx, ctx.ids.probe, 'trap'),
  },
  {
    name: "a calling canister sees the callee's own reject as it is",
    source: '[common] CallContextAction::Reject -> RejectContext(CanisterReject, payload)',
    expected: () => ({ rejectCode: 4, message: 'nope' }),
    run: (ctx) => relayed(ctx, ctx.ids.probe, 'reject'),
  },
  {
    name: 'a calling canister sees "No response"',
    source: '[common] CallContextAction::NoResponse',
    expected: () => ({ rejectCode: 5, message: 'No response' }),
    run: (ctx) => relayed(ctx, ctx.ids.probe, 'no_reply'),
  },
  {
    name: "a calling canister sees the callee's missing method",
    source: '[errors] MethodNotFound; [error-types] UserError Display',
    expected: ({ probe }) => ({ rejectCode: 5, message: `IC0536: ${err(probe, "Canister has no update method 'nothing_here'.", METHOD_NOT_FOUND)}` }),
    run: (ctx) => relayed(ctx, ctx.ids.probe, 'nothing_here'),
  },
  {
    name: 'a call to an id in range with no canister: not found',
    source: '[state] CanisterNotFound at induction',
    expected: ({ absent }) => ({ rejectCode: 3, message: `Canister ${absent} not found` }),
    run: (ctx) => relayed(ctx, ctx.ids.absent, 'ok'),
  },
  {
    name: 'a call to an id no subnet hosts: no route',
    source: '[routing] reject_local_request "No route to canister"',
    expected: ({ unrouted }) => ({ rejectCode: 3, message: `No route to canister ${unrouted}` }),
    run: (ctx) => relayed(ctx, ctx.ids.unrouted, 'ok'),
  },
  {
    name: 'a calling canister calls a management method that does not exist',
    source: '[route] resolve_destination MethodNotFound, rejected with DESTINATION_INVALID and the Debug text',
    expected: () => ({ rejectCode: 3, message: 'Unable to route management canister request make_coffee: MethodNotFound("make_coffee")' }),
    run: (ctx) => relayed(ctx, 'aaaaa-aa', 'make_coffee'),
  },
  {
    name: 'a calling canister asks for an ECDSA public key no subnet holds',
    source: '[route] route_chain_key_message (OnlyHoldsKey), MasterPublicKeyId Display',
    expected: () => ({
      rejectCode: 3,
      message:
        'Unable to route management canister request ecdsa_public_key: ChainKeyError("Requested unknown threshold key: ecdsa:Secp256k1:dfx_test_key, existing keys: []")',
    }),
    run: (ctx) =>
      relayed(
        ctx,
        'aaaaa-aa',
        'ecdsa_public_key',
        new Uint8Array(
          IDL.encode([EcdsaPublicKeyArgs], [{ canister_id: [], derivation_path: [], key_id: { curve: { secp256k1: null }, name: 'dfx_test_key' } }]),
        ),
      ),
  },
  {
    name: 'a calling canister asks for a Schnorr signature with a key no subnet holds',
    source: '[route] route_chain_key_message (HoldsEnabledKey)',
    expected: () => ({
      rejectCode: 3,
      message:
        'Unable to route management canister request sign_with_schnorr: ChainKeyError("Requested unknown or disabled threshold key: schnorr:Ed25519:key_1, existing enabled keys: []")',
    }),
    run: (ctx) =>
      relayed(
        ctx,
        'aaaaa-aa',
        'sign_with_schnorr',
        new Uint8Array(
          IDL.encode(
            [SignWithSchnorrArgs],
            [{ message: new Uint8Array(32), derivation_path: [], key_id: { algorithm: { ed25519: null }, name: 'key_1' }, aux: [] }],
          ),
        ),
      ),
  },
  {
    name: 'ingress to aaaaa-aa for a method only canisters may call',
    source: '[manager] should_accept_ingress_message',
    expected: () => ({ rejectCode: 4, errorCode: 'IC0406', message: 'Only canisters can call ic00 method raw_rand' }),
    run: (ctx) => answerOf(ctx.pic.updateCall({ canisterId: Principal.managementCanister(), method: 'raw_rand', arg: new Uint8Array(), sender: ctx.user })),
  },
  {
    name: 'update_settings with 11 controllers',
    source: '[manager] validate_canister_settings, InvalidSettings into UserError (a space before the advice line)',
    expected: () => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: `Could not validate the settings: Invalid settings: 'controllers' length exceeds maximum size allowed of 10. \n${INVALID_SETTINGS}`,
    }),
    run: (ctx) => settingsOf(ctx, { controllers: [Array.from({ length: 11 }, (_, i) => Principal.fromUint8Array(new Uint8Array([i + 1])))] }),
  },
  {
    name: 'update_settings with compute_allocation 1000',
    source: '[settings] UpdateSettingsError::ComputeAllocation; [candid] Nat Display',
    expected: () => ({ rejectCode: 5, errorCode: 'IC0504', message: 'ComputeAllocation expected to be in the range [0..100], got 1_000' }),
    run: (ctx) => settingsOf(ctx, { compute_allocation: [1000n] }),
  },
  {
    name: 'update_settings with freezing_threshold 2^64',
    source: '[settings] UpdateSettingsError::FreezingThresholdOutOfRange',
    expected: () => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: 'Freezing threshold expected to be in the range of [0..2^64-1], got 18_446_744_073_709_551_616',
    }),
    run: (ctx) => settingsOf(ctx, { freezing_threshold: [2n ** 64n] }),
  },
  {
    name: 'update_settings with a wasm_memory_limit above 2^48',
    source: '[settings] MAX_WASM_MEMORY_LIMIT, UpdateSettingsError::WasmMemoryLimitOutOfRange',
    expected: () => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: 'Wasm memory limit expected to be in the range of [0..2^64-1], got 281_474_976_710_657',
    }),
    run: (ctx) => settingsOf(ctx, { wasm_memory_limit: [2n ** 48n + 1n] }),
  },
  {
    name: 'update_settings with the same environment variable twice',
    source: '[settings] UpdateSettingsError::DuplicateEnvironmentVariables',
    expected: () => ({ rejectCode: 4, errorCode: 'IC0408', message: 'Duplicate environment variables are not allowed' }),
    run: (ctx) =>
      settingsOf(ctx, {
        environment_variables: [
          [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        ],
      }),
  },
  {
    name: 'upload_chunk of 1 MiB + 1 byte',
    source: '[chunks] can_insert_chunk; [manager] WasmChunkStoreError into UserError',
    expected: () => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: `Error from Wasm chunk store: Wasm chunk size 1048577 exceeds the maximum chunk size of 1048576.\n${CHUNK_STORE}`,
    }),
    run: (ctx) => manage(ctx, 'upload_chunk', { canister_id: Principal.fromText(ctx.ids.empty), chunk: new Uint8Array(1024 * 1024 + 1) }),
  },
  {
    name: 'upload_chunk into a store holding 100 chunks',
    source: '[chunks] can_insert_chunk (100 MiB as NumBytes Display: byte_unit, two decimals)',
    expected: () => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: `Error from Wasm chunk store: Wasm chunk store has already reached maximum capacity of 100.00 MiB bytes or the maximum number of entries, 100.\n${CHUNK_STORE}`,
    }),
    run: async (ctx) => {
      const canister_id = Principal.fromText(ctx.ids.fresh);
      for (let i = 0; i < 100; i++) await ctx.pic.callManagement('upload_chunk', { canister_id, chunk: new Uint8Array([i]) }, ctx.controller);
      const full = await manage(ctx, 'upload_chunk', { canister_id, chunk: new Uint8Array([1, 2, 3]) });
      // A chunk the store already holds is still accepted.
      await ctx.pic.callManagement('upload_chunk', { canister_id, chunk: new Uint8Array([7]) }, ctx.controller);
      await ctx.pic.callManagement('clear_chunk_store', { canister_id }, ctx.controller);
      return full;
    },
  },
  {
    name: 'install_chunked_code naming a chunk the store lacks',
    source: '[manager] WasmSource::into_canister_module (the hash as Rust Debug of the slice)',
    expected: () => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message: `Error from Wasm chunk store: Chunk hash ${rustBytes(new Uint8Array(32).fill(7))} was not found.\n${CHUNK_STORE}`,
    }),
    run: (ctx) =>
      manage(ctx, 'install_chunked_code', {
        mode: { install: null },
        target_canister: Principal.fromText(ctx.ids.empty),
        store_canister: [],
        chunk_hashes_list: [{ hash: new Uint8Array(32).fill(7) }],
        wasm_module_hash: new Uint8Array(32),
        arg: new Uint8Array(),
        sender_canister_version: [],
      }),
  },
  {
    name: 'install_chunked_code whose chunks do not hash to wasm_module_hash',
    source: '[manager] WasmSource::into_canister_module (the given hash is a WasmHash: its Debug wraps the array)',
    expected: () => ({
      rejectCode: 5,
      errorCode: 'IC0504',
      message:
        'Error from Wasm chunk store: Wasm module hash ' +
        rustBytes(
          createHash('sha256')
            .update(new Uint8Array([0]))
            .digest(),
        ) +
        ` does not match given hash WasmHash(${rustBytes(new Uint8Array(32))}).\n${CHUNK_STORE}`,
    }),
    run: async (ctx) => {
      const canister_id = Principal.fromText(ctx.ids.empty);
      const { hash } = (await ctx.pic.callManagement('upload_chunk', { canister_id, chunk: new Uint8Array([0]) }, ctx.controller)) as { hash: Uint8Array };
      const answer = await manage(ctx, 'install_chunked_code', {
        mode: { install: null },
        target_canister: canister_id,
        store_canister: [],
        chunk_hashes_list: [{ hash }],
        wasm_module_hash: new Uint8Array(32),
        arg: new Uint8Array(),
        sender_canister_version: [],
      });
      await ctx.pic.callManagement('clear_chunk_store', { canister_id }, ctx.controller);
      return answer;
    },
  },
  {
    name: 'a controller sees the backtrace of a trap',
    source: '[errors] CalledTrap with CanisterBacktrace Display; execution_environment/tests/canister_backtrace.rs',
    expected: ({ probe }) => ({
      rejectCode: 5,
      errorCode: 'IC0503',
      message: err(probe, "Canister called `ic0.trap` with message: 'boom'\nCanister Backtrace:\ninner\nouter\n", TRAPPED_EXPLICITLY),
    }),
    run: (ctx) => update(ctx, 'trap_deep', ctx.controller),
  },
  {
    name: 'another caller does not see the backtrace',
    source: 'execution_environment/tests/canister_backtrace.rs (visibility)',
    expected: ({ probe }) => ({
      rejectCode: 5,
      errorCode: 'IC0503',
      message: err(probe, "Canister called `ic0.trap` with message: 'boom'", TRAPPED_EXPLICITLY),
    }),
    run: (ctx) => update(ctx, 'trap_deep'),
  },
];

describe("the IC's answers (corpus of reject texts and codes)", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    const wasm = await watFixture('answers');
    const pic = await createReplica({ log: 'quiet' });
    const controller = Principal.fromText('2vxsx-fae'); // anonymous, as PicJS's default sender
    const user = Principal.fromUint8Array(new Uint8Array(29).fill(7));
    const mo = await motokoFixture('answers');
    const probe = await pic.createCanister({ sender: controller });
    await pic.installCode({ canisterId: probe, wasm, sender: controller });
    const empty = await pic.createCanister({ sender: controller });
    const fresh = await pic.createCanister({ sender: controller });
    const refuser = await pic.createCanister({ sender: controller });
    await pic.installCode({ canisterId: refuser, wasm: await watFixture('refuser'), sender: controller });
    const stopped = await pic.createCanister({ sender: controller });
    await pic.installCode({ canisterId: stopped, wasm, sender: controller });
    await pic.stopCanister({ canisterId: stopped, sender: controller });
    const moIds: Principal[] = [];
    for (let i = 0; i < 2; i++) {
      const id = await pic.createCanister({ sender: controller });
      await pic.installCode({ canisterId: id, wasm: mo.wasm, sender: controller });
      moIds.push(id);
    }
    const limitedPic = await createReplica({ log: 'quiet', limits: { instructionsPerUpdate: 1_000_000 } });
    const limitedProbe = await limitedPic.createCanister({ sender: controller });
    await limitedPic.installCode({ canisterId: limitedProbe, wasm, sender: controller });
    // 1 page now; the limit leaves room for 10: grow (16 pages) exceeds it
    await limitedPic.callManagement(
      'update_settings',
      { canister_id: limitedProbe, settings: canisterSettings({ wasm_memory_limit: [655_360n] }), sender_canister_version: [] },
      controller,
    );
    ctx = {
      pic,
      limited: { pic: limitedPic, probe: limitedProbe.toText() },
      mo,
      controller,
      user,
      ids: {
        probe: probe.toText(),
        limitedProbe: limitedProbe.toText(),
        mo: moIds[0].toText(),
        mo2: moIds[1].toText(),
        empty: empty.toText(),
        fresh: fresh.toText(),
        refuser: refuser.toText(),
        stopped: stopped.toText(),
        absent: canisterIdFromIndex(1000n).toText(),
        unrouted: Principal.fromUint8Array(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 1, 1])).toText(),
      },
    };
  }, 120_000);

  const results: boolean[] = [];
  for (const s of scenarios) {
    it(`${s.name} — ${s.source}`, async () => {
      const got = await s.run(ctx);
      const want = s.expected(ctx.ids);
      results.push(got.rejectCode === want.rejectCode && got.errorCode === want.errorCode && got.message === want.message);
      expect(got).toEqual(want);
    });
  }

  it('reports the match rate', () => {
    const exact = results.filter(Boolean).length;
    console.log(`ic-answers corpus: ${exact} of ${scenarios.length} scenarios answered exactly as the IC's sources say`);
    expect(results.length).toBe(scenarios.length);
  });
});
