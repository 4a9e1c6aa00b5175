// A WebAssembly module as data, and the two directions between it and bytes
// (https://webassembly.github.io/spec/core/binary/modules.html).
//
// Function bodies stay as their original bytes until someone asks for their instructions
// (`decodeFunctionBody`), so reading a 3.5 MB module to rewrite a few sections costs little.
// Constant expressions (global initialisers, segment offsets) are kept as their raw bytes
// including the final `end`, which is how they are re-emitted.

import { ByteReader, ByteWriter, WasmDecodeError } from './binary.ts';

export const SectionId = {
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
  tag: 13,
} as const;

export const ExternalKind = { func: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;

export interface FuncType {
  params: number[];
  results: number[];
}

/** Limits of a memory or table. Flag bits: 0x01 has max, 0x02 shared, 0x04 64-bit addresses. */
export interface Limits {
  flags: number;
  min: number;
  max?: number;
}

export interface TableType {
  refType: number;
  limits: Limits;
}

export interface GlobalType {
  valType: number;
  mutable: boolean;
}

export type ImportDesc =
  | { kind: 0; typeIndex: number }
  | { kind: 1; table: TableType }
  | { kind: 2; memory: Limits }
  | { kind: 3; global: GlobalType }
  | { kind: 4; tag: { attribute: number; typeIndex: number } };

export interface Import {
  module: string;
  name: string;
  desc: ImportDesc;
}

export interface Global {
  type: GlobalType;
  /** Constant expression bytes including the terminating `end` (0x0b). */
  init: Uint8Array;
}

export interface Export {
  name: string;
  kind: number;
  index: number;
}

/**
 * An element segment in its original flavour (flags 0..7 of the spec's binary format) so it
 * re-encodes to the same bytes.
 */
export interface ElementSegment {
  flags: number;
  tableIndex: number;
  /** Offset expression (active segments), with its `end`. */
  offset?: Uint8Array;
  /** elemkind byte (flags 1..3) or reference type (flags 5..7); absent where implied. */
  kindOrType?: number;
  /** Function indices (flags 0..3) ... */
  funcIndices?: number[];
  /** ... or initialiser expressions (flags 4..7), each with its `end`. */
  exprs?: Uint8Array[];
}

export interface DataSegment {
  flags: number; // 0 active memory 0, 1 passive, 2 active with memory index
  memoryIndex: number;
  offset?: Uint8Array;
  bytes: Uint8Array;
}

export interface FunctionBody {
  /** The body as in the code section: locals then the expression, without the size prefix. */
  bytes: Uint8Array;
  /** Offset of `bytes[0]` in the original module (for error messages). */
  offset: number;
  /**
   * Bytes the original size prefix took. Some toolchains (Motoko's) pad sizes to 5-byte LEB128
   * so they can patch them in place; keeping the width makes a round trip byte-exact.
   */
  sizeWidth?: number;
}

export interface CustomSection {
  name: string;
  payload: Uint8Array;
}

/**
 * The module's sections in their original order. A section that is absent is undefined; custom
 * sections keep their position through `order`.
 */
export interface WasmModule {
  version: number;
  types: FuncType[];
  imports: Import[];
  functions: number[]; // type index per defined function
  tables: TableType[];
  memories: Limits[];
  globals: Global[];
  exports: Export[];
  start?: number;
  elements: ElementSegment[];
  dataCount?: number;
  code: FunctionBody[];
  data: DataSegment[];
  customs: CustomSection[];
  /** Section ids in file order; custom sections appear as `custom:<index into customs>`. */
  order: string[];
  /** Sections whose contents we keep verbatim because we do not model them (e.g. tags). */
  rawSections: Map<string, Uint8Array>;
  /** Width of each section's original size prefix, by `order` entry (padded LEB128, see above). */
  sizeWidths: Map<string, number>;
}

export function emptyModule(): WasmModule {
  return {
    version: 1,
    types: [],
    imports: [],
    functions: [],
    tables: [],
    memories: [],
    globals: [],
    exports: [],
    elements: [],
    code: [],
    data: [],
    customs: [],
    order: [],
    rawSections: new Map(),
    sizeWidths: new Map(),
  };
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

function readLimits(r: ByteReader): Limits {
  const flags = r.u8();
  if (flags & ~0x07) r.fail(`unsupported limits flags 0x${flags.toString(16)}`);
  const is64 = (flags & 0x04) !== 0;
  const min = is64 ? r.u64() : r.u32();
  const limits: Limits = { flags, min };
  if (flags & 0x01) limits.max = is64 ? r.u64() : r.u32();
  return limits;
}

function writeLimits(w: ByteWriter, limits: Limits): void {
  w.u8(limits.flags);
  const is64 = (limits.flags & 0x04) !== 0;
  if (is64) w.u64(limits.min);
  else w.u32(limits.min);
  if (limits.flags & 0x01) {
    if (limits.max === undefined) throw new Error('limits flag says max but none is given');
    if (is64) w.u64(limits.max);
    else w.u32(limits.max);
  }
}

function readTableType(r: ByteReader): TableType {
  const refType = r.u8();
  return { refType, limits: readLimits(r) };
}

/**
 * Reads a constant expression up to and including its `end`, returning the raw bytes. Constant
 * expressions are short and use only a handful of opcodes (including the extended-const ones).
 */
export function readConstExpr(r: ByteReader): Uint8Array {
  const start = r.pos;
  for (;;) {
    const op = r.u8();
    switch (op) {
      case 0x0b:
        return r.bytes.subarray(start, r.pos);
      case 0x41:
        r.s32();
        break; // i32.const
      case 0x42:
        r.skipLeb();
        break; // i64.const
      case 0x43:
        r.take(4);
        break; // f32.const
      case 0x44:
        r.take(8);
        break; // f64.const
      case 0x23:
        r.u32();
        break; // global.get
      case 0xd0:
        r.s33();
        break; // ref.null
      case 0xd2:
        r.u32();
        break; // ref.func
      case 0x6a:
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break; // extended-const
      case 0xfd: {
        const sub = r.u32();
        if (sub !== 0x0c) r.fail(`SIMD opcode ${sub} in a constant expression`);
        r.take(16);
        break;
      }
      default:
        r.fail(`opcode 0x${op.toString(16)} is not allowed in a constant expression`);
    }
  }
}

/** Parses a module's sections. Function bodies are not decoded (see `decodeFunctionBody`). */
export function parseModule(bytes: Uint8Array): WasmModule {
  const r = new ByteReader(bytes);
  if (bytes.length < 4 || MAGIC.some((b, k) => bytes[k] !== b)) r.fail('not a WebAssembly module (bad magic number)');
  r.pos = 4;
  const version = r.u8() | (r.u8() << 8) | (r.u8() << 16) | (r.u8() << 24);
  if (version !== 1) r.fail(`unsupported WebAssembly binary version ${version}`);
  const m = emptyModule();
  m.version = version;
  let functionCount = -1;
  while (!r.done) {
    const id = r.u8();
    const sizeAt = r.pos;
    const size = r.u32();
    const sizeWidth = r.pos - sizeAt;
    const start = r.pos;
    const end = start + size;
    if (end > r.end) r.fail(`section ${id} runs past the end of the module`);
    const s = new ByteReader(bytes, start, end);
    switch (id) {
      case SectionId.custom: {
        const name = s.name();
        m.customs.push({ name, payload: bytes.subarray(s.pos, end) });
        m.order.push(`custom:${m.customs.length - 1}`);
        s.pos = end;
        break;
      }
      case SectionId.type: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const form = s.u8();
          if (form !== 0x60) s.fail(`type ${i}: only function types are supported (form 0x${form.toString(16)})`);
          const params = Array.from(s.take(s.u32()));
          const results = Array.from(s.take(s.u32()));
          m.types.push({ params, results });
        }
        break;
      }
      case SectionId.import: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const module = s.name();
          const name = s.name();
          const kind = s.u8();
          let desc: ImportDesc;
          if (kind === 0) desc = { kind: 0, typeIndex: s.u32() };
          else if (kind === 1) desc = { kind: 1, table: readTableType(s) };
          else if (kind === 2) desc = { kind: 2, memory: readLimits(s) };
          else if (kind === 3) desc = { kind: 3, global: { valType: s.u8(), mutable: s.u8() === 1 } };
          else if (kind === 4) desc = { kind: 4, tag: { attribute: s.u8(), typeIndex: s.u32() } };
          else throw s.fail(`import ${module}.${name}: unknown kind ${kind}`);
          m.imports.push({ module, name, desc });
        }
        break;
      }
      case SectionId.function: {
        const n = s.u32();
        for (let i = 0; i < n; i++) m.functions.push(s.u32());
        functionCount = n;
        break;
      }
      case SectionId.table: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          if (s.bytes[s.pos] === 0x40) s.fail('tables with initialiser expressions are not supported');
          m.tables.push(readTableType(s));
        }
        break;
      }
      case SectionId.memory: {
        const n = s.u32();
        for (let i = 0; i < n; i++) m.memories.push(readLimits(s));
        break;
      }
      case SectionId.global: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const valType = s.u8();
          const mutable = s.u8() === 1;
          m.globals.push({ type: { valType, mutable }, init: readConstExpr(s) });
        }
        break;
      }
      case SectionId.export: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const name = s.name();
          const kind = s.u8();
          m.exports.push({ name, kind, index: s.u32() });
        }
        break;
      }
      case SectionId.start:
        m.start = s.u32();
        break;
      case SectionId.element: {
        const n = s.u32();
        for (let i = 0; i < n; i++) m.elements.push(readElementSegment(s));
        break;
      }
      case SectionId.code: {
        const n = s.u32();
        if (functionCount >= 0 && n !== functionCount) {
          s.fail(`code section has ${n} bodies but the function section declares ${functionCount}`);
        }
        for (let i = 0; i < n; i++) {
          const sizeAt = s.pos;
          const bodySize = s.u32();
          const bodyStart = s.pos;
          const body: FunctionBody = { bytes: s.take(bodySize), offset: bodyStart };
          if (bodyStart - sizeAt > 1) body.sizeWidth = bodyStart - sizeAt;
          m.code.push(body);
        }
        break;
      }
      case SectionId.data: {
        const n = s.u32();
        for (let i = 0; i < n; i++) {
          const flags = s.u32();
          if (flags === 0) {
            const offset = readConstExpr(s);
            m.data.push({ flags, memoryIndex: 0, offset, bytes: s.take(s.u32()) });
          } else if (flags === 1) {
            m.data.push({ flags, memoryIndex: 0, bytes: s.take(s.u32()) });
          } else if (flags === 2) {
            const memoryIndex = s.u32();
            const offset = readConstExpr(s);
            m.data.push({ flags, memoryIndex, offset, bytes: s.take(s.u32()) });
          } else s.fail(`data segment ${i}: unknown flags ${flags}`);
        }
        break;
      }
      case SectionId.dataCount:
        m.dataCount = s.u32();
        break;
      default:
        // Sections we do not model (tags) are carried through unchanged.
        m.rawSections.set(`raw:${id}`, bytes.subarray(start, end));
        m.order.push(`raw:${id}`);
        s.pos = end;
        break;
    }
    if (id in SECTION_NAMES) m.order.push(SECTION_NAMES[id]);
    if (sizeWidth > 1) m.sizeWidths.set(m.order[m.order.length - 1], sizeWidth);
    if (s.pos !== end) {
      throw new WasmDecodeError(`section ${id} has ${end - s.pos} unexpected trailing bytes`, s.pos);
    }
    r.pos = end;
  }
  if (functionCount > 0 && m.code.length === 0) r.fail('function section without a code section');
  return m;
}

