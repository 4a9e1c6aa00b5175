// The "metering" section of `npm run bench` (scripts/bench.ts): what instruction counting costs,
// measured against the same canisters run unmetered in the same process, and the instruction
// counts of a few reference operations next to ic-stable-structures' published canbench figures.
//
// Unmetered baseline: a replica created with `metering: 'off'` adds the counter global but no
// metering code. The two variants run in two replicas in this process (the compiled-module cache
// is keyed by module hash and metering mode, so the same bytes compile once per mode).
// Timings are the minimum of interleaved rounds: the machine is shared, minima are the stable
// statistic, and interleaving exposes both variants to the same load.

import { Replica } from '../replica/src/index.ts';
import { instrumentModule, meterModule } from '../replica/src/metering/instrument.ts';
import { encodeModule, parseModule } from '../replica/src/wasm/module.ts';
import { trackDirtyPages } from '../replica/src/execution/dirty-pages.ts';
import { prepareModule } from '../replica/src/execution/module.ts';
import { azleWork, motokoWork } from '../replica/test/metering-fixtures/fixtures.ts';
import { lineWriter, ms } from './lib/bench-support.ts';

const line = lineWriter(52);
const fmt = (n: bigint | number) => Number(n).toLocaleString('en-US');

async function install<T>(pic: Replica, idlFactory: Parameters<Replica['setupCanister']>[0]['idlFactory'], wasm: Uint8Array): Promise<T> {
  const { actor } = await pic.setupCanister<T>({ idlFactory, wasm });
  return actor as T;
}

/** Minimum wall time of `op` per variant over `rounds` interleaved rounds. */
async function interleaved(variants: Record<string, () => Promise<unknown>>, rounds: number): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  for (const op of Object.values(variants)) await op(); // warm-up: compile tiers, caches
  for (let r = 0; r < rounds; r++) {
    for (const [name, op] of Object.entries(variants)) {
      const t = performance.now();
      await op();
      best[name] = Math.min(best[name] ?? Infinity, performance.now() - t);
    }
  }
  return best;
}

// ic-stable-structures' checked-in canbench results, dfinity/stable-structures at commit
// ce9ae9b (2026-04-07, "perf: use node cache in insert and remove operations for BTreeMap") for
// benchmarks/btreemap/canbench_results.yml and 29fad0d (2026-03-20) for
// benchmarks/vec/canbench_results.yml, read 2026-11-28. Each benchmark runs 10,000 operations
// on random u64 keys (benchmarks/*/src/main.rs).
const CANBENCH = {
  btreemapInsertU64U64: 356_162_259,
  btreemapGetU64U64: 175_700_899,
  vecInsertU64: 4_999_519,
};

/**
 * How long preparing a module takes (`npm run bench -- prepare`, and the start of the metering
 * section): the metering pass as `instrumentModule` runs it (decode, meter, encode), the
 * dirty-page marking pass alone (execution/dirty-pages.ts, on a module decoded and metered
 * beforehand), and everything an install does before V8 compiles (execution/module.ts
 * prepareModule). The floor is decoding and encoding the same module with no pass in between,
 * measured in the same run; each figure is the minimum of 5.
 */
export async function preparationSection(): Promise<void> {
  console.log('\n== Module preparation: the passes over a decoded module, against decode + encode alone ==');
  const eop = (await motokoWork('eop')).wasm;
  const classic = (await motokoWork('classic')).wasm;
  const azle = azleWork();
  const minOf5 = (op: () => void, setup: () => void = () => {}) => {
    let best = Infinity;
    for (let k = 0; k < 5; k++) {
      setup();
      const t = performance.now();
      op();
      best = Math.min(best, performance.now() - t);
    }
    return best;
  };
  for (const [name, bytes] of [
    ['Azle', azle],
    ['Motoko wasm64 (EOP)', eop],
    ['Motoko wasm32 (classic)', classic],
  ] as const) {
    const floor = minOf5(() => encodeModule(parseModule(bytes)));
    const ratio = (t: number) => `${(t / floor).toFixed(2)}x decode + encode`;
    line(`decode + encode ${name}, ${(bytes.length / 1e6).toFixed(2)} MB (floor)`, `${ms(floor)} (min of 5)`);
    let out = 0;
    const metering = minOf5(() => (out = instrumentModule(bytes).wasm.length));
    line(
      `instrument ${name} (decode, meter, encode)`,
      `${ms(metering)} = ${ratio(metering)}, output +${(((out - bytes.length) / bytes.length) * 100).toFixed(0)}% bytes`,
    );
    let decoded = parseModule(bytes);
    const dirty = minOf5(
      () => trackDirtyPages(decoded),
      () => {
        decoded = parseModule(bytes);
        meterModule(decoded);
      },
    );
    line(`dirty-page marking pass alone, ${name}`, `${ms(dirty)} = ${ratio(dirty)}`);
    const prepare = minOf5(() => prepareModule(bytes, 'block', true));
    line(`prepare ${name} for compiling (all passes)`, `${ms(prepare)} = ${ratio(prepare)}`);
  }
}

