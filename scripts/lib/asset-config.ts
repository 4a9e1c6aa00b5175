// `.ic-assets.json5` as dfx and icp-cli read it (dfx docs, "Asset configuration"): an array of
// rules `{ match, headers, cache: { max_age }, ignore, security_policy, allow_raw_access,
// enable_aliasing, encodings }`, applied in order, later matches overriding earlier ones key by
// key. This module resolves the rules for each file of dist/ and adds what dfx cannot: the
// sha256 of every inline script of a page to that page's Content-Security-Policy.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

export interface AssetRule {
  match: string;
  headers?: Record<string, string | null>;
  cache?: { max_age?: number };
  ignore?: boolean;
  security_policy?: 'disabled' | 'standard' | 'hardened';
  allow_raw_access?: boolean;
  enable_aliasing?: boolean;
  encodings?: string[];
}

export interface ResolvedAssetConfig {
  ignore: boolean;
  /** Lower-case names, in a stable order. */
  headers: [string, string][];
  maxAge?: number;
}

export class AssetConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssetConfigError';
  }
}

/**
 * The JSON5 this file format uses (comments, unquoted keys, single quotes, trailing commas),
 * turned into JSON. A small tokenizer so comment markers inside strings stay intact.
 */
export function parseJson5(text: string, source = '.ic-assets.json5'): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new AssetConfigError(`${source}: unterminated /* comment`);
      i = end + 2;
    } else if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') {
          value += text[i] + text[i + 1];
          i += 2;
        } else {
          value += text[i] === '"' ? '\\"' : text[i];
          i++;
        }
      }
      if (i >= text.length) throw new AssetConfigError(`${source}: unterminated string`);
      i++;
      out += `"${c === "'" ? value.replace(/\\'/g, "'") : value}"`;
    } else if (/[A-Za-z_$]/.test(c)) {
      let word = '';
      while (i < text.length && /[\w$]/.test(text[i])) word += text[i++];
      out += ['true', 'false', 'null'].includes(word) ? word : `"${word}"`;
    } else {
      out += c;
      i++;
    }
  }
  const json = out.replace(/,(\s*[\]}])/g, '$1');
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new AssetConfigError(`${source} is not valid JSON5: ${(error as Error).message}`);
  }
}

/** Glob as the asset tooling uses it: `**` any directories, `*` and `?` within a segment, `{a,b}`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) throw new AssetConfigError(`unbalanced { in glob "${glob}"`);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((s) => s.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// The headers of the IC's standard security policy, written out here (dfx adds them for
// `security_policy: "standard"`; "hardened" expects the Content-Security-Policy from the rules).
const POLICY_HEADERS: Record<string, string> = {
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-XSS-Protection': '1; mode=block',
};
const STANDARD_CSP =
  "default-src 'self'; script-src 'self'; connect-src 'self' http://localhost:* https://icp0.io https://*.icp0.io https://icp-api.io; img-src 'self' data:; style-src * 'unsafe-inline'; font-src *; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

export function validateRules(value: unknown, source = '.ic-assets.json5'): AssetRule[] {
  if (!Array.isArray(value)) throw new AssetConfigError(`${source} must hold an array of rules, like [{ match: "**/*", headers: {…} }]`);
  return value.map((rule, index) => {
    if (typeof rule !== 'object' || rule === null || typeof (rule as AssetRule).match !== 'string') {
      throw new AssetConfigError(`${source}: rule ${index + 1} needs a "match" glob`);
    }
    const policy = (rule as AssetRule).security_policy;
    if (policy !== undefined && !['disabled', 'standard', 'hardened'].includes(policy)) {
      throw new AssetConfigError(`${source}: rule ${index + 1} has security_policy "${policy}"; use disabled, standard or hardened`);
    }
    return rule as AssetRule;
  });
}

