// Instruction metering by rewriting the canister's Wasm, the way the Internet Computer does it
// (dfinity/ic rs/embedders/src/wasm_utils/instrumentation.rs, read 2026-11-28; our code is written
// from its description, not translated).
//
// The rules, as the IC applies them:
// - A function body is cut into basic blocks. A block ends after `loop`, `if`, `else`, `br`,
//   `br_if`, `br_table`, `end`, `return`, `unreachable`, `return_call` and
//   `return_call_indirect`; `block` does not end one (it costs 0 and is just a label).
// - At the start of each block the counter global is decremented by the summed cost of the
//   block's instructions (opcodes.ts has the per-instruction costs). The first block of a function
//   starts at 1, so even an empty function costs something. Blocks whose cost is 0 get nothing.
// - Blocks that can be re-entered without passing another check — a function's first block and
//   each loop body — also check the counter: if it is negative, execution stops. Other blocks
//   only decrement (the IC accepts a small bounded overshoot there in exchange for speed).
// - Bulk memory and table operations (memory.fill/copy/init, table.fill/copy/init) cost a static
//   100 plus their size operand, charged at run time just before the operation, with a check.
//
// Where we differ from the IC:
// - The IC calls an injected host import (`__.out_of_instructions`) when the counter is negative;
//   that import would shift every function index. We call an appended function instead, which
//   calls entry 0 of an appended, exported one-entry table (`__ic_out_of_instructions`): the host
//   puts there a function that stops the message (`unreachable`: the host recognises the trap by
//   the counter being negative, INTEGRATION.md) or, for a message that may be time-sliced, one
//   that pauses it and comes back with the next slice's instructions in the counter (the IC's
//   out_of_instructions handler in its deterministic time slicing; execution/slicing.ts). A
//   genuine trap of the canister in the few instructions between a decrement that went negative
//   and the next check is reported as "instruction limit exceeded", which the IC would report as
//   the trap.
// - The IC picks the bulk-operation size type (i32 or i64) from the type of memory 0. We take it
//   from the actual memory or table the instruction names (identical for single-memory modules
//   whose tables share the memory's address type, like every module the IC accepts today).
// - The IC appends its counter and helper after renumbering imports; we keep every existing
//   index: the counter is appended as the last global, the helper as the last function, its
//   type (if new) as the last type. The name section therefore stays valid unchanged.
// - The IC removes the start section and exports the start function as `canister_start`. We keep
//   the start section by default and give the counter an initial value (`initialBudget`) so that
//   instantiation can run it metered; `startFunction: 'export'` does what the IC does.
// - Inside a function the counter lives in a local and is published to the global before calls,
//   exits, loop heads and stops (BodyRewriter explains why). Totals are the IC's; only after an
//   implicit trap (out-of-bounds access, division by zero) does the global lag a little.
// - The IC follows each memory.grow with a host call that enforces the canister's memory
//   settings; we guard it in Wasm against a limit global the host sets (`wasmMemoryLimit`).

import { ByteReader, ByteWriter, WasmDecodeError } from '../wasm/binary.ts';
import { ExternalKind, encodeModule, importCounts, memoryLimits, parseModule, tableTypes, type WasmModule } from '../wasm/module.ts';
import { Imm, ValType, fcCost, fcImm, fdCost32, fdCost64, fdImm, feImm, plainCost32, plainCost64, plainImm } from '../wasm/opcodes.ts';
import { meterEachInstruction } from './reference.ts';
import { skipImmediate } from '../wasm/code.ts';

export const COUNTER_EXPORT = '__ic_instructions_left';

