// Reading and minimally rewriting canister Wasm (WebAssembly binary format, core spec ch. 5).
// The replica needs three things V8's JS API does not give: the name section (to name the
// function a trap happened in), the memory's index type (wasm32 vs wasm64 decides the ic0
// pointer types), and access to state the module keeps private (mutable globals for rollback,
// the table for callbacks, the start function so enhanced orthogonal persistence can run it
// after retained memory is restored). The rewrite keeps every function, global, table and
// memory index unchanged: it only removes the start section and appends exports.

export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmFormatError';
  }
}

const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
} as const;
const EXTERN = { func: 0, table: 1, memory: 2, global: 3 } as const;

interface Section {
  id: number;
  start: number; // offset of the section's content
  end: number;
}

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

class Reader {
  bytes: Uint8Array;
  pos: number;
  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new WasmFormatError(`unexpected end of module at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new WasmFormatError('LEB128 integer too long');
    }
  }
  skipLeb(): void {
    while (this.byte() & 0x80) {
      /* continuation bytes */
    }
  }
  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  limits(): { is64: boolean } {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
    if (flags & 8) this.u32(); // custom page size proposal
    return { is64: (flags & 4) !== 0 };
  }
  /** Skips a constant expression up to and including its `end` (0x0b). */
  constExpr(): void {
    for (;;) {
      const op = this.byte();
      switch (op) {
        case 0x0b:
          return;
        case 0x41:
        case 0x42:
        case 0x23:
        case 0xd2:
          this.skipLeb();
          break;
        case 0x43:
          this.pos += 4;
          break;
        case 0x44:
          this.pos += 8;
          break;
        case 0xd0:
          this.byte();
          break;
        case 0xfd:
          this.u32();
          this.pos += 16;
          break; // v128.const
        case 0x6a:
        case 0x6b:
        case 0x6c:
        case 0x7c:
        case 0x7d:
        case 0x7e:
          break; // extended-const
        default:
          throw new WasmFormatError(`unsupported opcode 0x${op.toString(16)} in a constant expression`);
      }
    }
  }
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

function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError('not a Wasm module (missing the \\0asm magic number)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError('unsupported Wasm binary version (expected 1)');
  }
  const r = new Reader(bytes, 8);
  const sections: Section[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    if (start + size > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the module`);
    sections.push({ id, start, end: start + size });
    r.pos = start + size;
  }
  return sections;
}

/** Parses what the replica needs to know about a module. Throws WasmFormatError on malformed input. */
export function parseModule(bytes: Uint8Array): ModuleInfo {
  const info: ModuleInfo = {
    memory64: false,
    hasMemory: false,
    hasTable: false,
    table64: false,
    globals: [],
    importedFunctionCount: 0,
    functionNames: new Map(),
    exports: [],
    customSections: new Map(),
  };
  let importedGlobals = 0;
  for (const s of readSections(bytes)) {
    const r = new Reader(bytes, s.start);
    switch (s.id) {
      case SECTION.import: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          r.name();
          r.name();
          const kind = r.byte();
          if (kind === EXTERN.func) {
            r.u32();
            info.importedFunctionCount++;
          } else if (kind === EXTERN.table) {
            r.byte();
            const l = r.limits();
            info.hasTable = true;
            info.table64 = l.is64;
          } else if (kind === EXTERN.memory) {
            const l = r.limits();
            info.hasMemory = true;
            info.memory64 = l.is64;
          } else if (kind === EXTERN.global) {
            const t = valueTypeName(r.byte());
            const mutable = r.byte() === 1;
            info.globals.push({ index: importedGlobals++, valueType: t, mutable });
          } else throw new WasmFormatError(`unknown import kind ${kind}`);
        }
        break;
      }
      case SECTION.table: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          r.byte();
          const l = r.limits();
          if (!info.hasTable) {
            info.hasTable = true;
            info.table64 = l.is64;
          }
        }
        break;
      }
      case SECTION.memory: {
        const n = r.u32();
        if (n > 0) {
          const l = r.limits();
          info.hasMemory = true;
          info.memory64 = l.is64;
        }
        break;
      }
      case SECTION.global: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const t = valueTypeName(r.byte());
          const mutable = r.byte() === 1;
          r.constExpr();
          info.globals.push({ index: importedGlobals + i, valueType: t, mutable });
        }
        break;
      }
      case SECTION.export: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const name = r.name();
          const kind = r.byte();
          const index = r.u32();
          info.exports.push({ name, kind, index });
          if (kind === EXTERN.memory && index === 0) info.memoryExport ??= name;
          if (kind === EXTERN.table && index === 0) info.tableExport ??= name;
          if (kind === EXTERN.global) {
            const g = info.globals.find((x) => x.index === index);
            if (g) g.exportName ??= name;
          }
        }
        break;
      }
      case SECTION.start:
        info.startFunction = r.u32();
        break;
      case SECTION.custom: {
        const name = r.name();
        info.customSections.set(name, bytes.subarray(r.pos, s.end));
        if (name === 'name') readFunctionNames(bytes.subarray(r.pos, s.end), info.functionNames);
        break;
      }
    }
  }
  return info;
}

