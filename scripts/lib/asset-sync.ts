// Uploads a built site (dist/) into the asset canister with @dfinity/assets, sending only what
// changed: each file becomes an asset with its content type, its headers from .ic-assets.json5
// and, for text, a gzip encoding too; an asset whose type, headers and encodings (sha256) already
// match is left alone, and an asset that no longer exists in dist/ is deleted — all in a few
// atomic commits (a page and its gzip change together).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Actor, blsVerify, type HttpAgent } from '@dfinity/agent';
import { AssetManager } from '@dfinity/assets';
import type { Principal } from '@dfinity/principal';
import { idlFactory as assetsIdl, type _SERVICE as AssetsService } from '../../canisters/assets/assets.did.ts';
import { documentCsp, documentKind, parseJson5, resolveAssetConfig, siteFiles, validateRules, type AssetRule } from './asset-config.ts';

export interface PlannedEncoding {
  name: 'identity' | 'gzip';
  bytes: Uint8Array;
  sha256: Uint8Array;
}

export interface PlannedAsset {
  key: string;
  contentType: string;
  headers: [string, string][];
  encodings: PlannedEncoding[];
}

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  map: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  txt: 'text/plain',
  xml: 'application/xml',
  ics: 'text/calendar',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  webmanifest: 'application/manifest+json',
  md: 'text/markdown',
};
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|manifest\+json|wasm)|image\/svg\+xml)/;

export function contentTypeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  const type = CONTENT_TYPES[ext] ?? 'application/octet-stream';
  return type.startsWith('text/') || type === 'application/json' || type === 'image/svg+xml' ? `${type}; charset=utf-8` : type;
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

/** Reads .ic-assets.json5 from the site's directory (the build copies it from public/). */
export function loadAssetRules(siteDir: string): AssetRule[] {
  const path = join(siteDir, '.ic-assets.json5');
  if (!existsSync(path)) return [];
  return validateRules(parseJson5(readFileSync(path, 'utf8'), path), path);
}

/**
 * What the canister should hold for `siteDir`: one planned asset per file that is not ignored.
 * Each file's Content-Security-Policy allows exactly its own inline code (documentCsp), plus
 * `connectSources` (a local deploy's loopback origins).
 */
export function planAssets(siteDir: string, rules: AssetRule[] = loadAssetRules(siteDir), connectSources: string[] = []): PlannedAsset[] {
  const planned: PlannedAsset[] = [];
  for (const { file, path } of siteFiles(siteDir)) {
    const config = resolveAssetConfig(rules, path);
    if (config.ignore) continue;
    const bytes = new Uint8Array(readFileSync(file));
    const contentType = contentTypeOf(path);
    let headers = config.headers;
    const kind = documentKind(path);
    const markup = kind === 'other' ? '' : Buffer.from(bytes).toString('utf8');
    headers = headers.map(([name, value]) => [name, name === 'content-security-policy' ? documentCsp(value, markup, kind, connectSources) : value]);
    if (config.maxAge !== undefined && !headers.some(([n]) => n === 'cache-control')) headers = [...headers, ['cache-control', `max-age=${config.maxAge}`]];
    const encodings: PlannedEncoding[] = [{ name: 'identity', bytes, sha256: sha256(bytes) }];
    if (TEXT_TYPES.test(contentType) && bytes.length > 256) {
      const gz = new Uint8Array(gzipSync(bytes, { level: 9 }));
      // As dfx does: keep gzip only where it pays.
      if (gz.length < bytes.length * 0.9) encodings.push({ name: 'gzip', bytes: gz, sha256: sha256(gz) });
    }
    planned.push({ key: `/${path}`, contentType, headers, encodings });
  }
  return planned;
}

export interface SyncProgress {
  phase: 'compare' | 'upload' | 'done';
  bytesDone: number;
  bytesTotal: number;
  assetsDone: number;
  assetsTotal: number;
}

export interface SyncResult {
  uploaded: string[];
  unchanged: number;
  deleted: string[];
  bytesUploaded: number;
  ms: number;
  commits: number;
}