export interface InstrumentOptions {
  /** Export name of the counter global. */
  counterExport?: string;
  /**
   * Initial value of the counter when the module is instantiated: the budget of the Wasm start
   * function, if the module has one and keeps it. Default: the install/upgrade limit (300B).
   */
  initialBudget?: bigint | number;
  /** `'export'`: remove the start section and export the start function (the IC's behaviour). */
  startFunction?: 'keep' | 'export';
  /** Name under which to export the start function with `startFunction: 'export'`. */
  startExport?: string;
  /**
   * Export table 0 under this name when the module does not export any table (Azle's Rust CDK
   * exports none, yet callbacks are table indices the host must be able to call).
   */
  exportTable?: string;
  /**
   * Export every mutable global the module does not already export, as `<prefix><index>`, so the
   * host can save and restore them (rollback, snapshots). The IC does the same for persistence.
   */
  exportMutableGlobalsPrefix?: string;
  /**
   * false: add the counter global and exports but inject no metering (the baseline the bench
   * compares against; a replica created with `metering: 'off'`). Default: true.
   */
  meter?: boolean;
  /**
   * 'block' (default): the IC's scheme. 'instruction': charge every instruction separately and
   * never check (reference.ts; for tests that compare the two; a replica created with
   * `metering: 'instruction'`).
   */
  granularity?: 'block' | 'instruction';
  /**
   * Enforce a settable Wasm heap limit (the canister setting wasm_memory_limit): before every
   * `memory.grow` of memory 0 a helper compares the new size with the exported global
   * `__ic_wasm_memory_limit_pages`; past it, it records the size it was asked for in
   * `__ic_wasm_memory_refused_pages` and stops (the host reports IC0539). The limit starts
   * unlimited, so a host that never sets it sees no change. Default: true (block metering only).
   */
  wasmMemoryLimit?: boolean;
  /**
   * false: a negative counter stops the message (`unreachable`) instead of calling the
   * out-of-instructions hook, so messages cannot be time-sliced. Default: true (block metering).
   * The hook's call at function entries and loop heads costs tight loops time even when it is
   * never taken (V8 keeps values live across it; README.md has the measured figures).
   */
  outOfInstructionsHook?: boolean;
}

export const WASM_MEMORY_LIMIT_EXPORT = '__ic_wasm_memory_limit_pages';
/** The one-entry funcref table whose entry 0 the counter checks call when the counter is negative. */
export const OUT_OF_INSTRUCTIONS_EXPORT = '__ic_out_of_instructions';
export const WASM_MEMORY_REFUSED_EXPORT = '__ic_wasm_memory_refused_pages';

export interface InstrumentResult extends MeteringResult {
  wasm: Uint8Array;
}

/** What `meterModule` did to the module. */
export interface MeteringResult {
  counterExport: string;
  /** Index of the counter in the global index space. */
  counterGlobal: number;
  /** Index of the injected bulk-operation helper in the function index space (-1 if none). */
  helperFunction: number;
  /** Whether memory 0 is 64-bit (loads and stores then cost 2). */
  memory64: boolean;
  /** Export names of the Wasm memory limit globals, when the option is on and there is a memory. */
  wasmMemoryLimit?: { limitExport: string; refusedExport: string };
  startExport?: string;
  tableExport?: string;
  /** Global index -> export name, for the mutable globals we exported. */
  mutableGlobalExports: Map<number, string>;
  stats: {
    functions: number;
    blocks: number;
    checks: number;
    dynamicCharges: number;
    /** Instructions in the module's function bodies before instrumentation. */
    wasmInstructions: number;
    milliseconds: number;
  };
  /**
   * What the IC charges to compile this module at install, in instructions: 6,000 per Wasm
   * instruction of the instrumented module plus 2 per global (embedders.rs
   * DEFAULT_COST_TO_COMPILE_WASM_INSTRUCTION; instrumentation.rs counts after instrumenting).
   * Counted as the IC's instrumentation would have grown the module (4 instructions per charged
   * block, 10 per checked one, 1 or 3 per bulk operation), not as ours does. The IC deducts it
   * from the install_code budget; 0 when not metering block by block.
   */
  compilationInstructions: bigint;
}

/** dfinity/ic rs/config/src/embedders.rs, DEFAULT_COST_TO_COMPILE_WASM_INSTRUCTION. */
export const COST_TO_COMPILE_WASM_INSTRUCTION = 6_000n;

const DEFAULT_INITIAL_BUDGET = 300_000_000_000n;
/** Sizes from 2^62 up are certain to exceed any budget; charging them would overflow the i64. */
const SIZE_SATURATION = 1n << 62n;

/** Instrument a canister module given as bytes (INTEGRATION.md). Throws `WasmDecodeError` on malformed input. */
export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions = {}): InstrumentResult {
  const started = performance.now();
  const { module: m, ...result } = meterModule(parseModule(bytes), options);
  const wasm = encodeModule(m);
  result.stats.milliseconds = performance.now() - started;
  return { ...result, wasm };
}

/**
 * The metering pass over a decoded module (../wasm/module.ts): rewrites `m` in place and says
 * what it added. Throws `WasmDecodeError` when a function body does not decode.
 */
