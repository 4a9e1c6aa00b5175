// The HTTP gateway over the replica, serving the asset canister: every file of a site comes back
// through `<id>.localhost` verified by @dfinity/response-verification (the gateway refuses what
// does not verify), and a tampered body or header, or a foreign root key, is refused with 502.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Actor, CanisterStatus, Cbor, Certificate, LookupPathStatus, reconstruct, type HashTree, type HttpAgent } from '@dfinity/agent';
import { AssetManager } from '@dfinity/assets';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import type { Principal } from '@dfinity/principal';
import { subnetKeys } from '../src/certification/keys.ts';
import { lookupPath } from '../src/certification/hash-tree.ts';
import { HttpGateway, GatewayError, inProcessAgent } from '../src/gateway/index.ts';
import { HttpRequest, HttpResponse } from '../src/gateway/http-interface-idl.ts';
import { planAssets, type PlannedAsset } from '../../scripts/lib/asset-sync.ts';
import { idlFactory, type _SERVICE as Assets } from '../../canisters/assets/assets.did.ts';
import { expectedBody, gatewayGet, installAssetCanister, startTestNetwork, uploadDirect, type TestNetwork } from './gateway-support.ts';

const repoRoot = new URL('../../', import.meta.url).pathname;

/** A small site with what a real one has: nested pages, inline scripts, a 404 page, gzip-able text, a streamed file. */
function fixtureSite(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-site-'));
  const page = (title: string) =>
    `<!doctype html><html><head><title>${title}</title><script>document.documentElement.dataset.theme='dark'</script></head><body><h1>${title}</h1>${'<p>Certified text. </p>'.repeat(40)}<a href="/about/">about</a></body></html>`;
  writeFileSync(join(dir, 'index.html'), page('Home'));
  writeFileSync(join(dir, '404.html'), page('Not found'));
  mkdirSync(join(dir, 'about'));
  writeFileSync(join(dir, 'about/index.html'), page('About'));
  mkdirSync(join(dir, 'blog'));
  writeFileSync(join(dir, 'blog/first-post.html'), page('First post'));
  mkdirSync(join(dir, '_astro'));
  writeFileSync(join(dir, '_astro/app.4f2a.js'), `export const sessions = ${JSON.stringify(Array.from({ length: 50 }, (_, i) => `session-${i}`))};\n`);
  writeFileSync(join(dir, 'hello world.txt'), 'a file name with a space\n');
  writeFileSync(
    join(dir, 'big.bin'),
    new Uint8Array(4_200_000).map((_, i) => (i * 31 + (i >> 9)) & 255),
  );
  cpSync(join(repoRoot, 'public/.ic-assets.json5'), join(dir, '.ic-assets.json5'));
  return dir;
}

let net: TestNetwork;
let canisterId: Principal;
let host: string;
let deployerAgent: HttpAgent;
let siteDir: string;
let planned: PlannedAsset[];

beforeAll(async () => {
  net = await startTestNetwork();
  const deployer = Ed25519KeyIdentity.generate();
  ({ canisterId } = await installAssetCanister(net, deployer));
  host = `${canisterId.toText()}.localhost:${net.port}`;
  siteDir = fixtureSite();
  planned = planAssets(siteDir);
  const actor = net.replica.createActor<Assets>(idlFactory, canisterId);
  actor.setPrincipal(deployer.getPrincipal() as unknown as Principal);
  await uploadDirect(actor, planned);
  // Updates made through the programmatic API do not start a certification round by themselves
  // (calls over HTTP do): sign the state once so queries carry a current data certificate.
  await net.httpInterface.certifier.fresh(0n);
  deployerAgent = await net.agentFor(deployer);
});

afterAll(async () => {
  await net?.close();
  if (siteDir) rmSync(siteDir, { recursive: true, force: true });
});