export interface SyncOptions {
  agent: HttpAgent;
  canisterId: Principal | string;
  siteDir: string;
  /** Added to every file's connect-src (a local deploy: LOOPBACK_CONNECT_SOURCES). */
  connectSources?: string[];
  onProgress?: (progress: SyncProgress) => void;
  /** Bytes of content per commit (the canister hashes what it commits within one message). */
  bytesPerCommit?: number;
  /** Operations per commit. */
  assetsPerCommit?: number;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * The agent's BLS check, remembering what it verified. Every update call's answer carries a
 * certificate the agent checks (~26 ms of pairing in JS, the bulk of an upload's time), and a
 * replica certifies the calls that finish together in one round, so concurrent create_chunk
 * answers carry the very same (key, signature, message): checking it once is enough.
 */
export function memoizedBlsVerify(): (pk: Uint8Array, sig: Uint8Array, msg: Uint8Array) => Promise<boolean> {
  const seen = new Map<string, Promise<boolean>>();
  return (pk, sig, msg) => {
    const key = `${hex(pk)}:${hex(sig)}:${hex(msg)}`;
    let result = seen.get(key);
    if (!result) {
      result = Promise.resolve().then(() => blsVerify(pk, sig, msg));
      seen.set(key, result);
    }
    return result;
  };
}

function sameHeaders(a: [string, string][], b: [string, string][]): boolean {
  const norm = (h: [string, string][]) => JSON.stringify([...h].map(([n, v]) => [n.toLowerCase(), v]).sort());
  return norm(a) === norm(b);
}

/** Brings the canister's assets in line with `siteDir`; returns what changed. */
export async function syncAssets(options: SyncOptions): Promise<SyncResult> {
  const started = Date.now();
  const planned = planAssets(options.siteDir, loadAssetRules(options.siteDir), options.connectSources);
  const verify = memoizedBlsVerify();
  const manager = new AssetManager({ agent: options.agent, canisterId: options.canisterId, concurrency: 16, blsVerify: verify });
  const canister = Actor.createActor<AssetsService>(assetsIdl, { agent: options.agent, canisterId: options.canisterId });
  // ~1.2B instructions per MB of SHA-256 in the canister: 4 MB keeps a commit near 6B of the 40B limit.
  const bytesPerCommit = options.bytesPerCommit ?? 4_000_000;
  const assetsPerCommit = options.assetsPerCommit ?? 400;

  // Our canister's list carries each asset's headers too (canisters/assets/main.mo), so one
  // query is enough to tell what changed.
  const existing = new Map((await canister.list({ start: [], length: [] })).map((a) => [a.key, a]));
  options.onProgress?.({ phase: 'compare', bytesDone: 0, bytesTotal: 0, assetsDone: 0, assetsTotal: planned.length });
  const changed: PlannedAsset[] = [];
  for (const asset of planned) {
    const current = existing.get(asset.key);
    if (!current || current.content_type !== asset.contentType) {
      changed.push(asset);
      continue;
    }
    const have = new Map(current.encodings.map((e) => [e.content_encoding, e.sha256[0] ? hex(e.sha256[0]) : '']));
    const want = new Map(asset.encodings.map((e) => [e.name, hex(e.sha256)]));
    const sameContent = have.size === want.size && [...want].every(([name, sha]) => have.get(name) === sha);
    if (!sameContent || !sameHeaders(current.headers[0] ?? [], asset.headers)) changed.push(asset);
  }
  changed.sort((a, b) => (a.key < b.key ? -1 : 1));
  const wanted = new Set(planned.map((a) => a.key));
  const deleted = [...existing.keys()].filter((key) => !wanted.has(key)).sort();

  // Group into commits by size; deletions ride along with the first commit.
  const groups: PlannedAsset[][] = [];
  let current: PlannedAsset[] = [];
  let currentBytes = 0;
  for (const asset of changed) {
    const size = asset.encodings.reduce((n, e) => n + e.bytes.length, 0);
    if (current.length > 0 && (currentBytes + size > bytesPerCommit || current.length >= assetsPerCommit)) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(asset);
    currentBytes += size;
  }
  if (current.length > 0 || deleted.length > 0) groups.push(current);

  const bytesTotal = changed.reduce((n, a) => n + a.encodings.reduce((m, e) => m + e.bytes.length, 0), 0);
  let bytesBefore = 0;
  let assetsDone = 0;
  for (const [index, group] of groups.entries()) {
    const batch = manager.batch();
    if (index === 0) for (const key of deleted) batch.delete(key);
    for (const asset of group) {
      const slash = asset.key.lastIndexOf('/');
      for (const encoding of asset.encodings) {
        await batch.store(encoding.bytes, {
          fileName: asset.key.slice(slash + 1),
          path: asset.key.slice(0, slash),
          contentType: asset.contentType,
          headers: asset.headers,
          contentEncoding: encoding.name,
          sha256: encoding.sha256,
        });
      }
    }
    const groupBytes = group.reduce((n, a) => n + a.encodings.reduce((m, e) => m + e.bytes.length, 0), 0);
    await batch.commit({
      onProgress: ({ current }) =>
        options.onProgress?.({ phase: 'upload', bytesDone: bytesBefore + Math.min(current, groupBytes), bytesTotal, assetsDone, assetsTotal: changed.length }),
    });
    bytesBefore += groupBytes;
    assetsDone += group.length;
    options.onProgress?.({ phase: 'upload', bytesDone: bytesBefore, bytesTotal, assetsDone, assetsTotal: changed.length });
  }
  options.onProgress?.({ phase: 'done', bytesDone: bytesTotal, bytesTotal, assetsDone: changed.length, assetsTotal: changed.length });
  return {
    uploaded: changed.map((a) => a.key),
    unchanged: planned.length - changed.length,
    deleted,
    bytesUploaded: bytesTotal,
    ms: Date.now() - started,
    commits: groups.length,
  };
}