export function meterModule(m: WasmModule, options: InstrumentOptions = {}): MeteringResult & { module: WasmModule } {
  const started = performance.now();
  const counterExport = options.counterExport ?? COUNTER_EXPORT;
  for (const e of m.exports) {
    if (e.name === counterExport) {
      throw new Error(`module already exports \`${counterExport}\`: it cannot be instrumented twice`);
    }
  }
  const counts = importCounts(m);
  const memories = memoryLimits(m);
  const tables = tableTypes(m);
  const memory64 = memories.length > 0 && (memories[0].flags & 0x04) !== 0;
  const counterGlobal = counts.globals + m.globals.length;
  const meter = options.meter ?? true;
  const granularity = options.granularity ?? 'block';

  // The helper that charges bulk operations: (i64 size) -> (i64 size), appended last.
  const helperFunction = meter ? counts.funcs + m.functions.length : -1;
  // The memory.grow guard and its two globals come after the helper and the counter.
  const guardHeap = meter && granularity === 'block' && options.wasmMemoryLimit !== false && memories.length > 0;
  const growGuard = guardHeap ? helperFunction + 1 : -1;
  const limitGlobal = counterGlobal + 1;
  const refusedGlobal = counterGlobal + 2;
  // The out-of-instructions function (block metering) comes after them, calling through a table
  // appended after every existing one.
  const hooked = meter && granularity === 'block' && options.outOfInstructionsHook !== false;
  const outOfInstructions = hooked ? helperFunction + (guardHeap ? 2 : 1) : -1;
  const hookTable = tables.length;

  const memory64ByIndex = memories.map((l) => (l.flags & 0x04) !== 0);
  const table64ByIndex = tables.map((t) => (t.limits.flags & 0x04) !== 0);
  const stats = { functions: m.code.length, blocks: 0, checks: 0, dynamicCharges: 0, wasmInstructions: 0, milliseconds: 0 };
  let compilationInstructions = 0n;

  if (meter && granularity === 'instruction') {
    for (const body of m.code) {
      body.bytes = meterEachInstruction(body.bytes, counterGlobal, helperFunction, memory64, (ins) => {
        const imm = ins.imm as { a?: number; b?: number } | number | undefined;
        if (ins.op === 'memory.init' || ins.op === 'table.init') return false;
        const a = typeof imm === 'number' ? imm : (imm?.a ?? 0);
        const b = typeof imm === 'number' ? imm : (imm?.b ?? 0);
        const wide = ins.op.startsWith('memory.') ? memory64ByIndex : table64ByIndex;
        return Boolean(wide[a] && wide[b]);
      });
      delete body.sizeWidth;
    }
    appendHelper(m, counterGlobal);
  } else if (meter) {
    const rewriter = new BodyRewriter(counterGlobal, helperFunction, memory64, memory64ByIndex, table64ByIndex, growGuard, outOfInstructions);
    const definedFuncOffset = counts.funcs;
    for (let f = 0; f < m.code.length; f++) {
      const body = m.code[f];
      const type = m.types[m.functions[f]];
      if (!type) throw new WasmDecodeError(`function ${definedFuncOffset + f} has an unknown type ${m.functions[f]}`, body.offset);
      try {
        body.bytes = rewriter.rewrite(body.bytes, body.offset, type.params.length);
      } catch (err) {
        if (err instanceof WasmDecodeError) {
          throw new WasmDecodeError(`function ${definedFuncOffset + f}: ${err.message.replace(/ \(at byte offset \d+\)$/, '')}`, err.offset);
        }
        throw err;
      }
      delete body.sizeWidth; // sizes changed; write them minimally
    }
    stats.blocks = rewriter.blocks;
    stats.checks = rewriter.checks;
    stats.dynamicCharges = rewriter.dynamicCharges;
    stats.wasmInstructions = rewriter.instructions;
    // The IC's instrumented size: original instructions, its injected ones (see above), its
    // bulk-charging helper (~20 instructions) and 3 per memory.grow; 2 per global plus its counter.
    const icInstrumented = rewriter.instructions + rewriter.icInjected + 20 + 3 * rewriter.memoryGrows;
    compilationInstructions = COST_TO_COMPILE_WASM_INSTRUCTION * BigInt(icInstrumented + 2 * (counts.globals + m.globals.length + 1));
    appendHelper(m, counterGlobal, outOfInstructions);
    if (guardHeap) appendGrowGuard(m, memory64, limitGlobal, refusedGlobal);
    if (hooked) appendOutOfInstructions(m, hookTable);
  }

  // The counter: a mutable i64 appended after every existing global, so no index moves.
  const budget = BigInt(options.initialBudget ?? DEFAULT_INITIAL_BUDGET);
  const init = new ByteWriter(12);
  init.u8(0x42);
  init.s64(budget);
  init.u8(0x0b);
  m.globals.push({ type: { valType: ValType.i64, mutable: true }, init: init.finish() });
  m.exports.push({ name: counterExport, kind: ExternalKind.global, index: counterGlobal });
  if (guardHeap) {
    const i64Init = (v: bigint) => {
      const w = new ByteWriter(12);
      w.u8(0x42);
      w.s64(v);
      w.u8(0x0b);
      return w.finish();
    };
    // Unlimited until the host says otherwise: 2^48 pages is beyond any memory.
    m.globals.push({ type: { valType: ValType.i64, mutable: true }, init: i64Init(1n << 48n) });
    m.globals.push({ type: { valType: ValType.i64, mutable: true }, init: i64Init(0n) });
    m.exports.push({ name: WASM_MEMORY_LIMIT_EXPORT, kind: ExternalKind.global, index: limitGlobal });
    m.exports.push({ name: WASM_MEMORY_REFUSED_EXPORT, kind: ExternalKind.global, index: refusedGlobal });
  }

  const result: MeteringResult & { module: WasmModule } = {
    module: m,
    counterExport,
    counterGlobal,
    helperFunction,
    memory64,
    mutableGlobalExports: new Map(),
    stats,
    compilationInstructions,
  };
  if (guardHeap) result.wasmMemoryLimit = { limitExport: WASM_MEMORY_LIMIT_EXPORT, refusedExport: WASM_MEMORY_REFUSED_EXPORT };

  if (options.startFunction === 'export' && m.start !== undefined) {
    const name = options.startExport ?? 'canister_start';
    m.exports.push({ name, kind: ExternalKind.func, index: m.start });
    m.start = undefined;
    result.startExport = name;
  }

  if (options.exportTable && tables.length > 0) {
    const existing = m.exports.find((e) => e.kind === ExternalKind.table && e.index === 0);
    if (existing) result.tableExport = existing.name;
    else {
      m.exports.push({ name: options.exportTable, kind: ExternalKind.table, index: 0 });
      result.tableExport = options.exportTable;
    }
  }

  if (options.exportMutableGlobalsPrefix !== undefined) {
    const exported = new Set(m.exports.filter((e) => e.kind === ExternalKind.global).map((e) => e.index));
    const importedMutable: number[] = [];
    let g = 0;
    for (const imp of m.imports) {
      if (imp.desc.kind === 3) {
        if (imp.desc.global.mutable) importedMutable.push(g);
        g++;
      }
    }
    const candidates = importedMutable.concat(m.globals.flatMap((gl, i) => (gl.type.mutable ? [counts.globals + i] : [])));
    for (const index of candidates) {
      if (exported.has(index) || index >= counterGlobal) continue; // ours are exported already
      const name = `${options.exportMutableGlobalsPrefix}${index}`;
      m.exports.push({ name, kind: ExternalKind.global, index });
      result.mutableGlobalExports.set(index, name);
    }
  }

  stats.milliseconds = performance.now() - started;
  return result;
}

