// Build small modules from instruction lists: for tests that need a function of known shape and
// for benchmarks. Uses the same encoder the instrumentation uses, so it is exercised too.

import { encodeFunctionBody, type Instr, type LocalDecl } from './code.ts';
import { emptyModule, encodeModule, ExternalKind, type Limits, type WasmModule } from './module.ts';

export interface FunctionSpec {
  params: number[];
  results: number[];
  locals?: LocalDecl[];
  /** Instructions without the final `end` (added here). */
  body: Instr[];
  /** Export name, if exported. */
  export?: string;
}

export interface ModuleSpec {
  functions: FunctionSpec[];
  /** Memory 0, e.g. `{ flags: 0, min: 1 }`, or `{ flags: 4, min: 1 }` for a 64-bit memory. */
  memory?: Limits;
  /** Export memory 0 under this name. */
  memoryExport?: string;
  imports?: Array<{ module: string; name: string; params: number[]; results: number[] }>;
}

export function buildModule(spec: ModuleSpec): WasmModule {
  const m = emptyModule();
  const typeIndex = (params: number[], results: number[]): number => {
    const found = m.types.findIndex((t) => t.params.join() === params.join() && t.results.join() === results.join());
    if (found >= 0) return found;
    m.types.push({ params, results });
    return m.types.length - 1;
  };
  for (const imp of spec.imports ?? []) {
    m.imports.push({ module: imp.module, name: imp.name, desc: { kind: 0, typeIndex: typeIndex(imp.params, imp.results) } });
  }
  const importedFunctions = m.imports.length;
  spec.functions.forEach((f, index) => {
    m.functions.push(typeIndex(f.params, f.results));
    const bytes = encodeFunctionBody({ locals: f.locals ?? [], instrs: [...f.body, { op: 'end' }] });
    m.code.push({ bytes, offset: 0 });
    if (f.export) m.exports.push({ name: f.export, kind: ExternalKind.func, index: importedFunctions + index });
  });
  if (spec.memory) {
    m.memories.push(spec.memory);
    if (spec.memoryExport) m.exports.push({ name: spec.memoryExport, kind: ExternalKind.memory, index: 0 });
  }
  return m;
}

export function assemble(spec: ModuleSpec): Uint8Array {
  return encodeModule(buildModule(spec));
}