const SECTION_NAMES: Record<number, string> = {
  1: 'type',
  2: 'import',
  3: 'function',
  4: 'table',
  5: 'memory',
  6: 'global',
  7: 'export',
  8: 'start',
  9: 'element',
  10: 'code',
  11: 'data',
  12: 'dataCount',
};

function readElementSegment(s: ByteReader): ElementSegment {
  const flags = s.u32();
  if (flags > 7) s.fail(`element segment flags ${flags} unknown`);
  const seg: ElementSegment = { flags, tableIndex: 0 };
  const passiveOrDeclarative = (flags & 0x01) !== 0;
  const explicitTable = (flags & 0x02) !== 0;
  const usesExprs = (flags & 0x04) !== 0;
  if (!passiveOrDeclarative) {
    if (explicitTable) seg.tableIndex = s.u32();
    seg.offset = readConstExpr(s);
  }
  // Flags 0 and 4 imply funcref and carry no kind/type byte.
  if (flags !== 0 && flags !== 4) seg.kindOrType = s.u8();
  const n = s.u32();
  if (usesExprs) {
    seg.exprs = [];
    for (let i = 0; i < n; i++) seg.exprs.push(readConstExpr(s));
  } else {
    seg.funcIndices = [];
    for (let i = 0; i < n; i++) seg.funcIndices.push(s.u32());
  }
  return seg;
}