/**
 * Appends the out-of-instructions function, () -> (), which calls entry 0 of a new one-entry
 * funcref table (or stops while it is empty), and exports that table: the host chooses per
 * message what running out means.
 */
function appendOutOfInstructions(m: WasmModule, table: number): void {
  let typeIndex = m.types.findIndex((t) => t.params.length === 0 && t.results.length === 0);
  if (typeIndex < 0) {
    m.types.push({ params: [], results: [] });
    typeIndex = m.types.length - 1;
  }
  m.tables.push({ refType: 0x70, limits: { flags: 0x01, min: 1, max: 1 } });
  m.exports.push({ name: OUT_OF_INSTRUCTIONS_EXPORT, kind: ExternalKind.table, index: table });
  const w = new ByteWriter(32);
  w.u8(0); // no locals
  // Until the host fills the entry, running out stops the message as before.
  w.u8(0x41);
  w.u8(0x00); // i32.const 0
  w.u8(0x25);
  w.u32(table); // table.get
  w.u8(0xd1); // ref.is_null
  w.u8(0x04);
  w.u8(0x40); // if
  w.u8(0x00); // unreachable
  w.u8(0x0b); // end
  w.u8(0x41);
  w.u8(0x00); // i32.const 0
  w.u8(0x11);
  w.u32(typeIndex);
  w.u32(table); // call_indirect (type () -> ()) table
  w.u8(0x0b);
  m.functions.push(typeIndex);
  m.code.push({ bytes: w.finish(), offset: -1 });
}

