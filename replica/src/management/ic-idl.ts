// The management canister's Candid types, transcribed from the interface spec's ic.did
// (dfinity/developer-docs, public/references/ic.did) for the methods this replica implements.
// Field names and shapes must match ic.did exactly: agents encode against their own copy.
import { IDL } from '@dfinity/candid';

const visibility = IDL.Variant({ controllers: IDL.Null, public: IDL.Null, allowed_viewers: IDL.Vec(IDL.Principal) });
const environmentVariable = IDL.Record({ name: IDL.Text, value: IDL.Text });

export const canisterSettings = IDL.Record({
  controllers: IDL.Opt(IDL.Vec(IDL.Principal)),
  compute_allocation: IDL.Opt(IDL.Nat),
  memory_allocation: IDL.Opt(IDL.Nat),
  freezing_threshold: IDL.Opt(IDL.Nat),
  reserved_cycles_limit: IDL.Opt(IDL.Nat),
  minimum_incoming_canister_call_cycles: IDL.Opt(IDL.Nat),
  log_visibility: IDL.Opt(visibility),
  log_memory_limit: IDL.Opt(IDL.Nat),
  snapshot_visibility: IDL.Opt(visibility),
  status_visibility: IDL.Opt(visibility),
  wasm_memory_limit: IDL.Opt(IDL.Nat),
  wasm_memory_threshold: IDL.Opt(IDL.Nat),
  environment_variables: IDL.Opt(IDL.Vec(environmentVariable)),
});

export const definiteCanisterSettings = IDL.Record({
  controllers: IDL.Vec(IDL.Principal),
  compute_allocation: IDL.Nat,
  memory_allocation: IDL.Nat,
  freezing_threshold: IDL.Nat,
  reserved_cycles_limit: IDL.Nat,
  minimum_incoming_canister_call_cycles: IDL.Nat,
  log_visibility: visibility,
  log_memory_limit: IDL.Nat,
  snapshot_visibility: visibility,
  status_visibility: visibility,
  wasm_memory_limit: IDL.Nat,
  wasm_memory_threshold: IDL.Nat,
  environment_variables: IDL.Vec(environmentVariable),
});

const snapshotId = IDL.Vec(IDL.Nat8);

const changeOrigin = IDL.Variant({
  from_user: IDL.Record({ user_id: IDL.Principal }),
  from_canister: IDL.Record({ canister_id: IDL.Principal, canister_version: IDL.Opt(IDL.Nat64) }),
});

const changeDetails = IDL.Variant({
  creation: IDL.Record({ controllers: IDL.Vec(IDL.Principal), environment_variables_hash: IDL.Opt(IDL.Vec(IDL.Nat8)) }),
  code_uninstall: IDL.Null,
  code_deployment: IDL.Record({
    mode: IDL.Variant({ install: IDL.Null, reinstall: IDL.Null, upgrade: IDL.Null }),
    module_hash: IDL.Vec(IDL.Nat8),
  }),
  load_snapshot: IDL.Record({
    from_canister_id: IDL.Opt(IDL.Principal),
    snapshot_id: snapshotId,
    canister_version: IDL.Nat64,
    taken_at_timestamp: IDL.Nat64,
    source: IDL.Variant({ taken_from_canister: IDL.Reserved, metadata_upload: IDL.Reserved }),
  }),
  controllers_change: IDL.Record({ controllers: IDL.Vec(IDL.Principal) }),
});

const change = IDL.Record({
  timestamp_nanos: IDL.Nat64,
  canister_version: IDL.Nat64,
  origin: changeOrigin,
  details: changeDetails,
});

export const installMode = IDL.Variant({
  install: IDL.Null,
  reinstall: IDL.Null,
  upgrade: IDL.Opt(
    IDL.Record({
      skip_pre_upgrade: IDL.Opt(IDL.Bool),
      wasm_memory_persistence: IDL.Opt(IDL.Variant({ keep: IDL.Null, replace: IDL.Null })),
    }),
  ),
});

const canisterIdRecord = IDL.Record({ canister_id: IDL.Principal });
const chunkHash = IDL.Record({ hash: IDL.Vec(IDL.Nat8) });
const snapshot = IDL.Record({ id: snapshotId, taken_at_timestamp: IDL.Nat64, total_size: IDL.Nat64 });