function writeElementSegment(w: ByteWriter, seg: ElementSegment): void {
  w.u32(seg.flags);
  const passiveOrDeclarative = (seg.flags & 0x01) !== 0;
  if (!passiveOrDeclarative) {
    if (seg.flags & 0x02) w.u32(seg.tableIndex);
    w.bytes(seg.offset!);
  }
  if (seg.flags !== 0 && seg.flags !== 4) w.u8(seg.kindOrType ?? 0);
  if (seg.flags & 0x04) {
    w.u32(seg.exprs!.length);
    for (const e of seg.exprs!) w.bytes(e);
  } else {
    w.u32(seg.funcIndices!.length);
    for (const f of seg.funcIndices!) w.u32(f);
  }
}

/** Encodes the contents (without id and size) of one non-custom section. */
export function encodeSectionContent(m: WasmModule, name: string): Uint8Array {
  const w = new ByteWriter(256);
  switch (name) {
    case 'type':
      w.u32(m.types.length);
      for (const t of m.types) {
        w.u8(0x60);
        w.u32(t.params.length);
        for (const p of t.params) w.u8(p);
        w.u32(t.results.length);
        for (const p of t.results) w.u8(p);
      }
      break;
    case 'import':
      w.u32(m.imports.length);
      for (const imp of m.imports) {
        w.name(imp.module);
        w.name(imp.name);
        w.u8(imp.desc.kind);
        const d = imp.desc;
        if (d.kind === 0) w.u32(d.typeIndex);
        else if (d.kind === 1) {
          w.u8(d.table.refType);
          writeLimits(w, d.table.limits);
        } else if (d.kind === 2) writeLimits(w, d.memory);
        else if (d.kind === 3) {
          w.u8(d.global.valType);
          w.u8(d.global.mutable ? 1 : 0);
        } else {
          w.u8(d.tag.attribute);
          w.u32(d.tag.typeIndex);
        }
      }
      break;
    case 'function':
      w.u32(m.functions.length);
      for (const f of m.functions) w.u32(f);
      break;
    case 'table':
      w.u32(m.tables.length);
      for (const t of m.tables) {
        w.u8(t.refType);
        writeLimits(w, t.limits);
      }
      break;
    case 'memory':
      w.u32(m.memories.length);
      for (const l of m.memories) writeLimits(w, l);
      break;
    case 'global':
      w.u32(m.globals.length);
      for (const g of m.globals) {
        w.u8(g.type.valType);
        w.u8(g.type.mutable ? 1 : 0);
        w.bytes(g.init);
      }
      break;
    case 'export':
      w.u32(m.exports.length);
      for (const e of m.exports) {
        w.name(e.name);
        w.u8(e.kind);
        w.u32(e.index);
      }
      break;
    case 'start':
      w.u32(m.start!);
      break;
    case 'element':
      w.u32(m.elements.length);
      for (const seg of m.elements) writeElementSegment(w, seg);
      break;
    case 'dataCount':
      w.u32(m.dataCount!);
      break;
    case 'code': {
      let total = 5;
      for (const b of m.code) total += b.bytes.length + 5;
      w.ensure(total);
      w.u32(m.code.length);
      for (const b of m.code) {
        writeSize(w, b.bytes.length, b.sizeWidth);
        w.bytes(b.bytes);
      }
      break;
    }
    case 'data':
      w.u32(m.data.length);
      for (const d of m.data) {
        w.u32(d.flags);
        if (d.flags === 2) w.u32(d.memoryIndex);
        if (d.flags !== 1) w.bytes(d.offset!);
        w.sized(d.bytes);
      }
      break;
    default:
      throw new Error(`unknown section ${name}`);
  }
  return w.view();
}