/**
 * Appends the bulk-operation charging helper and, if needed, its type. With `outOfInstructions`
 * (an index of the function above), a negative counter calls it instead of stopping, and the
 * charge goes on if it returns (the next slice's instructions are in the counter).
 */
function appendHelper(m: WasmModule, counter: number, outOfInstructions = -1): void {
  let typeIndex = m.types.findIndex((t) => t.params.length === 1 && t.params[0] === ValType.i64 && t.results.length === 1 && t.results[0] === ValType.i64);
  if (typeIndex < 0) {
    m.types.push({ params: [ValType.i64], results: [ValType.i64] });
    typeIndex = m.types.length - 1;
  }
  const w = new ByteWriter(64);
  w.u8(0); // no locals
  // A size of 2^62 or more can never be paid for: make the counter negative and stop.
  w.u8(0x20);
  w.u32(0); // local.get 0
  w.u8(0x42);
  w.s64(SIZE_SATURATION); // i64.const 2^62
  w.u8(0x5a); // i64.ge_u
  w.u8(0x04);
  w.u8(0x40); // if
  w.u8(0x42);
  w.s64(-1n);
  w.u8(0x24);
  w.u32(counter); // counter = -1
  w.u8(0x00); // unreachable
  w.u8(0x0b); // end
  // counter -= size; stop if it went negative.
  w.u8(0x23);
  w.u32(counter);
  w.u8(0x20);
  w.u32(0);
  w.u8(0x7d); // i64.sub
  w.u8(0x24);
  w.u32(counter);
  w.u8(0x23);
  w.u32(counter);
  w.u8(0x42);
  w.u8(0x00);
  w.u8(0x53); // i64.lt_s
  w.u8(0x04);
  w.u8(0x40);
  if (outOfInstructions >= 0) {
    w.u8(0x10);
    w.u32(outOfInstructions); // call out_of_instructions
  } else w.u8(0x00); // unreachable
  w.u8(0x0b);
  w.u8(0x20);
  w.u32(0); // return the size unchanged
  w.u8(0x0b);
  m.functions.push(typeIndex);
  m.code.push({ bytes: w.finish(), offset: -1 });
}

/**
 * Appends the memory.grow guard: (delta) -> (delta) in memory 0's address type. If the memory
 * would end up larger than the limit global (in pages), it records the requested size in the
 * refused global and stops; otherwise it hands the delta on to `memory.grow` unchanged.
 */
function appendGrowGuard(m: WasmModule, memory64: boolean, limit: number, refused: number): void {
  const addr = memory64 ? ValType.i64 : ValType.i32;
  let typeIndex = m.types.findIndex((t) => t.params.length === 1 && t.params[0] === addr && t.results.length === 1 && t.results[0] === addr);
  if (typeIndex < 0) {
    m.types.push({ params: [addr], results: [addr] });
    typeIndex = m.types.length - 1;
  }
  const w = new ByteWriter(64);
  w.u8(1);
  w.u32(1);
  w.u8(ValType.i64); // one i64 local: the size asked for, in pages
  w.u8(0x3f);
  w.u8(0x00); // memory.size 0
  if (!memory64) w.u8(0xad); // i64.extend_i32_u
  w.u8(0x20);
  w.u32(0); // local.get 0 (delta)
  if (!memory64) w.u8(0xad);
  w.u8(0x7c); // i64.add
  w.u8(0x22);
  w.u32(1); // local.tee 1
  w.u8(0x23);
  w.u32(limit); // global.get limit
  w.u8(0x56); // i64.gt_u
  w.u8(0x04);
  w.u8(0x40); // if
  w.u8(0x20);
  w.u32(1);
  w.u8(0x24);
  w.u32(refused); // refused = requested pages
  w.u8(0x00); // unreachable
  w.u8(0x0b); // end
  w.u8(0x20);
  w.u32(0); // the delta, unchanged
  w.u8(0x0b);
  m.functions.push(typeIndex);
  m.code.push({ bytes: w.finish(), offset: -1 });
}