export async function meteringSection(): Promise<void> {
  await preparationSection();
  console.log('\n== Metering: instruction counting cost and reference counts (same run, same machine) ==');
  const eop = (await motokoWork('eop')).wasm;
  const classic = (await motokoWork('classic')).wasm;
  const azle = azleWork();

  // Metered vs unmetered run time -----------------------------------------------------------
  // The query cache is off: this section times repeated identical queries, which a cache would answer without executing.
  const options = { log: 'quiet', queryCache: false, limits: { maxIngressBytes: 8 * 1024 * 1024 } } as const;
  const pic = await Replica.create(options);
  const unmeteredPic = await Replica.create({ ...options, metering: 'off' });
  try {
    type Spin = { spin(n: bigint | number): Promise<unknown>; spinUpdate?(n: bigint): Promise<unknown> };
    const motokoIdl: Parameters<Replica['setupCanister']>[0]['idlFactory'] = ({ IDL }) =>
      IDL.Service({
        spin: IDL.Func([IDL.Nat64], [IDL.Nat64], ['query']),
        spinUpdate: IDL.Func([IDL.Nat64], [IDL.Nat64], []),
        mapInsert: IDL.Func([IDL.Nat64], [IDL.Nat64], []),
        mapGet: IDL.Func([IDL.Nat64], [IDL.Nat64], ['query']),
        regionAppend: IDL.Func([IDL.Nat64], [IDL.Nat64], []),
      });
    const azleIdl: Parameters<Replica['setupCanister']>[0]['idlFactory'] = ({ IDL }) => IDL.Service({ spin: IDL.Func([IDL.Nat32], [IDL.Nat32], ['query']) });

    // Each variant runs the loop n times and 0 times; the difference is the loop alone, without the
    // per-message work (argument decoding, heap snapshots) that metering does not touch.
    const compare = async (
      label: string,
      metered: Spin,
      unmetered: Spin,
      n: bigint | number,
      zero: bigint | number,
      method: (actor: Spin, n: bigint | number) => Promise<unknown> = (actor, k) => actor.spin(k),
    ) => {
      const t = await interleaved(
        {
          metered: () => method(metered, n),
          unmetered: () => method(unmetered, n),
          meteredEmpty: () => method(metered, zero),
          unmeteredEmpty: () => method(unmetered, zero),
        },
        5,
      );
      const loopMetered = t.metered - t.meteredEmpty;
      const loopUnmetered = t.unmetered - t.unmeteredEmpty;
      line(label, `metered ${ms(loopMetered)} vs unmetered ${ms(loopUnmetered)} = ${(loopMetered / loopUnmetered).toFixed(2)}x (aim <= 2x)`);
      line('', `(whole message: ${ms(t.metered)} vs ${ms(t.unmetered)})`);
    };
    const iterations = 50_000_000n;
    for (const [name, wasm] of [
      ['Motoko wasm64 (EOP)', eop],
      ['Motoko wasm32 (classic)', classic],
    ] as const) {
      const metered = await install<Spin>(pic, motokoIdl, wasm);
      const unmetered = await install<Spin>(unmeteredPic, motokoIdl, wasm);
      await compare(`${name}: xorshift loop x ${fmt(iterations)}`, metered, unmetered, iterations, 0n);
      // Queries, and updates that end within one slice (2B instructions; this loop costs 53 per
      // iteration), run on the module without the slicing hook once a canister has computed
      // enough (metering/unsliced.ts). An update longer than a slice runs on the hooked module,
      // which can pause it, and pays the hook's cost (metering/README.md).
      const short = 30_000_000n;
      await compare(`${name}: x ${fmt(short)} in an update (one slice)`, metered, unmetered, short, 0n, (actor, k) => actor.spinUpdate!(BigInt(k)));
      await compare(`${name}: x ${fmt(iterations)} in an update (sliced)`, metered, unmetered, iterations, 0n, (actor, k) => actor.spinUpdate!(BigInt(k)));
    }
    // Large enough that the loop dominates; about 3B instructions, under the 5B query limit.
    const azleMetered = await install<Spin>(pic, azleIdl, azle);
    const azleUnmetered = await install<Spin>(unmeteredPic, azleIdl, azle);
    await compare('Azle (QuickJS): xorshift loop x 1,000,000 in JS', azleMetered, azleUnmetered, 1_000_000, 0);

    // Reference operations next to canbench ----------------------------------------------------
    type Work = { mapInsert(n: bigint): Promise<bigint>; mapGet(n: bigint): Promise<bigint>; regionAppend(n: bigint): Promise<bigint> };
    const n = 10_000n;
    for (const [name, wasm] of [
      ['EOP', eop],
      ['classic', classic],
    ] as const) {
      const work = await install<Work>(pic, motokoIdl, wasm);
      const insert = await work.mapInsert(n);
      const get = await work.mapGet(n);
      const append = await work.regionAppend(n);
      const per = (v: bigint | number) => `${fmt(Math.round(Number(v) / Number(n)))}/op`;
      line(
        `Motoko ${name}: mo:core Map.add x 10,000 (heap B-tree)`,
        `${fmt(insert)} instr (${per(insert)}); canbench BTreeMap insert u64->u64: ${fmt(CANBENCH.btreemapInsertU64U64)} (${per(CANBENCH.btreemapInsertU64U64)})`,
      );
      line(
        `Motoko ${name}: mo:core Map.get x 10,000`,
        `${fmt(get)} instr (${per(get)}); canbench BTreeMap get u64->u64: ${fmt(CANBENCH.btreemapGetU64U64)} (${per(CANBENCH.btreemapGetU64U64)})`,
      );
      line(
        `Motoko ${name}: Region append u64 x 10,000`,
        `${fmt(append)} instr (${per(append)}); canbench StableVec push u64: ${fmt(CANBENCH.vecInsertU64)} (${per(CANBENCH.vecInsertU64)})`,
      );
    }
    console.log('  (canbench: dfinity/stable-structures benchmarks/btreemap @ce9ae9b 2026-04-07 and benchmarks/vec @29fad0d');
    console.log('   2026-03-20, Rust on stable memory; ours: Motoko in the heap (Map) or a Region, counted by this replica.)');
  } finally {
    await pic.tearDown();
    await unmeteredPic.tearDown();
  }
}
