// .ic-assets.json5 as the deploy reads it: JSON5, globs, rule order, security policies and the
// per-page script hashes; and the identity files `--identity` accepts.
import { describe, expect, test } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AssetConfigError,
  LOOPBACK_CONNECT_SOURCES,
  documentCsp,
  globToRegExp,
  inlineScriptHashes,
  inlineStyleHashes,
  parseJson5,
  resolveAssetConfig,
  validateRules,
} from '../../scripts/lib/asset-config.ts';
import { contentTypeOf } from '../../scripts/lib/asset-sync.ts';
import { identityFromPem, keyFileWarning } from '../../scripts/deploy.ts';

describe('JSON5', () => {
  test('comments, unquoted keys, single quotes and trailing commas', () => {
    expect(parseJson5(`// c\n[{ match: '**/*', /* x */ headers: { "A": "b // not a comment", }, },]`)).toEqual([
      { match: '**/*', headers: { A: 'b // not a comment' } },
    ]);
  });

  test("the project's own .ic-assets.json5 parses into valid rules", () => {
    const rules = validateRules(parseJson5(readFileSync(new URL('../../public/.ic-assets.json5', import.meta.url), 'utf8')));
    expect(rules.length).toBeGreaterThan(2);
  });

  test('a broken file says where it is', () => {
    expect(() => parseJson5('[{ match: "x" ', 'public/.ic-assets.json5')).toThrow(/public\/\.ic-assets\.json5 is not valid JSON5/);
    expect(() => validateRules({ match: 'x' })).toThrow(AssetConfigError);
  });
});

describe('globs', () => {
  test.each([
    ['**/*', 'index.html', true],
    ['**/*', 'a/b/c.js', true],
    ['**/*.html', 'index.html', true],
    ['**/*.html', 'sessions/x/index.html', true],
    ['_astro/**/*', '_astro/a.js', true],
    ['_astro/**/*', 'x/_astro/a.js', false],
    ['**/*.{xml,ics}', 'rss.xml', true],
    ['**/*.{xml,ics}', 'calendar.ics', true],
    ['**/.*', '.ic-assets.json5', true],
    ['**/.*', '.well-known/x', false],
    ['*.css', 'a/b.css', false],
  ])('%s matches %s: %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });
});

describe('resolving rules', () => {
  const rules = validateRules([
    { match: '**/*', security_policy: 'hardened', headers: { 'Content-Security-Policy': "default-src 'self'", 'Cache-Control': 'a' } },
    { match: '**/*.html', headers: { 'Cache-Control': 'b' } },
    { match: 'private/**/*', ignore: true },
    { match: 'raw/**/*', headers: { 'X-Frame-Options': null } },
  ]);

  test('later rules override earlier ones key by key; the policy adds its headers', () => {
    const html = resolveAssetConfig(rules, 'a/index.html');
    expect(Object.fromEntries(html.headers)).toMatchObject({
      'cache-control': 'b',
      'content-security-policy': "default-src 'self'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
    });
    expect(Object.fromEntries(resolveAssetConfig(rules, 'a/app.js').headers)['cache-control']).toBe('a');
    expect(resolveAssetConfig(rules, 'private/key.txt').ignore).toBe(true);
  });

  test('a hardened policy without a CSP is an error that says what to add', () => {
    expect(() => resolveAssetConfig(validateRules([{ match: '**/*', security_policy: 'hardened' }]), 'x.html')).toThrow(/needs a Content-Security-Policy/);
  });
});

describe('inline scripts in the CSP', () => {
  test('each inline script is hashed as the browser hashes it; external scripts are not', () => {
    const html = `<script>let a = 1;</script><script type="module">import "/x.js"</script><script src="/_astro/y.js"></script>`;
    const expected = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(inlineScriptHashes(html)).toEqual([expected('let a = 1;'), expected('import "/x.js"')].sort());
  });
});

describe('a policy per document, without unsafe-inline', () => {
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

  test('style elements and style attributes are hashed as the browser sees them', () => {
    const html = `<style>p{color:red}</style><span style="--0:#24292E;--1:#ADBAC7">x</span><i style='width:100%'></i><b style="a&amp;b"></b>`;
    expect(inlineStyleHashes(html)).toEqual({
      elements: [hash('p{color:red}')],
      attributes: [hash('--0:#24292E;--1:#ADBAC7'), hash('width:100%'), hash('a&b')].sort(),
    });
  });

  test("a page's policy allows exactly its own inline code, and 'unsafe-inline' goes from every directive", () => {
    const base = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'";
    const page = '<script>go()</script><div style="width:1px"></div>';
    expect(documentCsp(base, page, 'html')).toBe(
      `default-src 'self'; script-src 'self' ${hash('go()')}; style-src 'self' 'unsafe-hashes' ${hash('width:1px')}; connect-src 'self'`,
    );
    // An SVG runs no inline script through this policy; its own <style> is allowed by hash.
    expect(documentCsp(base, '<svg><style>.a{fill:red}</style><script>x()</script></svg>', 'svg')).toBe(
      `default-src 'self'; script-src 'self'; style-src 'self' ${hash('.a{fill:red}')}; connect-src 'self'`,
    );
    expect(documentCsp(base, '', 'other', LOOPBACK_CONNECT_SOURCES)).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' http://127.0.0.1:* http://localhost:* http://*.localhost:*",
    );
    // Applying it twice changes nothing (the build's per-file rules go through the deploy again).
    const once = documentCsp(base, page, 'html');
    expect(documentCsp(once, page, 'html')).toBe(once);
  });

  test('the production policy has no unsafe-inline and no loopback origins', () => {
    const rules = validateRules(parseJson5(readFileSync(new URL('../../public/.ic-assets.json5', import.meta.url), 'utf8')));
    for (const path of ['index.html', 'favicon.svg', '_astro/app.js', 'sessions/x/index.html']) {
      const csp = resolveAssetConfig(rules, path).headers.find(([n]) => n === 'content-security-policy')![1];
      expect(csp).not.toMatch(/unsafe-inline/);
      expect(csp).not.toMatch(/127\.0\.0\.1|localhost|\[::1\]/);
    }
  });
});

