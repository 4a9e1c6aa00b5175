// Export handling over the decoded module (../wasm/module.ts): what the replica needs to know
// about a canister module that V8's JS API does not tell (the name section, to name the function
// a trap happened in; the memory's index type, since wasm32 vs wasm64 decides the ic0 pointer
// types; the exports by kind), and the pass that gives the host access to state the module keeps
// private (mutable globals for rollback, the table for callbacks, the start function so enhanced
// orthogonal persistence can run it after retained memory is restored). The pass keeps every
// function, global, table and memory index unchanged: it only removes the start section and
// appends exports.
import { ByteReader } from '../wasm/binary.ts';
import { ExternalKind, importCounts, memoryLimits, tableTypes, type WasmModule } from '../wasm/module.ts';

export interface GlobalInfo {
  index: number;
  valueType: 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'ref';
  mutable: boolean;
  exportName?: string;
}

export interface ModuleInfo {
  /** 64-bit memory (Motoko's enhanced orthogonal persistence, memory64 proposal). */
  memory64: boolean;
  hasMemory: boolean;
  memoryExport?: string;
  tableExport?: string;
  hasTable: boolean;
  table64: boolean;
  startFunction?: number;
  globals: GlobalInfo[];
  importedFunctionCount: number;
  functionNames: Map<number, string>;
  exports: { name: string; kind: number; index: number }[];
  customSections: Map<string, Uint8Array>;
}

function valueTypeName(b: number): GlobalInfo['valueType'] {
  switch (b) {
    case 0x7f:
      return 'i32';
    case 0x7e:
      return 'i64';
    case 0x7d:
      return 'f32';
    case 0x7c:
      return 'f64';
    case 0x7b:
      return 'v128';
    default:
      return 'ref';
  }
}

/** What the replica needs to know about a decoded module (read, never changed). */
export function moduleInfo(m: WasmModule): ModuleInfo {
  const memories = memoryLimits(m);
  const tables = tableTypes(m);
  const info: ModuleInfo = {
    memory64: memories.length > 0 && (memories[0].flags & 0x04) !== 0,
    hasMemory: memories.length > 0,
    hasTable: tables.length > 0,
    table64: tables.length > 0 && (tables[0].limits.flags & 0x04) !== 0,
    startFunction: m.start,
    globals: [],
    importedFunctionCount: importCounts(m).funcs,
    functionNames: new Map(),
    exports: m.exports.map((e) => ({ name: e.name, kind: e.kind, index: e.index })),
    customSections: new Map(),
  };
  for (const imp of m.imports) {
    if (imp.desc.kind === ExternalKind.global) {
      info.globals.push({ index: info.globals.length, valueType: valueTypeName(imp.desc.global.valType), mutable: imp.desc.global.mutable });
    }
  }
  for (const g of m.globals) info.globals.push({ index: info.globals.length, valueType: valueTypeName(g.type.valType), mutable: g.type.mutable });
  for (const e of info.exports) {
    if (e.kind === ExternalKind.memory && e.index === 0) info.memoryExport ??= e.name;
    if (e.kind === ExternalKind.table && e.index === 0) info.tableExport ??= e.name;
    if (e.kind === ExternalKind.global) {
      const g = info.globals[e.index];
      if (g) g.exportName ??= e.name;
    }
  }
  for (const c of m.customs) {
    info.customSections.set(c.name, c.payload);
    if (c.name === 'name') readFunctionNames(c.payload, info.functionNames);
  }
  return info;
}

function readFunctionNames(content: Uint8Array, out: Map<number, string>): void {
  // The name section is advisory (the IC ignores a malformed one too): it must not make a module unusable.
  try {
    const r = new ByteReader(content);
    while (!r.done) {
      const id = r.u8();
      const size = r.u32();
      const end = r.pos + size;
      if (id === 1) {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const index = r.u32();
          out.set(index, r.name());
        }
      }
      r.pos = end;
    }
  } catch {
    /* keep what was read */
  }
}

/** Names under which the replica reaches a module's private state after `exposeInternals`. */
export const INTERNAL_EXPORT = {
  start: '__replica_start',
  memory: '__replica_memory',
  table: '__replica_table',
  global: (index: number) => `__replica_global_${index}`,
} as const;

/**
 * The export pass: removes the start function from the module and exports it, the memory, the
 * table and every mutable global (of a numeric type) under the names above. Indices are
 * unchanged, so the name section, table-index callbacks and existing exports still match.
 * `info` is the module's `moduleInfo` before the pass.
 */
export function exposeInternals(m: WasmModule, info: ModuleInfo): void {
  if (info.startFunction !== undefined) m.exports.push({ name: INTERNAL_EXPORT.start, kind: ExternalKind.func, index: info.startFunction });
  if (info.hasMemory) m.exports.push({ name: INTERNAL_EXPORT.memory, kind: ExternalKind.memory, index: 0 });
  if (info.hasTable) m.exports.push({ name: INTERNAL_EXPORT.table, kind: ExternalKind.table, index: 0 });
  for (const g of info.globals) {
    if (g.mutable && g.valueType !== 'v128' && g.valueType !== 'ref')
      m.exports.push({ name: INTERNAL_EXPORT.global(g.index), kind: ExternalKind.global, index: g.index });
  }
  m.start = undefined;
}

/** The IC reads canister metadata from custom sections named `icp:public <name>` / `icp:private <name>`. */
export function canisterMetadata(info: ModuleInfo, name: string): { value: Uint8Array; visibility: 'public' | 'private' } | undefined {
  for (const visibility of ['public', 'private'] as const) {
    const v = info.customSections.get(`icp:${visibility} ${name}`);
    if (v) return { value: v, visibility };
  }
  return undefined;
}

/** Canister methods by kind, from the export names the spec defines (canister_update <name> …). */
export function exportedMethods(info: ModuleInfo): { updates: Set<string>; queries: Set<string>; compositeQueries: Set<string>; system: Set<string> } {
  const updates = new Set<string>();
  const queries = new Set<string>();
  const compositeQueries = new Set<string>();
  const system = new Set<string>();
  for (const e of info.exports) {
    if (e.kind !== ExternalKind.func) continue;
    if (e.name.startsWith('canister_update ')) updates.add(e.name.slice(16));
    else if (e.name.startsWith('canister_query ')) queries.add(e.name.slice(15));
    else if (e.name.startsWith('canister_composite_query ')) compositeQueries.add(e.name.slice(25));
    else if (e.name.startsWith('canister_')) system.add(e.name);
  }
  return { updates, queries, compositeQueries, system };
}