const canisterStatusResult = IDL.Record({
  status: IDL.Variant({ running: IDL.Null, stopping: IDL.Null, stopped: IDL.Null }),
  ready_for_migration: IDL.Bool,
  version: IDL.Nat64,
  settings: definiteCanisterSettings,
  module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)),
  memory_size: IDL.Nat,
  memory_metrics: IDL.Record({
    wasm_memory_size: IDL.Nat,
    stable_memory_size: IDL.Nat,
    global_memory_size: IDL.Nat,
    wasm_binary_size: IDL.Nat,
    custom_sections_size: IDL.Nat,
    canister_history_size: IDL.Nat,
    wasm_chunk_store_size: IDL.Nat,
    snapshots_size: IDL.Nat,
    log_memory_store_size: IDL.Nat,
  }),
  cycles: IDL.Nat,
  reserved_cycles: IDL.Nat,
  idle_cycles_burned_per_day: IDL.Nat,
  query_stats: IDL.Record({
    num_calls_total: IDL.Nat,
    num_instructions_total: IDL.Nat,
    request_payload_bytes_total: IDL.Nat,
    response_payload_bytes_total: IDL.Nat,
  }),
});

/** Argument and result types per method: [args], [results]. */
export const managementMethods = {
  create_canister: [[IDL.Record({ settings: IDL.Opt(canisterSettings), sender_canister_version: IDL.Opt(IDL.Nat64) })], [canisterIdRecord]],
  update_settings: [[IDL.Record({ canister_id: IDL.Principal, settings: canisterSettings, sender_canister_version: IDL.Opt(IDL.Nat64) })], []],
  upload_chunk: [[IDL.Record({ canister_id: IDL.Principal, chunk: IDL.Vec(IDL.Nat8) })], [chunkHash]],
  clear_chunk_store: [[canisterIdRecord], []],
  stored_chunks: [[canisterIdRecord], [IDL.Vec(chunkHash)]],
  install_code: [
    [
      IDL.Record({
        mode: installMode,
        canister_id: IDL.Principal,
        wasm_module: IDL.Vec(IDL.Nat8),
        arg: IDL.Vec(IDL.Nat8),
        sender_canister_version: IDL.Opt(IDL.Nat64),
      }),
    ],
    [],
  ],
  install_chunked_code: [
    [
      IDL.Record({
        mode: installMode,
        target_canister: IDL.Principal,
        store_canister: IDL.Opt(IDL.Principal),
        chunk_hashes_list: IDL.Vec(chunkHash),
        wasm_module_hash: IDL.Vec(IDL.Nat8),
        arg: IDL.Vec(IDL.Nat8),
        sender_canister_version: IDL.Opt(IDL.Nat64),
      }),
    ],
    [],
  ],
  uninstall_code: [[IDL.Record({ canister_id: IDL.Principal, sender_canister_version: IDL.Opt(IDL.Nat64) })], []],
  start_canister: [[canisterIdRecord], []],
  stop_canister: [[canisterIdRecord], []],
  canister_status: [[canisterIdRecord], [canisterStatusResult]],
  delete_canister: [[canisterIdRecord], []],
  deposit_cycles: [[canisterIdRecord], []],
  raw_rand: [[], [IDL.Vec(IDL.Nat8)]],
  canister_info: [
    [IDL.Record({ canister_id: IDL.Principal, num_requested_changes: IDL.Opt(IDL.Nat64) })],
    [
      IDL.Record({
        total_num_changes: IDL.Nat64,
        recent_changes: IDL.Vec(change),
        module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)),
        controllers: IDL.Vec(IDL.Principal),
      }),
    ],
  ],
  provisional_create_canister_with_cycles: [
    [
      IDL.Record({
        amount: IDL.Opt(IDL.Nat),
        settings: IDL.Opt(canisterSettings),
        specified_id: IDL.Opt(IDL.Principal),
        sender_canister_version: IDL.Opt(IDL.Nat64),
      }),
    ],
    [canisterIdRecord],
  ],
  provisional_top_up_canister: [[IDL.Record({ canister_id: IDL.Principal, amount: IDL.Nat })], []],
  take_canister_snapshot: [
    [
      IDL.Record({
        canister_id: IDL.Principal,
        replace_snapshot: IDL.Opt(snapshotId),
        uninstall_code: IDL.Opt(IDL.Bool),
        sender_canister_version: IDL.Opt(IDL.Nat64),
      }),
    ],
    [snapshot],
  ],
  load_canister_snapshot: [[IDL.Record({ canister_id: IDL.Principal, snapshot_id: snapshotId, sender_canister_version: IDL.Opt(IDL.Nat64) })], []],
  list_canister_snapshots: [[canisterIdRecord], [IDL.Vec(snapshot)]],
  delete_canister_snapshot: [[IDL.Record({ canister_id: IDL.Principal, snapshot_id: snapshotId })], []],
  fetch_canister_logs: [
    [
      IDL.Record({
        canister_id: IDL.Principal,
        filter: IDL.Opt(
          IDL.Variant({
            by_idx: IDL.Record({ start: IDL.Nat64, end: IDL.Nat64 }),
            by_timestamp_nanos: IDL.Record({ start: IDL.Nat64, end: IDL.Nat64 }),
          }),
        ),
      }),
    ],
    [
      IDL.Record({
        canister_log_records: IDL.Vec(IDL.Record({ idx: IDL.Nat64, timestamp_nanos: IDL.Nat64, content: IDL.Vec(IDL.Nat8) })),
      }),
    ],
  ],
} as const satisfies Record<string, readonly [IDL.Type[], IDL.Type[]]>;