test('content types carry a charset for text', () => {
  expect(contentTypeOf('a/index.html')).toBe('text/html; charset=utf-8');
  expect(contentTypeOf('x.pf_fragment')).toBe('application/octet-stream');
  expect(contentTypeOf('logo.svg')).toBe('image/svg+xml; charset=utf-8');
});

describe('--identity files', () => {
  test('an Ed25519 PEM (dfx identity export) gives the same principal as its key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const identity = identityFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'id.pem');
    const der = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    expect(Buffer.from(identity.getPublicKey().toDer()).equals(Buffer.from(der))).toBe(true);
  });

  test('a secp256k1 PEM (SEC1, as dfx writes it) works too', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const identity = identityFromPem(privateKey.export({ type: 'sec1', format: 'pem' }).toString(), 'id.pem');
    const der = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    expect(Buffer.from(identity.getPublicKey().toDer()).equals(Buffer.from(der))).toBe(true);
  });

  test('other keys are refused with the reason', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => identityFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'id.pem')).toThrow(/Ed25519 or secp256k1/);
    expect(() => identityFromPem('not a key', 'id.pem')).toThrow(/id\.pem is not a PEM private key/);
  });
});

test('the deploy warns when the identity file is readable by others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pem-'));
  try {
    const path = join(dir, 'id.pem');
    writeFileSync(path, 'x');
    chmodSync(path, 0o600);
    expect(keyFileWarning(path)).toBeUndefined();
    chmodSync(path, 0o640);
    expect(keyFileWarning(path)).toMatch(/readable by its group \(mode 640\).*chmod 600/);
    chmodSync(path, 0o644);
    expect(keyFileWarning(path)).toMatch(/readable by every user of this machine/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('git ignores identity files', () => {
  expect(readFileSync(new URL('../../.gitignore', import.meta.url), 'utf8').split('\n')).toContain('*.pem');
});

describe('memoized BLS verification (uploads)', () => {
  test('answers as the agent does, and checks a repeated (key, signature, message) once', async () => {
    const { subnetKeys, signStateRoot } = await import('@scaling-wg/replica/certification');
    const { memoizedBlsVerify } = await import('../../scripts/lib/asset-sync.ts');
    const keys = subnetKeys();
    const root = new Uint8Array(32).fill(7);
    const signature = signStateRoot(keys, root);
    const publicKey = keys.rootKeyDer.slice(keys.rootKeyDer.length - 96);
    const message = new Uint8Array([...new TextEncoder().encode('\x0dic-state-root'), ...root]);
    const verify = memoizedBlsVerify();
    const first = verify(publicKey, signature, message);
    expect(verify(publicKey, signature, message)).toBe(first); // same promise: no second pairing
    expect(await first).toBe(true);
    const tampered = message.slice();
    tampered[tampered.length - 1] ^= 1;
    expect(await verify(publicKey, signature, tampered)).toBe(false);
  });
});