/** The canonical order of non-custom sections (data count sits between element and code). */
const CANONICAL_ORDER = ['type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'dataCount', 'code', 'data'];

/**
 * Encodes a module. Sections appear in `m.order`; a section that has content but is missing
 * from `order` (e.g. a global section added to a module that had none) is placed where the
 * spec's order puts it.
 */
export function encodeModule(m: WasmModule): Uint8Array {
  const order = completeOrder(m);
  const w = new ByteWriter(1 << 16);
  w.bytes(new Uint8Array([...MAGIC, m.version & 0xff, (m.version >> 8) & 0xff, (m.version >> 16) & 0xff, m.version >>> 24]));
  for (const entry of order) {
    if (entry.startsWith('custom:')) {
      const c = m.customs[Number(entry.slice(7))];
      const head = new ByteWriter(64);
      head.name(c.name);
      w.u8(0);
      writeSize(w, head.len + c.payload.length, m.sizeWidths.get(entry));
      w.bytes(head.view());
      w.bytes(c.payload);
    } else if (entry.startsWith('raw:')) {
      const content = m.rawSections.get(entry)!;
      w.u8(Number(entry.slice(4)));
      writeSize(w, content.length, m.sizeWidths.get(entry));
      w.bytes(content);
    } else {
      const content = encodeSectionContent(m, entry);
      w.u8(SectionId[entry as keyof typeof SectionId]);
      writeSize(w, content.length, m.sizeWidths.get(entry));
      w.bytes(content);
    }
  }
  return w.finish();
}

/** A size prefix, padded to the original width when it still fits (else minimal). */
function writeSize(w: ByteWriter, size: number, width: number | undefined): void {
  if (width !== undefined && width > 1 && size < 2 ** (7 * width)) w.u32Padded(size, width);
  else w.u32(size);
}

function hasContent(m: WasmModule, name: string): boolean {
  switch (name) {
    case 'type':
      return m.types.length > 0;
    case 'import':
      return m.imports.length > 0;
    case 'function':
      return m.functions.length > 0;
    case 'table':
      return m.tables.length > 0;
    case 'memory':
      return m.memories.length > 0;
    case 'global':
      return m.globals.length > 0;
    case 'export':
      return m.exports.length > 0;
    case 'start':
      return m.start !== undefined;
    case 'element':
      return m.elements.length > 0;
    case 'dataCount':
      return m.dataCount !== undefined;
    case 'code':
      return m.functions.length > 0;
    case 'data':
      return m.data.length > 0;
    default:
      return false;
  }
}

function completeOrder(m: WasmModule): string[] {
  // Sections keep their original place (even when empty, so a round trip is byte-exact), except
  // those that cannot be encoded without content (a removed start function).
  const order = m.order.filter((e) => !((e === 'start' || e === 'dataCount') && !hasContent(m, e)));
  for (const name of CANONICAL_ORDER) {
    if (order.includes(name) || !hasContent(m, name)) continue;
    // Insert before the first present section that comes later in the canonical order.
    const later = CANONICAL_ORDER.slice(CANONICAL_ORDER.indexOf(name) + 1);
    const at = order.findIndex((e) => later.includes(e));
    if (at < 0) {
      // After the last non-custom section, so trailing custom sections (names) stay last.
      let lastKnown = -1;
      order.forEach((e, i) => {
        if (!e.startsWith('custom:')) lastKnown = i;
      });
      order.splice(lastKnown + 1, 0, name);
    } else order.splice(at, 0, name);
  }
  return order;
}

/** Counts of imported entities, which precede the defined ones in each index space. */
export function importCounts(m: WasmModule): { funcs: number; tables: number; memories: number; globals: number } {
  let funcs = 0,
    tables = 0,
    memories = 0,
    globals = 0;
  for (const imp of m.imports) {
    if (imp.desc.kind === 0) funcs++;
    else if (imp.desc.kind === 1) tables++;
    else if (imp.desc.kind === 2) memories++;
    else if (imp.desc.kind === 3) globals++;
  }
  return { funcs, tables, memories, globals };
}

/** Limits of every memory in index order (imported first), to tell 32-bit from 64-bit ones. */
export function memoryLimits(m: WasmModule): Limits[] {
  const out: Limits[] = [];
  for (const imp of m.imports) if (imp.desc.kind === 2) out.push(imp.desc.memory);
  return out.concat(m.memories);
}

export function tableTypes(m: WasmModule): TableType[] {
  const out: TableType[] = [];
  for (const imp of m.imports) if (imp.desc.kind === 1) out.push(imp.desc.table);
  return out.concat(m.tables);
}

/** Function type of every function in index order (imported first). */
export function functionTypeIndices(m: WasmModule): number[] {
  const out: number[] = [];
  for (const imp of m.imports) if (imp.desc.kind === 0) out.push(imp.desc.typeIndex);
  return out.concat(m.functions);
}

const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/**
 * The Wasm modules a module carries in its data segments, each a whole segment that begins with
 * the Wasm header: how Motoko embeds an imported actor class's module, which the canister then
 * installs in the canisters it creates.
 */
export function embeddedModules(bytes: Uint8Array): Uint8Array[] {
  return parseModule(bytes)
    .data.map((segment) => segment.bytes)
    .filter((b) => b.length > WASM_HEADER.length && WASM_HEADER.every((x, i) => b[i] === x));
}