export type ManagementMethod = keyof typeof managementMethods;

/** ic.did methods this replica knows of but does not provide (threshold keys, Bitcoin, HTTPS outcalls…). */
export const unsupportedManagementMethods = new Set([
  'http_request',
  'ecdsa_public_key',
  'sign_with_ecdsa',
  'schnorr_public_key',
  'sign_with_schnorr',
  'vetkd_public_key',
  'vetkd_derive_key',
  'bitcoin_get_balance',
  'bitcoin_get_utxos',
  'bitcoin_send_transaction',
  'bitcoin_get_current_fee_percentiles',
  'bitcoin_get_block_headers',
  'node_metrics_history',
  'subnet_metrics',
  'subnet_info',
  'canister_metadata',
  'canister_metrics',
  'list_canisters',
  'read_canister_snapshot_metadata',
  'read_canister_snapshot_data',
  'upload_canister_snapshot_metadata',
  'upload_canister_snapshot_data',
]);

/**
 * A Candid service for the management canister, usable with createActor. Every method is an
 * update here: ic.did marks canister_status and canister_info as queries, but the management
 * canister answers only replicated calls.
 */
export const managementIdlFactory = () => {
  const fields: Record<string, IDL.FuncClass> = {};
  for (const [name, [args, results]] of Object.entries(managementMethods)) fields[name] = IDL.Func([...args], [...results], []);
  return IDL.Service(fields);
};

/** The last arguments decodeManagementArg decoded, by the bytes' identity and the method. */
const decodedArgs = new WeakMap<Uint8Array, { method: string; values: unknown[] }>();

/**
 * IDL.decode of a management method's argument. One ingress call's argument is decoded three
 * times over (the HTTP interface's routing, the ingress filter, then the call itself), always the
 * same bytes object, and @dfinity/candid's decoder copies the rest of the input for each signed
 * LEB128 of the type table, so an install_code with a module of a few hundred KB cost about 10 ms
 * (Node) to 30 ms (a page's worker) per decode: the values of the last decode of these bytes are
 * handed back instead. Callers only read them. Throws as IDL.decode does (nothing kept then).
 */
export function decodeManagementArg(method: ManagementMethod, arg: Uint8Array): unknown[] {
  const known = decodedArgs.get(arg);
  if (known?.method === method) return known.values;
  const values = IDL.decode([...managementMethods[method][0]], arg);
  decodedArgs.set(arg, { method, values });
  return values;
}

/**
 * The canister a management call is about (https-interface.md#http-effective-canister-id):
 * `target_canister` for install_chunked_code, else a `canister_id` field. Undefined when the
 * argument does not decode or names none; the management canister then rejects the call itself.
 */
export function canisterNamedInManagementArg(method: string, arg: Uint8Array): { id: Uint8Array; field: string } | undefined {
  if (!Object.hasOwn(managementMethods, method)) return undefined;
  let decoded: unknown[];
  try {
    decoded = decodeManagementArg(method as ManagementMethod, arg);
  } catch {
    return undefined;
  }
  const record = decoded[0] as Record<string, unknown> | undefined;
  const field = method === 'install_chunked_code' ? 'target_canister' : 'canister_id';
  const value = record?.[field] as { toUint8Array?: () => Uint8Array } | undefined;
  return value?.toUint8Array ? { id: value.toUint8Array(), field } : undefined;
}
