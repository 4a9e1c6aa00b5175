// A whole local network in this process for the gateway and asset-canister tests: the replica
// (its programmatic API), its HTTP interface and server, and the gateway mounted as the server's fallback,
// exactly as the CLI composes them. Plus the asset canister installed and ready for uploads.
import { request as httpRequest } from 'node:http';
import { HttpAgent, type Identity } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { Replica } from '../src/index.ts';
import { subnetKeys } from '../src/certification/keys.ts';
import { schedulerEngine } from '../src/http/engine-adapter.ts';
import { HttpInterface } from '../src/http/interface.ts';
import { startServer } from '../src/http/server.ts';
import { gatewayFallback } from '../src/gateway/index.ts';
import { buildAssetCanister } from '../../scripts/lib/asset-canister.ts';
import { idlFactory as assetsIdl, type _SERVICE as AssetsService } from '../../canisters/assets/assets.did.ts';

export interface LocalNetwork {
  replica: Replica;
  httpInterface: HttpInterface;
  url: string;
  port: number;
  rootKey: Uint8Array;
  agentFor(identity?: Identity): Promise<HttpAgent>;
  close(): Promise<void>;
}

export async function startLocalNetwork(options: { time?: Date | number } = {}): Promise<LocalNetwork> {
  const keys = subnetKeys();
  const replica = await Replica.create({ log: 'quiet', ...(options.time !== undefined ? { time: options.time } : {}) });
  const httpInterface = new HttpInterface({ engine: schedulerEngine(replica.scheduler), keys });
  const server = await startServer({ httpInterface, host: '127.0.0.1', port: 0, fallback: gatewayFallback(httpInterface) });
  const port = Number(new URL(server.url).port);
  return {
    replica,
    httpInterface,
    url: server.url,
    port,
    rootKey: keys.rootKeyDer,
    agentFor: (identity?: Identity) =>
      HttpAgent.create({ host: server.url, rootKey: keys.rootKeyDer, ...(identity ? { identity } : {}), retryTimes: 0 }),
    async close() {
      await server.close();
      await replica.tearDown();
    },
  };
}

/** The module `npm run deploy` installs (with its metadata sections). */
export async function assetCanisterWasm(): Promise<Uint8Array> {
  return (await buildAssetCanister({ check: true })).wasm;
}

/** Installs the asset canister with `deployer` as controller and installer. */
export async function installAssetCanister(network: LocalNetwork, deployer: Identity = Ed25519KeyIdentity.generate()) {
  const { canisterId } = await network.replica.setupCanister<AssetsService>({
    idlFactory: assetsIdl,
    wasm: await assetCanisterWasm(),
    sender: deployer.getPrincipal() as unknown as Principal,
    name: 'assets',
  });
  return { canisterId, deployer };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * GET through the gateway with an explicit Host (Node's resolver does not map *.localhost to
 * 127.0.0.1 the way browsers do, so connect to 127.0.0.1 and name the canister in Host).
 */
export function gatewayGet(port: number, host: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