// Kinds of injection point, in the order they are found in a body.
const STATIC = 0; // a block start: decrement the local copy
const REENTRANT = 1; // a loop head: decrement, publish to the global, check
const ENTRY = 2; // the function's first block: load from the global, decrement, publish, check
const DYNAMIC32 = 3; // before a bulk operation with an i32 size: publish, charge it, reload
const DYNAMIC64 = 4; // ... with an i64 size
const BEFORE_CALL = 5; // publish the local copy (the callee, or the host, uses the global)
const AFTER_CALL = 6; // reload it
const BEFORE_EXIT = 7; // publish before leaving the function (return, branch out, trap)
const BEFORE_GROW = 8; // pass memory.grow's delta through the Wasm memory limit guard

/**
 * Rewrites function bodies in two passes over the bytes: the first finds the injection points
 * and block costs, the second copies the original bytes with the metering code spliced in.
 * No instruction objects are created, which keeps a 3.5 MB module well under a second.
 *
 * Inside a function the counter lives in an added local: decrementing a global in every block
 * makes a chain of store-to-load round trips through memory, which made metered Motoko code 3x
 * slower than unmetered; a local stays in a register. The global is brought up to date wherever
 * anyone else may look at it: before calls (callees and System API imports use it), before
 * leaving the function, at loop heads and before stopping. The counts are the IC's either way;
 * what changes is only when the global shows them. The one visible difference: after an
 * implicit trap (out-of-bounds access, division by zero) the global lags by the blocks run since
 * the last call, loop head or function entry, so such a message reports slightly fewer
 * instructions than it ran (the IC counts them).
 */
class BodyRewriter {
  blocks = 0;
  checks = 0;
  dynamicCharges = 0;
  /** Instructions seen in all bodies, and what the IC's own injection would add to them. */
  instructions = 0;
  icInjected = 0;
  memoryGrows = 0;
  private readonly cost: Uint16Array;
  private readonly fdCost: Uint16Array;
  private readonly counterLeb: Uint8Array;
  private readonly helperLeb: Uint8Array;
  private readonly growGuardLeb: Uint8Array | undefined;
  private readonly memory64ByIndex: boolean[];
  private readonly table64ByIndex: boolean[];
  private readonly out = new ByteWriter(1 << 16);
  private local: Uint8Array = new Uint8Array(5);
  // Injection points of the current body: positions, costs, kinds. Reused between bodies.
  private pos = new Int32Array(1024);
  private costs = new Float64Array(1024);
  private kinds = new Uint8Array(1024);
  private n = 0;

  private readonly outOfInstructionsLeb: Uint8Array | undefined;

  constructor(
    counter: number,
    helper: number,
    memory64: boolean,
    memory64ByIndex: boolean[],
    table64ByIndex: boolean[],
    growGuard = -1,
    outOfInstructions = -1,
  ) {
    if (outOfInstructions >= 0) {
      const o = new ByteWriter(5);
      o.u32(outOfInstructions);
      this.outOfInstructionsLeb = o.finish();
    }
    if (growGuard >= 0) {
      const g = new ByteWriter(5);
      g.u32(growGuard);
      this.growGuardLeb = g.finish();
    }
    this.memory64ByIndex = memory64ByIndex;
    this.table64ByIndex = table64ByIndex;
    this.cost = memory64 ? plainCost64 : plainCost32;
    this.fdCost = memory64 ? fdCost64 : fdCost32;
    const c = new ByteWriter(5);
    c.u32(counter);
    this.counterLeb = c.finish();
    const h = new ByteWriter(5);
    h.u32(Math.max(helper, 0));
    this.helperLeb = h.finish();
  }

  private push(position: number, kind: number): number {
    if (this.n === this.pos.length) {
      const size = this.n * 2;
      const pos = new Int32Array(size);
      pos.set(this.pos);
      this.pos = pos;
      const costs = new Float64Array(size);
      costs.set(this.costs);
      this.costs = costs;
      const kinds = new Uint8Array(size);
      kinds.set(this.kinds);
      this.kinds = kinds;
    }
    this.pos[this.n] = position;
    this.costs[this.n] = 0;
    this.kinds[this.n] = kind;
    return this.n++;
  }

  /** `paramCount`: the function's parameters, so the added local gets the next index. */
  rewrite(body: Uint8Array, baseOffset: number, paramCount: number): Uint8Array {
    const r = new ByteReader(body, 0, body.length, baseOffset);
    const groups = r.u32();
    let locals = paramCount;
    for (let g = 0; g < groups; g++) {
      locals += r.u32();
      r.u8();
    }
    const localsEnd = r.pos;
    const lw = new ByteWriter(5);
    lw.u32(locals);
    this.local = lw.finish();
    this.n = 0;
    this.scan(r);
    return this.emit(body, groups, localsEnd);
  }

