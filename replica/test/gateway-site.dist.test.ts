// The site as `npm run build` leaves it in dist/, served by the asset canister through the
// gateway: every file comes back and verifies. Runs after the site build (`npm test` runs it with
// vitest.dist.config.ts right after `npm run build`), so dist/ must be there.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import type { Principal } from '@dfinity/principal';
import { planAssets } from '../../scripts/lib/asset-sync.ts';
import { idlFactory, type _SERVICE as Assets } from '../../canisters/assets/assets.did.ts';
import { expectedBody, gatewayGet, installAssetCanister, startTestNetwork, uploadDirect, type TestNetwork } from './gateway-support.ts';

const repoRoot = new URL('../../', import.meta.url).pathname;

let net: TestNetwork;

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'dist/index.html'))) throw new Error('dist/ has no index.html: run `npm run build` first');
  net = await startTestNetwork();
});

afterAll(async () => {
  await net?.close();
});

describe('the built site (dist/)', () => {
  test('every file of dist/ comes back through the gateway and verifies', async () => {
    const deployer = Ed25519KeyIdentity.generate();
    const { canisterId: siteId } = await installAssetCanister(net, deployer);
    const actor = net.replica.createActor<Assets>(idlFactory, siteId);
    actor.setPrincipal(deployer.getPrincipal() as unknown as Principal);
    const site = planAssets(join(repoRoot, 'dist'));
    await uploadDirect(actor, site);
    await net.httpInterface.certifier.fresh(0n);
    const failures: string[] = [];
    for (const asset of site) {
      const response = await gatewayGet(net.port, `${siteId.toText()}.localhost:${net.port}`, encodeURI(asset.key), { 'accept-encoding': 'gzip' });
      if (response.status !== 200 || !response.body.equals(expectedBody(asset, response.headers['content-encoding']))) {
        failures.push(`${asset.key}: ${response.status} ${response.body.toString().slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(site.length).toBeGreaterThan(50);
  }, 600_000);
});
