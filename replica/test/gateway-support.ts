// A whole local network in this process for the gateway and asset-canister tests: the one
// startLocalNetwork the CLI runs (replica, HTTP interface and server, gateway as the fallback,
// BLS worker) on a free port, quiet, plus an agent factory. And the asset canister installed and
// ready for uploads.
import { request as httpRequest } from 'node:http';
import { HttpAgent, type Identity } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { startLocalNetwork, type LocalNetwork } from '../src/network.ts';
import { buildAssetCanister } from '../../scripts/lib/asset-canister.ts';
import { idlFactory as assetsIdl, type _SERVICE as AssetsService } from '../../canisters/assets/assets.did.ts';
import type { PlannedAsset } from '../../scripts/lib/asset-sync.ts';

export interface TestNetwork extends LocalNetwork {
  rootKey: Uint8Array;
  agentFor(identity?: Identity): Promise<HttpAgent>;
}

export async function startTestNetwork(options: { time?: Date | number } = {}): Promise<TestNetwork> {
  const network = await startLocalNetwork({ port: 0, log: 'quiet', ...options });
  const rootKey = network.keys.rootKeyDer;
  return {
    ...network,
    rootKey,
    agentFor: (identity?: Identity) => HttpAgent.create({ host: network.url, rootKey, ...(identity ? { identity } : {}), retryTimes: 0 }),
  };
}

/** The module `npm run deploy` installs (with its metadata sections). */
export async function assetCanisterWasm(): Promise<Uint8Array> {
  return (await buildAssetCanister({ check: true })).wasm;
}

/** Installs the asset canister with `deployer` as controller and installer. */
export async function installAssetCanister(network: TestNetwork, deployer: Identity = Ed25519KeyIdentity.generate()) {
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

/** Uploads planned assets through the programmatic API (no BLS per call: fast), in commits of ~4 MB. */
export async function uploadDirect(actor: AssetsService, planned: PlannedAsset[]): Promise<void> {
  let operations: Parameters<AssetsService['commit_batch']>[0]['operations'] = [];
  let batch = (await actor.create_batch({})).batch_id;
  let bytes = 0;
  const flush = async () => {
    await actor.commit_batch({ batch_id: batch, operations });
    operations = [];
    bytes = 0;
    batch = (await actor.create_batch({})).batch_id;
  };
  for (const asset of planned) {
    for (const encoding of asset.encodings) {
      const ids: bigint[] = [];
      for (let at = 0; at < encoding.bytes.length || at === 0; at += 1_900_000) {
        ids.push((await actor.create_chunk({ batch_id: batch, content: encoding.bytes.subarray(at, at + 1_900_000) })).chunk_id);
      }
      operations.push({ CreateAsset: { key: asset.key, content_type: asset.contentType, headers: [asset.headers], max_age: [] } });
      operations.push({ SetAssetContent: { key: asset.key, content_encoding: encoding.name, chunk_ids: ids, sha256: [encoding.sha256] } });
      bytes += encoding.bytes.length;
    }
    if (bytes > 4_000_000) await flush();
  }
  await flush();
}

export const expectedBody = (asset: PlannedAsset, contentEncoding: string | undefined) =>
  Buffer.from(asset.encodings.find((e) => e.name === (contentEncoding ?? 'identity'))!.bytes);