  /** Pass 1: find block starts, their costs, calls, exits and bulk operations. */
  private scan(r: ByteReader): void {
    const bytes = r.bytes;
    const cost = this.cost;
    // Open blocks inside the function body; a branch whose depth equals this leaves the function.
    let depth = 0;
    // The function's first block is re-entrant (recursion) and starts at cost 1.
    let current = this.push(r.pos, ENTRY);
    this.costs[current] = 1;
    while (r.pos < r.end) {
      this.instructions++;
      const start = r.pos;
      const op = bytes[r.pos++];
      let imm: number;
      let c: number;
      let dynamicKind = -1;
      if (op < 0xfc) {
        imm = plainImm[op];
        c = cost[op];
      } else {
        const sub = r.u32();
        if (op === 0xfc) {
          imm = sub < fcImm.length ? fcImm[sub] : 255;
          c = imm === 255 ? 0 : fcCost[sub];
          if (sub === 8 || sub === 12)
            dynamicKind = DYNAMIC32; // memory.init / table.init: i32 size
          else if (sub === 10 || sub === 11 || sub === 14 || sub === 17) {
            if (imm !== 255) dynamicKind = this.sizeKind(r, sub);
          }
        } else if (op === 0xfd) {
          imm = sub < fdImm.length ? fdImm[sub] : 255;
          c = imm === 255 ? 0 : this.fdCost[sub];
        } else if (op === 0xfe) {
          imm = sub < feImm.length ? feImm[sub] : 255;
          c = 1;
        } else {
          imm = 255;
          c = 0;
        }
        if (imm === 255) {
          r.pos = start;
          r.fail(`unknown opcode 0x${op.toString(16)} ${sub}`);
        }
      }
      if (imm === 255) {
        r.pos = start;
        r.fail(`unknown opcode 0x${op.toString(16)}`);
      }
      this.costs[current] += c;
      if (dynamicKind >= 0) {
        skipImmediate(r, imm);
        this.push(start, dynamicKind);
        this.dynamicCharges++;
        continue;
      }
      switch (op) {
        case 0x02: // block
          skipImmediate(r, imm);
          depth++;
          break;
        case 0x03: // loop: its body is re-entered by every backward branch
          skipImmediate(r, imm);
          depth++;
          current = this.push(r.pos, REENTRANT);
          break;
        case 0x04: // if
          skipImmediate(r, imm);
          depth++;
          current = this.push(r.pos, STATIC);
          break;
        case 0x05: // else
          current = this.push(r.pos, STATIC);
          break;
        case 0x0b: // end
          if (depth === 0) this.push(start, BEFORE_EXIT); // falling off the function's end
          depth--;
          current = this.push(r.pos, STATIC);
          break;
        case 0x0c: // br
        case 0x0d: {
          // br_if
          const label = r.u32();
          if (label === depth) this.push(start, BEFORE_EXIT);
          current = this.push(r.pos, STATIC);
          break;
        }
        case 0x0e: {
          // br_table
          const count = r.u32();
          let leaves = false;
          for (let k = 0; k <= count; k++) if (r.u32() === depth) leaves = true;
          if (leaves) this.push(start, BEFORE_EXIT);
          current = this.push(r.pos, STATIC);
          break;
        }
        case 0x0f: // return
        case 0x00: // unreachable: publish so a trap reports what ran
          this.push(start, BEFORE_EXIT);
          current = this.push(r.pos, STATIC);
          break;
        case 0x12: // return_call
        case 0x13: // return_call_indirect
          skipImmediate(r, imm);
          this.push(start, BEFORE_EXIT);
          current = this.push(r.pos, STATIC);
          break;
        case 0x10: // call
        case 0x11: // call_indirect
          skipImmediate(r, imm);
          this.push(start, BEFORE_CALL);
          this.push(r.pos, AFTER_CALL);
          break;
        case 0x40: // memory.grow
          this.memoryGrows++;
          if (r.u32() === 0 && this.growGuardLeb) this.push(start, BEFORE_GROW);
          break;
        default:
          if (imm !== Imm.none) skipImmediate(r, imm);
      }
    }
    if (r.pos !== r.end) r.fail('function body ends inside an instruction');
    if (depth !== -1) r.fail('function body has unbalanced blocks');
  }

