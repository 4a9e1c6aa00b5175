// Several subnets in one replica: which subnets exist, which canister ids each one hosts, where a
// new canister goes, and what a canister pays for cycles. The replica still runs every canister in
// one scheduler (so calls between subnets just work, in order); the subnets are its routing
// table, as the IC's registry is for real subnets.
//
// Layout as PocketIC builds it (dfinity/ic rs/pocket_ic_server/src/pocket_ic.rs,
// `subnet_kind_canister_range`, `get_range_config`, `RangeGen`; read 2026-12-04):
// - NNS, SNS, II, Fiduciary and Bitcoin subnets host their mainnet canister ranges (below) and
//   create new canisters from a range handed out from the top of the id space;
// - system, application and verified application subnets each get one range from the top of the
//   id space: the k-th subnet that needs one gets indices [(2^44 - 2 - k) * 2^20, ... + 2^20 - 1];
// - ranges are handed out in this order: NNS, SNS, II, Fiduciary, Bitcoin, system subnets,
//   application subnets, verified application subnets. The first application subnet therefore
//   starts at lxzze-o7777-77777-aaaaa-cai, as it does on PocketIC.
// - NNS, II, Bitcoin and system subnets are of the IC's type "system" (`conv_type`): canisters
//   there pay no cycles (rs/cycles_account_manager: the Free cost schedule of system subnets).
//   Application subnets may ask for the Free schedule too (PocketIC's `cost_schedule`).
//
// The single-subnet replica (`npm run replica`, Replica.create without `subnets`) keeps its
// dfx-like range (canister-ids.ts) and needs nothing from this file except `/_/topology`.
import { Principal } from '@dfinity/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { canisterIdFromIndex } from '../management/canister-ids.ts';
import { applicationSubnetCosts, CyclesCosts, freeCosts } from '../cycles/fees.ts';
import type { CanisterPlacement } from '../management/management-canister.ts';

export type SubnetKind = 'NNS' | 'SNS' | 'II' | 'Fiduciary' | 'Bitcoin' | 'System' | 'Application' | 'VerifiedApplication';
export const SUBNET_KINDS: readonly SubnetKind[] = ['NNS', 'SNS', 'II', 'Fiduciary', 'Bitcoin', 'System', 'Application', 'VerifiedApplication'];

/** 'Normal': the IC's fees; 'Free': no cycles are charged (PocketIC's `CanisterCyclesCostSchedule`). */
export type CostSchedule = 'Normal' | 'Free';

export interface SubnetSpec {
  kind: SubnetKind;
  /** Application subnets only: 'Free' charges no cycles. System-type subnets are always free. */
  costSchedule?: CostSchedule;
  /** PocketIC's Benchmarking instruction config: very high instruction limits (reported in the topology; pocket-ic/instance.ts applies them). */
  benchmarking?: boolean;
  /** Use this subnet id instead of the derived one (e.g. the HTTP interface's key-derived id). */
  id?: Uint8Array;
  /** Replace the PocketIC layout's ranges (e.g. the single-subnet replica's dfx-like range). */
  ranges?: CanisterRange[];
  /** Where new canisters come from (default: the first of `ranges`, or PocketIC's allocation range). */
  allocation?: CanisterRange;
}

/** A closed range of canister ids, as canister indices (interface spec, "Principals"). */
export interface CanisterRange {
  start: bigint;
  end: bigint;
}

export interface Subnet {
  readonly id: Principal;
  readonly kind: SubnetKind;
  /** Ranges a canister id may be specified in (topology's canister_ranges). */
  readonly ranges: CanisterRange[];
  /** Where new canisters come from. */
  readonly allocation: CanisterRange;
  readonly costSchedule: CostSchedule;
  readonly benchmarking: boolean;
  /** Nodes (rs/pocket_ic_server `subnet_size`): only reported, the replica runs one. */
  readonly size: number;
  /** PocketIC's subnet seed: hash of the ranges (its state directory name). */
  readonly seed: Uint8Array;
  readonly costs: CyclesCosts;
  nextIndex: bigint;
}

/** PocketIC: `CANISTER_IDS_PER_SUBNET` = 2^20. */
export const CANISTER_IDS_PER_SUBNET = 1n << 20n;
const U64_MAX = (1n << 64n) - 1n;

/** Subnet sizes as on mainnet (rs/pocket_ic_server `subnet_size`). */
const SUBNET_SIZE: Record<SubnetKind, number> = {
  Application: 13,
  VerifiedApplication: 13,
  Fiduciary: 34,
  SNS: 34,
  Bitcoin: 13,
  II: 34,
  NNS: 40,
  System: 13,
};

