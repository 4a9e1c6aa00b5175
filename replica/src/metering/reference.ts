// Reference metering: the IC's cost rules applied literally, one instruction at a time.
//
// The block-based instrumentation (instrument.ts) charges each basic block up front. Its total
// for a run that does not trap must equal the definition it implements: 1 per function entry,
// plus the cost of every instruction executed, plus the size operand of every bulk operation.
// This module implements that definition directly, before every instruction, from the decoded
// instruction list (slow, and with no checks), so tests can compare the two on real canisters.
// Select it with `instrumentModule(bytes, { granularity: 'instruction' })` or, for a whole
// replica, `Replica.create({ metering: 'instruction' })`.

import { decodeFunctionBody, encodeFunctionBody, type Instr } from '../wasm/code.ts';
import { opByName } from '../wasm/opcodes.ts';

/** Rewrites one body so that it decrements `counter` by each instruction's cost before it runs. */
export function meterEachInstruction(body: Uint8Array, counter: number, helper: number, memory64: boolean, sizeIs64: (ins: Instr) => boolean): Uint8Array {
  const decoded = decodeFunctionBody(body);
  const out: Instr[] = [];
  const charge = (cost: number) => {
    out.push({ op: 'global.get', imm: counter }, { op: 'i64.const', imm: BigInt(cost) }, { op: 'i64.sub' }, { op: 'global.set', imm: counter });
  };
  charge(1); // every function entry costs 1 (the IC starts the first block at 1)
  for (const ins of decoded.instrs) {
    const info = opByName(ins.op);
    const cost = memory64 ? info.cost64 : info.cost32;
    if (cost > 0) charge(cost);
    if (isBulk(ins.op)) {
      if (sizeIs64(ins)) out.push({ op: 'call', imm: helper });
      else out.push({ op: 'i64.extend_i32_u' }, { op: 'call', imm: helper }, { op: 'i32.wrap_i64' });
    }
    out.push(ins);
  }
  return encodeFunctionBody({ locals: decoded.locals, instrs: out });
}

const BULK = new Set(['memory.fill', 'memory.copy', 'memory.init', 'table.fill', 'table.copy', 'table.init']);
function isBulk(op: string): boolean {
  return BULK.has(op);
}
