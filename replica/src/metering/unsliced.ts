// The unsliced variant of a prepared module: the same bytes with every call of the
// out-of-instructions hook (instrument.ts appendOutOfInstructions) turned into `unreachable`.
//
// Why: a call on a check's cold path costs tight loops time even when it is never taken (V8
// optimises loops that contain no call better; README.md, "What the slicing hook costs"). Only
// a message that deterministic time slicing may pause needs the hook. Queries, composite
// queries and inspect_message are never sliced (on the IC neither: their instruction limit is
// one slice's worth of work), so they may run on this variant, where running out of
// instructions stops the message exactly as the hook with an empty table would: the counter is
// published to the global before the check, the check fires at the same points, and the
// instructions counted are the same, so replies, traps and counts do not depend on the variant.
//
// Each `call $hook`, with the reload of the counter that follows it in a check, becomes one
// `unreachable`: the bodies are what instrument.ts emits with `outOfInstructionsHook: false`.
// Patching them in place with `nop`s instead (same offsets, no re-encoding) was measured to
// keep most of the hook's cost: V8 weighs a function by its size in bytes when it decides
// what to inline.
import { ByteReader } from '../wasm/binary.ts';
import { readOpcode, skipImmediate } from '../wasm/code.ts';
import { encodeModule, ExternalKind, importCounts, parseModule } from '../wasm/module.ts';
import { opInfo, opcodeKey } from '../wasm/opcodes.ts';
import { OUT_OF_INSTRUCTIONS_EXPORT } from './instrument.ts';

const CALL = 0x10;
const UNREACHABLE = 0x00;
const GLOBAL_GET = 0x23;
const LOCAL_SET = 0x21;
const TABLE_GET = 0x25;
const TABLE_SET = 0x26;
/** 0xfc-prefixed instructions that change a table's contents or size. */
const TABLE_WRITES = new Set([12, 14, 15, 17].map((sub) => opcodeKey(0xfc, sub))); // table.init, table.copy, table.grow, table.fill

/** What `unslicedVariant` found: the patched bytes, or why there are none. */
export type UnslicedVariant = { bytes: Uint8Array; patchedCalls: number } | { none: string };

/**
 * The prepared module `prepared` (the output of execution/module.ts prepareModule, block
 * metering with the hook) with its hook calls patched out, or the reason there is no such
 * variant:
 * - the module has no hook (metered without it, or unmetered): it is already unsliced;
 * - the module writes a table (`table.set`, `table.grow`, …): an instance of the variant keeps
 *   its own tables, which would then differ from the canister's, so the variant is not used.
 */
export function unslicedVariant(prepared: Uint8Array): UnslicedVariant {
  const m = parseModule(prepared);
  const hookTable = m.exports.find((e) => e.name === OUT_OF_INSTRUCTIONS_EXPORT && e.kind === ExternalKind.table)?.index;
  if (hookTable === undefined) return { none: 'the module has no out-of-instructions hook' };
  const imported = importCounts(m).funcs;
  // The hook function: `i32.const 0; table.get $hookTable; ref.is_null; …` with no locals.
  let hook = -1;
  for (let k = m.code.length - 1; k >= 0 && hook < 0; k--) {
    const b = m.code[k].bytes;
    if (b[0] !== 0 || b[1] !== 0x41 || b[2] !== 0 || b[3] !== TABLE_GET) continue;
    const r = new ByteReader(b, 4);
    if (r.u32() === hookTable && r.u8() === 0xd1) hook = imported + k;
  }
  if (hook < 0) return { none: 'the out-of-instructions hook function was not found' };
  let patchedCalls = 0;
  for (let k = 0; k < m.code.length; k++) {
    if (imported + k === hook) continue;
    const body = m.code[k].bytes;
    const r = new ByteReader(body, 0, body.length, m.code[k].offset);
    const groups = r.u32();
    for (let g = 0; g < groups; g++) {
      r.u32();
      r.u8();
    }
    // Byte ranges of the body to replace by `unreachable`: each hook call and, in a counter
    // check, the reload of the counter that follows it (instrument.ts emit: ENTRY, REENTRANT).
    const cuts: Array<[number, number]> = [];
    while (!r.done) {
      const at = r.pos;
      const op = readOpcode(r);
      if (op === CALL) {
        if (r.u32() !== hook) continue;
        let end = r.pos;
        if (body[end] === GLOBAL_GET) {
          const after = new ByteReader(body, end + 1, body.length);
          after.u32();
          if (body[after.pos] === LOCAL_SET) {
            after.pos++;
            after.u32();
            end = after.pos;
          }
          r.pos = end;
        }
        cuts.push([at, end]);
        continue;
      }
      if (op === TABLE_SET) return { none: 'the module writes a table (table.set)' };
      if (TABLE_WRITES.has(op)) return { none: 'the module writes a table' };
      const info = opInfo(op);
      if (!info) return { none: `unknown opcode 0x${op.toString(16)} at byte ${m.code[k].offset + at}` };
      skipImmediate(r, info.imm);
    }
    if (cuts.length === 0) continue;
    const out = new Uint8Array(body.length - cuts.reduce((n, [a, b]) => n + (b - a - 1), 0));
    let from = 0;
    let to = 0;
    for (const [a, b] of cuts) {
      out.set(body.subarray(from, a), to);
      to += a - from;
      out[to++] = UNREACHABLE;
      from = b;
    }
    out.set(body.subarray(from), to);
    m.code[k] = { ...m.code[k], bytes: out };
    patchedCalls += cuts.length;
  }
  if (patchedCalls === 0) return { none: 'the module never calls its out-of-instructions hook' };
  return { bytes: encodeModule(m), patchedCalls };
}