/** Kinds the IC runs as subnet type "system" (rs/pocket_ic_server `conv_type`). */
const SYSTEM_TYPE: ReadonlySet<SubnetKind> = new Set(['NNS', 'II', 'Bitcoin', 'System']);

const indexOf = (text: string): bigint => {
  const bytes = Principal.fromText(text).toUint8Array();
  return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0);
};
const range = (start: string, end: string): CanisterRange => ({ start: indexOf(start), end: indexOf(end) });

/** Mainnet ranges of the named subnets (rs/pocket_ic_server `subnet_kind_canister_range`). */
function namedRanges(kind: SubnetKind, iiSplit: boolean): CanisterRange[] | undefined {
  switch (kind) {
    case 'NNS':
      // Without an II subnet the NNS subnet also hosts the II range (`get_range_config`).
      return iiSplit
        ? [range('rwlgt-iiaaa-aaaaa-aaaaa-cai', 'renrk-eyaaa-aaaaa-aaada-cai'), range('qoctq-giaaa-aaaaa-aaaea-cai', 'n5n4y-3aaaa-aaaaa-p777q-cai')]
        : [range('rwlgt-iiaaa-aaaaa-aaaaa-cai', 'n5n4y-3aaaa-aaaaa-p777q-cai')];
    case 'II':
      return [range('rdmx6-jaaaa-aaaaa-aaadq-cai', 'rdmx6-jaaaa-aaaaa-aaadq-cai'), range('uc7f6-kaaaa-aaaaq-qaaaa-cai', 'ijz7v-ziaaa-aaaaq-7777q-cai')];
    case 'Bitcoin':
      return [range('g3wsl-eqaaa-aaaan-aaaaa-cai', '2qqia-xyaaa-aaaan-p777q-cai')];
    case 'Fiduciary':
      return [range('mf7xa-laaaa-aaaar-qaaaa-cai', 'qoznl-yiaaa-aaaar-7777q-cai')];
    case 'SNS':
      return [range('ybpmr-kqaaa-aaaaq-aaaaa-cai', 'ekjw2-zyaaa-aaaaq-p777q-cai')];
    default:
      return undefined;
  }
}

/**
 * `specs` with `id` given to the one that comes first in PocketIC's order (NNS, SNS, II, Fiduciary,
 * Bitcoin, system, application, verified application): the subnet whose key is the root key.
 */
export function withRootSubnetId(specs: SubnetSpec[], id: Uint8Array): SubnetSpec[] {
  let root = 0;
  specs.forEach((s, i) => {
    if (SUBNET_KINDS.indexOf(s.kind) < SUBNET_KINDS.indexOf(specs[root].kind)) root = i;
  });
  return specs.map((s, i) => (i === root ? { ...s, id } : s));
}

/**
 * Subnets from a command-line list such as `application,system` or `nns,application:free`
 * (`:free` asks an application subnet for the Free cost schedule).
 */
export function parseSubnetList(text: string): SubnetSpec[] {
  const names = new Map(SUBNET_KINDS.map((k) => [k.toLowerCase(), k]));
  names.set('verified-application', 'VerifiedApplication');
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name, schedule] = part.toLowerCase().split(':');
      const kind = names.get(name);
      if (!kind)
        throw new Error(
          `unknown subnet kind "${part}"; use ${['application', 'system', 'nns', 'sns', 'ii', 'fiduciary', 'bitcoin', 'verified-application'].join(', ')}`,
        );
      if (schedule !== undefined && schedule !== 'free') throw new Error(`"${part}": the only cost schedule to ask for is :free`);
      return schedule === 'free' ? { kind, costSchedule: 'Free' as const } : { kind };
    });
}

/** Canister ids as bytes for a canister index. */
export const canisterIdBytes = (index: bigint): Uint8Array => canisterIdFromIndex(index).toUint8Array();

function indexOfId(id: Uint8Array): bigint | undefined {
  if (id.length !== 10 || id[8] !== 1 || id[9] !== 1) return undefined;
  return new DataView(id.buffer, id.byteOffset).getBigUint64(0);
}

const encoder = new TextEncoder();

