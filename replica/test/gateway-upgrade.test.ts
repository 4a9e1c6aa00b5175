// The gateway's other paths, against a small dynamic canister (gateway-fixtures/counter.mo):
// `upgrade = ?true` turns the request into an `http_request_update` call (answered through
// consensus, so not verified against a certificate), and a streaming callback into another
// canister is refused.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { IDL } from '@dfinity/candid';
import { compileMotoko } from '../../scripts/lib/motoko.ts';
import { gatewayGet, startTestNetwork, type TestNetwork } from './gateway-support.ts';

let net: TestNetwork;
let host: string;

beforeAll(async () => {
  net = await startTestNetwork();
  const { wasm } = await compileMotoko({ entry: 'replica/test/gateway-fixtures/counter.mo' });
  const { canisterId } = await net.replica.setupCanister({ idlFactory: () => IDL.Service({}), wasm, name: 'counter' });
  host = `${canisterId.toText()}.localhost:${net.port}`;
});
afterAll(async () => net?.close());

test('a canister that asks for an upgrade is answered by an update call, each request once', async () => {
  const first = await gatewayGet(net.port, host, '/count?x=1');
  expect(first.status).toBe(200);
  expect(first.body.toString()).toBe('GET /count?x=1 count=1');
  const second = await gatewayGet(net.port, host, '/count');
  expect(second.body.toString()).toBe('GET /count count=2');
});

test('a streaming callback into another canister is refused', async () => {
  const response = await gatewayGet(net.port, host, '/elsewhere');
  expect(response.status).toBe(502);
  expect(response.headers['x-gateway-error']).toBe('ERR_STREAMING');
  expect(response.body.toString()).toMatch(/from another canister \(aaaaa-aa\)/);
});