function readFunctionNames(content: Uint8Array, out: Map<number, string>): void {
  // The name section is advisory: a malformed one must not make a module unusable.
  try {
    const r = new Reader(content);
    while (r.pos < content.length) {
      const id = r.byte();
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

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function encodeName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...uleb(b.length), ...b];
}

/** Names under which the replica reaches a module's private state after `exposeInternals`. */
export const INTERNAL_EXPORT = {
  start: '__replica_start',
  memory: '__replica_memory',
  table: '__replica_table',
  global: (index: number) => `__replica_global_${index}`,
} as const;

/**
 * Returns a copy of the module with the start section removed and exports added for the start
 * function, the memory, the table and every mutable global that is not exported yet. Indices
 * are unchanged, so the name section, table-index callbacks and existing exports still match.
 */
export function exposeInternals(bytes: Uint8Array, info: ModuleInfo): Uint8Array {
  const sections = readSections(bytes);
  const extra: number[][] = [];
  if (info.startFunction !== undefined) extra.push([...encodeName(INTERNAL_EXPORT.start), EXTERN.func, ...uleb(info.startFunction)]);
  if (info.hasMemory) extra.push([...encodeName(INTERNAL_EXPORT.memory), EXTERN.memory, 0]);
  if (info.hasTable) extra.push([...encodeName(INTERNAL_EXPORT.table), EXTERN.table, 0]);
  for (const g of info.globals) {
    if (g.mutable && g.valueType !== 'v128' && g.valueType !== 'ref') {
      extra.push([...encodeName(INTERNAL_EXPORT.global(g.index)), EXTERN.global, ...uleb(g.index)]);
    }
  }
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let exportWritten = false;
  const writeExportSection = (existing?: Section) => {
    let count = 0;
    let body: Uint8Array = new Uint8Array(0);
    if (existing) {
      const r = new Reader(bytes, existing.start);
      count = r.u32();
      body = bytes.subarray(r.pos, existing.end);
    }
    const added = extra.flat();
    const content = [...uleb(count + extra.length)];
    const size = content.length + body.length + added.length;
    parts.push(new Uint8Array([SECTION.export, ...uleb(size), ...content]), body, new Uint8Array(added));
    exportWritten = true;
  };
  // Section order for non-custom sections is fixed by the spec; a missing export section goes
  // right before the first section that must follow it.
  const order = (id: number) => [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11].indexOf(id);
  for (const s of sections) {
    if (!exportWritten && s.id !== SECTION.custom && s.id !== SECTION.export && order(s.id) > order(SECTION.export)) writeExportSection();
    if (s.id === SECTION.export) {
      writeExportSection(s);
      continue;
    }
    if (s.id === SECTION.start) continue;
    // header: id byte + LEB size precede s.start; recover it by re-encoding.
    parts.push(new Uint8Array([s.id, ...uleb(s.end - s.start)]), bytes.subarray(s.start, s.end));
  }
  if (!exportWritten) writeExportSection();
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
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
    if (e.kind !== EXTERN.func) continue;
    if (e.name.startsWith('canister_update ')) updates.add(e.name.slice(16));
    else if (e.name.startsWith('canister_query ')) queries.add(e.name.slice(15));
    else if (e.name.startsWith('canister_composite_query ')) compositeQueries.add(e.name.slice(25));
    else if (e.name.startsWith('canister_')) system.add(e.name);
  }
  return { updates, queries, compositeQueries, system };
}