/** Principals in candid's order: shorter first, then byte by byte. */
function compareIds(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
/** Base64 without Node's Buffer (the engine also runs in browsers). */
const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

export class Topology implements CanisterPlacement {
  readonly subnets: Subnet[] = [];
  /**
   * The subnet a user's next management call creates canisters on (PocketIC's effective
   * subnet id, or the subnet of the effective canister id). A front end sets it around one call.
   */
  userTarget?: Subnet;

  /**
   * @param specs the subnets, in any order (they are laid out in PocketIC's order).
   * @example new Topology([{ kind: 'NNS' }, { kind: 'Application' }, { kind: 'System' }])
   */
  /** How many ranges have been handed out from the top of the id space (PocketIC's `RangeGen`). */
  #offset = 0n;
  #iiSplit: boolean;

  constructor(specs: SubnetSpec[]) {
    if (specs.length === 0) throw new Error('a topology needs at least one subnet');
    const order = (k: SubnetKind) => SUBNET_KINDS.indexOf(k);
    const sorted = specs
      .map((s, i) => ({ s, i }))
      .sort((a, b) => order(a.s.kind) - order(b.s.kind) || a.i - b.i)
      .map((x) => x.s);
    for (const kind of ['NNS', 'SNS', 'II', 'Fiduciary', 'Bitcoin'] as const) {
      if (sorted.filter((s) => s.kind === kind).length > 1) throw new Error(`at most one ${kind} subnet (PocketIC has one of each named subnet)`);
    }
    this.#iiSplit = sorted.some((s) => s.kind === 'II');
    for (const spec of sorted) this.#add(spec);
  }

  #nextRange(): CanisterRange {
    const k = U64_MAX / CANISTER_IDS_PER_SUBNET - 1n - this.#offset++;
    return { start: k * CANISTER_IDS_PER_SUBNET, end: (k + 1n) * CANISTER_IDS_PER_SUBNET - 1n };
  }

  #add(spec: SubnetSpec): Subnet {
    if (!SUBNET_KINDS.includes(spec.kind)) throw new Error(`unknown subnet kind ${String(spec.kind)}`);
    const named = namedRanges(spec.kind, this.#iiSplit);
    let ranges: CanisterRange[];
    let allocation: CanisterRange;
    if (spec.ranges) {
      ranges = spec.ranges;
      allocation = spec.allocation ?? spec.ranges[0];
    } else if (named) {
      ranges = named;
      allocation = this.#nextRange();
    } else {
      ranges = [this.#nextRange()];
      allocation = ranges[0];
    }
    const seed = sha256(encoder.encode(JSON.stringify([...ranges, allocation].map((r) => [r.start.toString(16), r.end.toString(16)]))));
    const systemType = SYSTEM_TYPE.has(spec.kind);
    const costSchedule: CostSchedule = systemType ? 'Free' : (spec.costSchedule ?? 'Normal');
    const size = SUBNET_SIZE[spec.kind];
    const subnet: Subnet = {
      id: spec.id ? Principal.fromUint8Array(spec.id) : Principal.selfAuthenticating(sha256(new Uint8Array([...encoder.encode('subnet '), ...seed]))),
      kind: spec.kind,
      ranges,
      allocation,
      costSchedule,
      benchmarking: spec.benchmarking ?? false,
      size,
      seed,
      costs: costSchedule === 'Free' ? freeCosts : size === 13 ? applicationSubnetCosts : new CyclesCosts(undefined, size),
      nextIndex: allocation.start,
    };
    this.subnets.push(subnet);
    return subnet;
  }

  /**
   * The named subnet (NNS, SNS, II, Fiduciary, Bitcoin) whose mainnet range holds `id`, created
   * now if the topology lacks it: PocketIC does so when a canister is created at a mainnet id
   * (CHANGELOG 5.0.0). Other mainnet ids would need the mainnet routing table, which we do not keep.
   */
  addNamedSubnetFor(id: Principal): Subnet | undefined {
    const index = indexOfId(id.toUint8Array());
    if (index === undefined) return undefined;
    for (const kind of ['NNS', 'SNS', 'II', 'Fiduciary', 'Bitcoin'] as const) {
      if (this.subnets.some((s) => s.kind === kind)) continue;
      if (namedRanges(kind, this.#iiSplit)?.some((r) => r.start <= index && index <= r.end)) return this.#add({ kind });
    }
    return undefined;
  }

  /** The subnet hosting `canisterId` (bytes or Principal), if any. */
  subnetOf(canisterId: Uint8Array | Principal): Subnet | undefined {
    const index = indexOfId(canisterId instanceof Principal ? canisterId.toUint8Array() : canisterId);
    if (index === undefined) return undefined;
    return this.subnets.find((s) => [...s.ranges, s.allocation].some((r) => r.start <= index && index <= r.end));
  }

  subnetById(id: Uint8Array | Principal): Subnet | undefined {
    const text = (id instanceof Principal ? id : Principal.fromUint8Array(id)).toText();
    return this.subnets.find((s) => s.id.toText() === text);
  }

  /**
   * Where a canister goes when nobody says: the first application subnet, else the first system
   * subnet, else the first subnet. (PocketIC picks a random application subnet with a fixed seed;
   * we take the first so the choice is evident.)
   */
  get defaultSubnet(): Subnet {
    return this.subnets.find((s) => s.kind === 'Application') ?? this.subnets.find((s) => s.kind === 'System') ?? this.subnets[0];
  }

  /** PocketIC's `default_effective_canister_id`: the first id of the default subnet's allocation range. */
  get defaultEffectiveCanisterId(): Principal {
    return canisterIdFromIndex(this.defaultSubnet.allocation.start);
  }

  /** Every closed id range, as bytes (what a certificate's canister_ranges lists for a replica that signs for all subnets). */
  allRanges(): Array<[Uint8Array, Uint8Array]> {
    return this.subnets
      .flatMap((s) => [...s.ranges, ...(s.ranges.includes(s.allocation) ? [] : [s.allocation])])
      .map((r) => [canisterIdBytes(r.start), canisterIdBytes(r.end)]);
  }

  /** A fresh canister id on `subnet`, skipping ids in use. */
  allocate(subnet: Subnet, inUse: (id: Principal) => boolean): Principal | undefined {
    while (subnet.nextIndex <= subnet.allocation.end) {
      const id = canisterIdFromIndex(subnet.nextIndex++);
      if (!inUse(id)) return id;
    }
    return undefined;
  }

  /** CanisterPlacement: a specified id must lie in some subnet's ranges; else the creator's subnet allocates. */
  place(creator: Uint8Array, creatorIsCanister: boolean, specifiedId: Principal | undefined, inUse: (id: Principal) => boolean): Principal | string {
    if (specifiedId) {
      if (this.subnetOf(specifiedId) ?? this.addNamedSubnetFor(specifiedId)) return specifiedId;
      return `The specified canister id ${specifiedId.toText()} is not in the canister range of any subnet of this instance (nor in the mainnet range of an NNS, SNS, II, Fiduciary or Bitcoin subnet it could add)`;
    }
    const subnet = (creatorIsCanister ? this.subnetOf(creator) : this.userTarget) ?? this.defaultSubnet;
    return this.allocate(subnet, inUse) ?? `Subnet ${subnet.id.toText()} has no canister ids left in its allocation range`;
  }

  /** CanisterPlacement: whether some subnet's ranges contain `id`. */
  hosts(id: Principal): boolean {
    return this.subnetOf(id) !== undefined;
  }

  /** CanisterPlacement: a canister gets its subnet's id (ic0.subnet_self) and cost schedule. */
  assign(canister: { principal: Principal; costs: CyclesCosts; subnetId: Uint8Array | undefined }): void {
    const subnet = this.subnetOf(canister.principal);
    canister.costs = subnet?.costs ?? applicationSubnetCosts;
    canister.subnetId = subnet?.id.toUint8Array();
  }

  /** The cycles costs for a canister: its subnet's schedule. */
  costsOf(canisterId: Uint8Array | Principal): CyclesCosts {
    return this.subnetOf(canisterId)?.costs ?? applicationSubnetCosts;
  }

  /** PocketIC's `/_/topology` JSON (packages/pocket-ic/src/common/rest.rs `Topology`). */
  toJson(nodeIds: (subnet: Subnet) => Uint8Array[] = () => []): TopologyJson {
    const subnet_configs: TopologyJson['subnet_configs'] = {};
    // PocketIC's topology is a BTreeMap keyed by subnet id: subnets come ordered by their id's bytes.
    const byId = [...this.subnets].sort((a, b) => compareIds(a.id.toUint8Array(), b.id.toUint8Array()));
    for (const s of byId) {
      subnet_configs[s.id.toText()] = {
        subnet_kind: s.kind,
        subnet_seed: [...s.seed],
        node_ids: nodeIds(s).map((n) => ({ node_id: b64(n) })),
        size: s.size,
        canister_ranges: s.ranges.map((r) => ({ start: { canister_id: b64(canisterIdBytes(r.start)) }, end: { canister_id: b64(canisterIdBytes(r.end)) } })),
        instruction_config: s.benchmarking ? 'Benchmarking' : 'Production',
        cost_schedule: s.costSchedule,
      };
    }
    return { subnet_configs, default_effective_canister_id: { canister_id: b64(this.defaultEffectiveCanisterId.toUint8Array()) } };
  }
}

export interface TopologyJson {
  subnet_configs: Record<
    string,
    {
      subnet_kind: SubnetKind;
      subnet_seed: number[];
      node_ids: { node_id: string }[];
      size: number;
      canister_ranges: { start: { canister_id: string }; end: { canister_id: string } }[];
      instruction_config: 'Production' | 'Benchmarking';
      cost_schedule: CostSchedule;
    }
  >;
  default_effective_canister_id: { canister_id: string };
}
