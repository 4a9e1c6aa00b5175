// The network this build of the site talks to. Vite-only (import.meta.env, import.meta.glob):
// Node code calls resolveNetwork() from network.ts with its own environment instead.
import { resolveNetwork, type CanisterIdsFile, type Network } from './network.ts';

// dfx's canister_ids.json at the repository root holds the mainnet ids once the demos are deployed
// there. A glob, not an import: on a machine that never deployed to mainnet the file is absent and
// the build must still succeed (the demos then say that they are not deployed on this network).
const idsFiles = import.meta.glob<CanisterIdsFile>('../../../canister_ids.json', { eager: true, import: 'default' });

let network: Network | undefined;

export function siteNetwork(): Network {
  network ??= resolveNetwork(
    {
      PUBLIC_WG_NETWORK: import.meta.env.PUBLIC_WG_NETWORK,
      PUBLIC_WG_HOST: import.meta.env.PUBLIC_WG_HOST,
      PUBLIC_WG_CANISTER_IDS: import.meta.env.PUBLIC_WG_CANISTER_IDS,
      PUBLIC_WG_IDENTITY_PROVIDER: import.meta.env.PUBLIC_WG_IDENTITY_PROVIDER,
    },
    Object.values(idsFiles)[0],
  );
  return network;
}