describe('serving a site through the gateway', () => {
  test('every file comes back verified (v2), gzip where the browser accepts it', async () => {
    expect(planned.map((a) => a.key)).not.toContain('/.ic-assets.json5'); // ignored by its own rules
    expect(planned.length).toBe(7);
    for (const asset of planned) {
      for (const acceptEncoding of ['gzip, deflate, br', 'identity']) {
        const response = await gatewayGet(net.port, host, encodeURI(asset.key), { 'accept-encoding': acceptEncoding });
        expect(response.status, `${asset.key}: ${response.body.toString().slice(0, 300)}`).toBe(200);
        expect(response.headers['ic-certificate']).toMatch(/version=2/);
        const encoding = response.headers['content-encoding'];
        if (acceptEncoding === 'identity') expect(encoding).toBeUndefined();
        else if (asset.encodings.some((e) => e.name === 'gzip')) expect(encoding).toBe('gzip');
        expect(response.body.equals(expectedBody(asset, encoding)), asset.key).toBe(true);
        expect(response.headers['content-type']).toBe(asset.contentType);
      }
    }
  });

  test('pages carry the configured headers, with their inline scripts hashed into the CSP', async () => {
    const response = await gatewayGet(net.port, host, '/');
    expect(response.status).toBe(200);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(response.headers['content-security-policy']).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect((await gatewayGet(net.port, host, '/_astro/app.4f2a.js')).headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  test('directory and .html aliases, and percent-encoded names, resolve and verify', async () => {
    for (const [path, title] of [
      ['/about/', 'About'],
      ['/about', 'About'],
      ['/blog/first-post', 'First post'],
      ['/', 'Home'],
    ]) {
      const response = await gatewayGet(net.port, host, path, { 'accept-encoding': 'identity' });
      expect(response.status, path).toBe(200);
      expect(response.body.toString()).toContain(`<h1>${title}</h1>`);
    }
    expect((await gatewayGet(net.port, host, '/hello%20world.txt')).body.toString()).toBe('a file name with a space\n');
  });

  test("a missing file gets the site's 404 page with status 404, certified", async () => {
    const response = await gatewayGet(net.port, host, '/sessions/no-such-session/', { 'accept-encoding': 'gzip' });
    expect(response.status).toBe(404);
    expect(gunzipSync(response.body).toString()).toContain('<h1>Not found</h1>');
    expect(response.headers['ic-certificate']).toMatch(/expr_path=/);
  });

  test('a streamed file (several chunks) is assembled before it is verified', async () => {
    const response = await gatewayGet(net.port, host, '/big.bin');
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(4_200_000);
    expect(
      response.body.equals(
        expectedBody(
          planned.find((a) => a.key === '/big.bin')!,
          undefined,
        ),
      ),
    ).toBe(true);
  });

  test('the ?canisterId= form, and sub-resources found through the Referer, reach the same canister', async () => {
    const page = await gatewayGet(net.port, `127.0.0.1:${net.port}`, `/about/?canisterId=${canisterId.toText()}`);
    expect(page.status).toBe(200);
    const script = await gatewayGet(net.port, `127.0.0.1:${net.port}`, '/_astro/app.4f2a.js', {
      referer: `http://127.0.0.1:${net.port}/about/?canisterId=${canisterId.toText()}`,
    });
    expect(script.status).toBe(200);
    const nowhere = await gatewayGet(net.port, `127.0.0.1:${net.port}`, '/about/');
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.toString()).toMatch(/<canister-id>\.localhost/);
  });

  test('a canister that does not exist gets a 404 that says so', async () => {
    const missing = await gatewayGet(net.port, `ryjl3-tyaaa-aaaaa-aaaba-cai.localhost:${net.port}`, '/');
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toMatch(/ryjl3-tyaaa-aaaaa-aaaba-cai cannot serve HTTP/);
  });

  test('certified_tree returns the whole tree, and the certificate vouches for its root', async () => {
    const actor = Actor.createActor<Assets>(idlFactory, { agent: deployerAgent, canisterId });
    const { certificate, tree } = await actor.certified_tree({});
    const cert = await Certificate.create({ certificate, rootKey: net.rootKey, canisterId });
    const certified = cert.lookup_path(['canister', canisterId.toUint8Array(), 'certified_data']);
    expect(certified.status).toBe(LookupPathStatus.Found);
    const decoded = Cbor.decode<HashTree>(tree);
    expect(Buffer.from(await reconstruct(decoded)).equals(Buffer.from((certified as { value: Uint8Array }).value))).toBe(true);
    // Every asset is in the v1 part of the tree under its key (the spec's lookup: the agent's
    // label comparison is not lexicographic, see canisters/assets/hash-tree.test.ts).
    for (const asset of planned) expect(lookupPath(['http_assets', asset.key], decoded as never).status, asset.key).toBe('found');
  });

  test('old clients: @dfinity/assets checks the v1 certificate of an asset', async () => {
    const manager = new AssetManager({ canisterId, agent: deployerAgent });
    for (const key of ['/index.html', '/about/index.html', '/_astro/app.4f2a.js']) {
      expect(await (await manager.get(key)).isCertified(), key).toBe(true);
    }
  });
});

describe('refusing what does not verify', () => {
  // An agent that changes the canister's http_request answer on its way to the gateway, as a
  // malicious node could.
  function tamperingAgent(change: (response: { body: Uint8Array; headers: [string, string][] }) => void): HttpAgent {
    const agent = inProcessAgent(net.httpInterface);
    return new Proxy(agent, {
      get(target, property) {
        if (property !== 'query') {
          // Methods run on the real agent: it keeps private fields a proxy cannot reach.
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (id: Principal | string, fields: { methodName: string; arg: Uint8Array }) => {
          const result = await target.query(id, fields);
          if (fields.methodName !== 'http_request' || result.status !== 'replied') return result;
          const [response] = IDL.decode([HttpResponse], result.reply.arg) as unknown as [{ body: Uint8Array; headers: [string, string][] }];
          change(response);
          return { ...result, reply: { arg: IDL.encode([HttpResponse], [response]) } };
        };
      },
    });
  }

  const request = { method: 'GET', url: '/about/', headers: [['accept-encoding', 'identity']] as [string, string][], body: new Uint8Array() };

  test('the honest path verifies (so the failures below are the tampering)', async () => {
    const gateway = new HttpGateway({ agent: tamperingAgent(() => {}), rootKey: net.rootKey, now: () => net.httpInterface.engine.time() });
    const response = await gateway.fetch(canisterId.toText(), request);
    expect(response.certificationVersion).toBe(2);
    expect(response.status).toBe(200);
  });

  test('a changed body fails with InvalidRequestAndResponseHashes', async () => {
    const gateway = new HttpGateway({
      agent: tamperingAgent((r) => {
        r.body = new TextEncoder().encode(new TextDecoder().decode(r.body).replace('About', 'Abort'));
      }),
      rootKey: net.rootKey,
      now: () => net.httpInterface.engine.time(),
    });
    const failure = await gateway.fetch(canisterId.toText(), request).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GatewayError);
    expect((failure as GatewayError).status).toBe(502);
    expect((failure as GatewayError).verificationError).toBe('InvalidRequestAndResponseHashes');
  });

  test('a changed certified header fails too', async () => {
    const gateway = new HttpGateway({
      agent: tamperingAgent((r) => {
        r.headers = r.headers.map(([n, v]) => [n, n === 'content-type' ? 'text/plain' : v]);
      }),
      rootKey: net.rootKey,
      now: () => net.httpInterface.engine.time(),
    });
    const failure = (await gateway.fetch(canisterId.toText(), request).catch((e: unknown) => e)) as GatewayError;
    expect(failure.code).toBe('ERR_VERIFICATION');
  });

  test('a node that drops certificate_version cannot downgrade the answer to v1', async () => {
    // The canister's certified metadata says it speaks v2, so the gateway insists on it.
    const agent = inProcessAgent(net.httpInterface);
    const downgrading = new Proxy(agent, {
      get(target, property) {
        if (property !== 'query') {
          // Methods run on the real agent: it keeps private fields a proxy cannot reach.
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return (id: Principal | string, fields: { methodName: string; arg: Uint8Array }) => {
          if (fields.methodName !== 'http_request') return target.query(id, fields);
          const V1Request = IDL.Record({ method: IDL.Text, url: IDL.Text, headers: IDL.Vec(IDL.Tuple(IDL.Text, IDL.Text)), body: IDL.Vec(IDL.Nat8) });
          const [original] = IDL.decode([HttpRequest], fields.arg) as unknown as [Record<string, unknown>];
          const { certificate_version: _dropped, ...v1 } = original;
          return target.query(id, { ...fields, arg: IDL.encode([V1Request], [v1]) });
        };
      },
    });
    const gateway = new HttpGateway({ agent: downgrading, rootKey: net.rootKey, now: () => net.httpInterface.engine.time() });
    const failure = (await gateway.fetch(canisterId.toText(), request).catch((e: unknown) => e)) as GatewayError;
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure.verificationError).toBe('RequestedVerificationVersionMismatch');
    expect(failure.message).not.toMatch(/could not be read/); // refused for the metadata, not for an error
    const status = await CanisterStatus.request({
      agent: deployerAgent,
      canisterId,
      paths: [{ kind: 'metadata', key: 'versions', path: 'supported_certificate_versions', decodeStrategy: 'utf-8' }],
    });
    expect(status.get('versions')).toBe('1,2');
  });

  test('a certificate under another root key fails the BLS check', async () => {
    const gateway = new HttpGateway({ agent: inProcessAgent(net.httpInterface), rootKey: subnetKeys().rootKeyDer, now: () => net.httpInterface.engine.time() });
    const failure = (await gateway.fetch(canisterId.toText(), request).catch((e: unknown) => e)) as GatewayError;
    expect(failure.verificationError).toBe('CertificateVerificationFailed');
  });

  test('an old certificate (time moved on 10 minutes) is refused', async () => {
    const gateway = new HttpGateway({
      agent: inProcessAgent(net.httpInterface),
      rootKey: net.rootKey,
      now: () => net.httpInterface.engine.time() + 600_000_000_000n,
    });
    const failure = (await gateway.fetch(canisterId.toText(), request).catch((e: unknown) => e)) as GatewayError;
    expect(failure.verificationError).toBe('CertificateVerificationFailed');
  });

  test('over HTTP the browser gets 502 and the reason', async () => {
    // Served by a real node:http server whose gateway verifies against a foreign key.
    const { createServer } = await import('node:http');
    const { createGatewayHandler } = await import('../src/gateway/index.ts');
    const handler = createGatewayHandler({ agent: inProcessAgent(net.httpInterface), rootKey: subnetKeys().rootKeyDer });
    const server = createServer((req, res) => void handler.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const response = await gatewayGet(port, `${canisterId.toText()}.localhost`, '/about/');
      expect(response.status).toBe(502);
      expect(response.headers['x-gateway-error']).toBe('ERR_VERIFICATION');
      expect(response.body.toString()).toMatch(/failed certificate verification \(CertificateVerificationFailed/);
    } finally {
      server.close();
    }
  });
});
