// .ic-assets.json5 as the deploy reads it: JSON5, globs, rule order, security policies and the
// per-page script hashes; and the identity files `--identity` accepts.
import { describe, expect, test } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AssetConfigError, globToRegExp, inlineScriptHashes, parseJson5, resolveAssetConfig, validateRules, withScriptHashes,
} from '../../scripts/lib/asset-config.ts';
import { contentTypeOf } from '../../scripts/lib/asset-sync.ts';
import { identityFromPem } from '../../scripts/deploy.ts';

describe('JSON5', () => {
  test('comments, unquoted keys, single quotes and trailing commas', () => {
    expect(parseJson5(`// c\n[{ match: '**/*', /* x */ headers: { "A": "b // not a comment", }, },]`)).toEqual([
      { match: '**/*', headers: { A: 'b // not a comment' } },
    ]);
  });

  test('the project\'s own .ic-assets.json5 parses into valid rules', () => {
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
    expect(Object.fromEntries(html.headers)).toMatchObject({ 'cache-control': 'b', 'content-security-policy': "default-src 'self'", 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff' });
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

  test('hashes replace unsafe-inline in script-src; a policy without script-src gets one', () => {
    expect(withScriptHashes("default-src 'self'; script-src 'self' 'unsafe-inline'", ["'sha256-A'"])).toBe("default-src 'self'; script-src 'self' 'sha256-A'");
    expect(withScriptHashes("script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'", [])).toBe("script-src 'self'; style-src 'unsafe-inline'");
    expect(withScriptHashes("default-src 'self'", ["'sha256-A'"])).toBe("default-src 'self'; script-src 'self' 'sha256-A'");
    expect(withScriptHashes("default-src 'self'", [])).toBe("default-src 'self'");
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

describe('memoized BLS verification (uploads)', () => {
  test('answers as the agent does, and checks a repeated (key, signature, message) once', async () => {
    const { subnetKeys, signStateRoot } = await import('../../replica/src/certification/keys.ts');
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
