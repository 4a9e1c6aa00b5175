// A prepared module (module.ts prepareModule: the bytes after the passes and what the replica
// learned from them) as one file, so a site build can prepare modules ahead of time and a page
// replica can load them instead of running the passes (src/lib/ic/page-replica/). The file names
// the key it was prepared under (engine version, module hash, options): a reader refuses a file
// whose key differs from the one it looks for, so stale bytes are never used.
//
// Layout: "WGPM" magic, u32 (little-endian) length of a UTF-8 JSON header, the header, then the
// prepared Wasm bytes, then the custom sections' contents one after another (offsets in the header).
import type { PreparedModule } from './module.ts';
import type { ModuleInfo } from './wasm-module.ts';

const MAGIC = [0x57, 0x47, 0x50, 0x4d]; // "WGPM"
/** Changes whenever the layout below changes; part of every file's header. */
const FORMAT = 1;

interface Header {
  format: number;
  key: string;
  counterExport: string;
  dirtyTracking: boolean;
  wasmLength: number;
  info: Omit<ModuleInfo, 'functionNames' | 'customSections'> & {
    functionNames: Array<[number, string]>;
    customSections: Array<[string, number]>;
  };
}

/** The file for `module`, prepared under `key` (engine version and module cache key). */
export function encodePreparedModule(key: string, module: PreparedModule): Uint8Array {
  const sections = [...module.info.customSections];
  const header: Header = {
    format: FORMAT,
    key,
    counterExport: module.counterExport,
    dirtyTracking: module.dirtyTracking,
    wasmLength: module.bytes.length,
    info: {
      ...module.info,
      functionNames: [...module.info.functionNames],
      customSections: sections.map(([name, content]) => [name, content.length]),
    },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const total = 8 + json.length + module.bytes.length + sections.reduce((n, [, c]) => n + c.length, 0);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  let offset = 8 + json.length;
  out.set(module.bytes, offset);
  offset += module.bytes.length;
  for (const [, content] of sections) {
    out.set(content, offset);
    offset += content.length;
  }
  return out;
}

/** Reads a file of encodePreparedModule; throws unless it is well formed and prepared under `key`. */
export function decodePreparedModule(file: Uint8Array, key: string): PreparedModule {
  if (file.length < 8 || MAGIC.some((b, i) => file[i] !== b)) throw new Error('not a prepared module file (no WGPM header)');
  const length = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(4, true);
  if (8 + length > file.length) throw new Error('prepared module file truncated in its header');
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as Header;
  if (header.format !== FORMAT) throw new Error(`prepared module file of format ${header.format}, this engine reads ${FORMAT}`);
  if (header.key !== key) throw new Error(`prepared module file for ${JSON.stringify(header.key)}, not ${JSON.stringify(key)}`);
  let offset = 8 + length;
  const take = (n: number) => {
    if (offset + n > file.length) throw new Error('prepared module file truncated');
    const part = file.slice(offset, offset + n);
    offset += n;
    return part;
  };
  const bytes = take(header.wasmLength);
  const customSections = new Map<string, Uint8Array>();
  for (const [name, n] of header.info.customSections) customSections.set(name, take(n));
  if (offset !== file.length) throw new Error('prepared module file has trailing bytes');
  const info: ModuleInfo = { ...header.info, functionNames: new Map(header.info.functionNames), customSections };
  return { bytes, info, counterExport: header.counterExport, dirtyTracking: header.dirtyTracking };
}