/** The configuration of one file (`path` relative to dist/, with forward slashes). */
export function resolveAssetConfig(rules: AssetRule[], path: string): ResolvedAssetConfig {
  const headers = new Map<string, [string, string]>();
  let ignore = false;
  let maxAge: number | undefined;
  let policy: AssetRule['security_policy'];
  for (const rule of rules) {
    if (!globToRegExp(rule.match).test(path)) continue;
    if (rule.ignore !== undefined) ignore = rule.ignore;
    if (rule.cache?.max_age !== undefined) maxAge = rule.cache.max_age;
    if (rule.security_policy !== undefined) policy = rule.security_policy;
    for (const [name, value] of Object.entries(rule.headers ?? {})) {
      if (value === null) headers.delete(name.toLowerCase());
      else headers.set(name.toLowerCase(), [name.toLowerCase(), value]);
    }
  }
  if (policy === 'standard' || policy === 'hardened') {
    for (const [name, value] of Object.entries(POLICY_HEADERS)) {
      if (!headers.has(name.toLowerCase())) headers.set(name.toLowerCase(), [name.toLowerCase(), value]);
    }
    if (!headers.has('content-security-policy')) {
      if (policy === 'hardened') {
        throw new AssetConfigError(`${path}: security_policy "hardened" needs a Content-Security-Policy header from the rules (or use "standard")`);
      }
      headers.set('content-security-policy', ['content-security-policy', STANDARD_CSP]);
    }
  }
  return { ignore, headers: [...headers.values()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), ...(maxAge !== undefined ? { maxAge } : {}) };
}

/** Every file under a site directory, in a stable order: its full path and its path in the site (`a/b.html`). */
export function* siteFiles(siteDir: string, dir = siteDir): Generator<{ file: string; path: string }> {
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) yield* siteFiles(siteDir, file);
    else yield { file, path: relative(siteDir, file).split(sep).join(posix.sep) };
  }
}

const sha256Source = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** sha256 CSP sources of a page's inline scripts (`<script>` without src). */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const match of html.matchAll(/<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi)) hashes.add(sha256Source(match[1]));
  return [...hashes].sort();
}

/** The text of an attribute value as the browser sees it (the entities HTML serializers emit). */
function decodeAttribute(value: string): string {
  return value.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(amp|quot|apos|lt|gt));/gi, (_, dec, hex, name) =>
    dec
      ? String.fromCodePoint(Number(dec))
      : hex
        ? String.fromCodePoint(parseInt(hex, 16))
        : ({ amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' } as Record<string, string>)[name.toLowerCase()],
  );
}

/** sha256 sources of a document's `<style>` elements, and of its `style="…"` attributes (CSP 'unsafe-hashes'). */
export function inlineStyleHashes(markup: string): { elements: string[]; attributes: string[] } {
  const elements = new Set<string>();
  for (const match of markup.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)) elements.add(sha256Source(match[1]));
  const attributes = new Set<string>();
  for (const match of markup.matchAll(/<[a-z][^>]*?\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)')/gi))
    attributes.add(sha256Source(decodeAttribute(match[1] ?? match[2])));
  return { elements: [...elements].sort(), attributes: [...attributes].sort() };
}

/** Every loopback origin a local replica may answer on (for `--network local` deploys only). */
export const LOOPBACK_CONNECT_SOURCES = ['http://127.0.0.1:*', 'http://localhost:*', 'http://*.localhost:*'];

/**
 * The Content-Security-Policy one served file gets: 'unsafe-inline' removed from every directive,
 * and exactly the document's own inline code allowed by hash instead: inline scripts in
 * script-src; `<style>` elements in style-src; style attributes through 'unsafe-hashes' with their
 * hashes. `kind` 'other' (CSS, JavaScript, images) has no inline code. `connectSources` are added
 * to connect-src (a local deploy adds the loopback origins; the production policy has none).
 */
export function documentCsp(csp: string, markup: string, kind: 'html' | 'svg' | 'other', connectSources: string[] = []): string {
  const directives = csp
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => d.split(/\s+/).filter((s) => s !== "'unsafe-inline'"));
  const directive = (name: string, fallback: string[]): string[] => {
    let found = directives.find((d) => d[0] === name);
    if (!found) {
      found = [name, ...fallback];
      directives.push(found);
    }
    return found;
  };
  const add = (d: string[], sources: string[]) => {
    for (const s of sources) if (!d.includes(s)) d.push(s);
  };
  if (kind === 'html') {
    const scripts = inlineScriptHashes(markup);
    if (scripts.length) add(directive('script-src', ["'self'"]), scripts);
  }
  if (kind !== 'other') {
    const { elements, attributes } = inlineStyleHashes(markup);
    if (elements.length || attributes.length) {
      const style = directive('style-src', ["'self'"]);
      add(style, elements);
      if (attributes.length) add(style, ["'unsafe-hashes'", ...attributes]);
    }
  }
  if (connectSources.length) add(directive('connect-src', ["'self'"]), connectSources);
  return directives.map((d) => d.join(' ')).join('; ');
}

/** What kind of document a path is, for documentCsp. */
export function documentKind(path: string): 'html' | 'svg' | 'other' {
  return /\.html?$/i.test(path) ? 'html' : /\.svg$/i.test(path) ? 'svg' : 'other';
}