  /** Size operand type of memory.copy/fill (by memory) and table.copy/fill (by table). */
  private sizeKind(r: ByteReader, sub: number): number {
    // Peek at the immediates without consuming them (skipImmediate does that afterwards).
    const save = r.pos;
    const a = r.u32();
    const b = sub === 10 || sub === 14 ? r.u32() : a;
    r.pos = save;
    const wide = sub === 10 || sub === 11 ? this.memory64ByIndex : this.table64ByIndex;
    // For copies between a 32-bit and a 64-bit space the size is 32-bit (memory64 proposal).
    return wide[a] && wide[b] ? DYNAMIC64 : DYNAMIC32;
  }

  /** Pass 2: copy the body with metering code spliced in at each point. */
  private emit(body: Uint8Array, groups: number, localsEnd: number): Uint8Array {
    const w = this.out;
    w.len = 0;
    w.ensure(body.length + this.n * 24 + 16);
    const counter = this.counterLeb;
    const helper = this.helperLeb;
    const local = this.local;
    // Locals: the original groups, then one more i64 for the counter's working copy.
    w.u32(groups + 1);
    const groupsStart = new ByteReader(body);
    groupsStart.u32();
    w.bytes(body.subarray(groupsStart.pos, localsEnd));
    w.u8(1);
    w.u8(ValType.i64);
    let last = localsEnd;
    for (let k = 0; k < this.n; k++) {
      const kind = this.kinds[k];
      const cost = this.costs[k];
      if (kind === STATIC && cost === 0) continue;
      const at = this.pos[k];
      w.bytes(body.subarray(last, at));
      last = at;
      w.ensure(64);
      switch (kind) {
        case STATIC:
          this.blocks++;
          this.icInjected += 4;
          w.u8(0x20);
          w.bytes(local); // local.get
          w.u8(0x42);
          w.sNum(cost); // i64.const cost
          w.u8(0x7d); // i64.sub
          w.u8(0x21);
          w.bytes(local); // local.set
          break;
        case ENTRY:
        case REENTRANT:
          this.blocks++;
          this.checks++;
          this.icInjected += 10;
          if (kind === ENTRY) {
            w.u8(0x23);
            w.bytes(counter); // global.get
          } else {
            w.u8(0x20);
            w.bytes(local); // local.get
          }
          if (cost !== 0) {
            w.u8(0x42);
            w.sNum(cost);
            w.u8(0x7d);
          }
          w.u8(0x22);
          w.bytes(local); // local.tee
          w.u8(0x24);
          w.bytes(counter); // global.set
          w.u8(0x20);
          w.bytes(local);
          w.u8(0x42);
          w.u8(0x00); // i64.const 0
          w.u8(0x53); // i64.lt_s
          w.u8(0x04);
          w.u8(0x40); // if
          if (this.outOfInstructionsLeb) {
            // Out of instructions: the host stops the message, or pauses it and returns with
            // the next slice in the counter, which the local copy then picks up.
            w.u8(0x10);
            w.bytes(this.outOfInstructionsLeb);
            w.u8(0x23);
            w.bytes(counter); // global.get
            w.u8(0x21);
            w.bytes(local); // local.set
          } else w.u8(0x00); // unreachable
          w.u8(0x0b); // end
          break;
        case DYNAMIC32:
        case DYNAMIC64:
          this.icInjected += kind === DYNAMIC32 ? 3 : 1;
          w.u8(0x20);
          w.bytes(local);
          w.u8(0x24);
          w.bytes(counter);
          if (kind === DYNAMIC32) w.u8(0xad); // i64.extend_i32_u
          w.u8(0x10);
          w.bytes(helper); // call the charging helper
          if (kind === DYNAMIC32) w.u8(0xa7); // i32.wrap_i64
          w.u8(0x23);
          w.bytes(counter);
          w.u8(0x21);
          w.bytes(local);
          break;
        case BEFORE_CALL:
        case BEFORE_EXIT:
          w.u8(0x20);
          w.bytes(local);
          w.u8(0x24);
          w.bytes(counter);
          break;
        case AFTER_CALL:
          w.u8(0x23);
          w.bytes(counter);
          w.u8(0x21);
          w.bytes(local);
          break;
        case BEFORE_GROW:
          // The guard neither reads nor writes the counter, so no publish/reload is needed.
          w.u8(0x10);
          w.bytes(this.growGuardLeb!);
          break;
      }
    }
    w.bytes(body.subarray(last));
    return w.finish();
  }
}
