// The gateway and the asset canister against malformed and unusual requests, sent as raw bytes:
// malformed URLs and Host headers get 400 from the gateway itself (never 500 or 502), and
// OPTIONS (a CORS preflight), POST and other methods get answers the canister certified, which
// the gateway verifies like any page.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import type { Principal } from '@dfinity/principal';
import { idlFactory, type _SERVICE as Assets } from '../../canisters/assets/assets.did.ts';
import { installAssetCanister, startTestNetwork, type TestNetwork } from './gateway-support.ts';

let net: TestNetwork;
let id: string;

beforeAll(async () => {
  net = await startTestNetwork();
  const deployer = Ed25519KeyIdentity.generate();
  let canisterId: Principal;
  ({ canisterId } = await installAssetCanister(net, deployer));
  id = canisterId.toText();
  const actor = net.replica.createActor<Assets>(idlFactory, canisterId);
  actor.setPrincipal(deployer.getPrincipal() as unknown as Principal);
  await actor.store({
    key: '/index.html',
    content_type: 'text/html',
    content_encoding: 'identity',
    content: new TextEncoder().encode('<p>hi</p>'),
    sha256: [],
  });
  await net.httpInterface.certifier.fresh(0n);
}, 120_000);
afterAll(async () => {
  await net?.close();
});

interface Raw {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Sends `head` (request line and headers, without the final blank line) as bytes. */
function raw(head: string, body = ''): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(net.port, '127.0.0.1', () => socket.write(`${head}\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('end', () => {
      const [top, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = top.split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.on('error', reject);
  });
}

describe('malformed requests get 400 from the gateway', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a bad percent-escape', 'GET /%ZZ HTTP/1.1\r\nHost: {id}.localhost', /percent-escapes/],
    ['a truncated UTF-8 escape', 'GET /%E0%A4%A HTTP/1.1\r\nHost: {id}.localhost', /percent-escapes/],
    ['a path starting with //', 'GET //[ HTTP/1.1\r\nHost: {id}.localhost', /must not start with "\/\/"/],
    ['an absolute URL', 'GET http://x/ HTTP/1.1\r\nHost: {id}.localhost', /starting with "\/"/],
    ['a Host with spaces', 'GET /?canisterId={id} HTTP/1.1\r\nHost: bad host!!', /Host header/],
    ['an unterminated IPv6 Host', 'GET /?canisterId={id} HTTP/1.1\r\nHost: [::1', /Host header/],
    ['a canister id with a bad checksum in Host', 'GET / HTTP/1.1\r\nHost: zzzzz-zzzzz.localhost', /not a canister id/],
    ['a canister id with a bad checksum in the query', 'GET /?canisterId=zzzzz-zzzzz HTTP/1.1\r\nHost: 127.0.0.1', /not a canister id/],
    ['the management canister', 'GET / HTTP/1.1\r\nHost: aaaaa-aa.localhost', /management canister/],
  ];
  for (const [name, head, message] of cases) {
    it(name, async () => {
      const response = await raw(head.replaceAll('{id}', id));
      expect(response.status, response.body).toBe(400);
      expect(response.headers.get('x-gateway-error')).toBe('ERR_BAD_REQUEST');
      expect(response.body).toMatch(message);
    });
  }
});

describe('methods other than GET get certified answers', () => {
  it('answers a CORS preflight through the gateway, for a file and for a missing path', async () => {
    for (const path of ['/', '/index.html', '/missing/page']) {
      const response = await raw(`OPTIONS ${path} HTTP/1.1\r\nHost: ${id}.localhost\r\nOrigin: https://example.org\r\nAccess-Control-Request-Method: GET`);
      expect(response.status, response.body).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
      expect(response.headers.get('ic-certificate')).toMatch(/version=2/); // the gateway verified it
    }
  });

  it('refuses POST and DELETE with a certified 405', async () => {
    for (const [method, path] of [
      ['POST', '/'],
      ['DELETE', '/nope'],
      ['PUT', '/index.html'],
    ]) {
      const response = await raw(`${method} ${path} HTTP/1.1\r\nHost: ${id}.localhost`, 'hi');
      expect(response.status, response.body).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      expect(response.headers.get('ic-certificate')).toMatch(/version=2/);
    }
  });

  it('still serves GET', async () => {
    const response = await raw(`GET / HTTP/1.1\r\nHost: ${id}.localhost`);
    expect(response.status).toBe(200);
    expect(response.body).toBe('<p>hi</p>');
  });
});
