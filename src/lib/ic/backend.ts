// Which backend a demo runs on, and the switch between them.
//
//   ic     when this build carries mainnet ids for every canister the demo calls (canister_ids.json)
//   local  when `npm start` (or a local deploy) handed the site its replica (PUBLIC_WG_NETWORK=local)
//   page   always: the replica in the reader's tab, with the demo canisters' Wasm the site build
//          emitted. So a static copy of the site, or the deployed site on a network where the demo
//          canisters are not deployed, still runs every demo.
// The first available in that order is the default; a reader's choice in the demo's switch is
// remembered in this browser (localStorage) and applies to every demo that offers it.
import type { DemoId } from '../../../canisters/canisters.ts';
import { pageReplica, PAGE_REPLICA_HOST } from './page-replica/client.ts';
import { pageModulesFor } from './page-replica/install.ts';
import { type DemoCanisterName, type Network, type NetworkName } from './network.ts';
import { siteNetwork } from './site-network.ts';

export type Backend = NetworkName;

export const BACKEND_LABELS: Record<Backend, string> = {
  page: 'this page',
  local: 'local replica',
  ic: 'mainnet',
};

const PREFERENCE = 'wg-demo-backend';

/** The backends this demo can run on in this build, in order of preference. */
export function availableBackends(demo: DemoId, canisters: readonly DemoCanisterName[]): Backend[] {
  const site = siteNetwork();
  const list: Backend[] = [];
  if (site.name === 'ic' && canisters.every((c) => site.canisterIds[c])) list.push('ic');
  if (site.name === 'local') list.push('local');
  if (pageModulesFor(demo, canisters).length > 0) list.push('page');
  return list;
}

export function rememberedBackend(): Backend | undefined {
  try {
    const value = localStorage.getItem(PREFERENCE);
    return value === 'page' || value === 'local' || value === 'ic' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function rememberBackend(backend: Backend): void {
  try {
    localStorage.setItem(PREFERENCE, backend);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}

export function chooseBackend(available: Backend[]): Backend | undefined {
  const remembered = rememberedBackend();
  return remembered && available.includes(remembered) ? remembered : available[0];
}

/** The network a backend stands for; the page's canister ids are filled in once installed. */
export function networkFor(backend: Backend): Network {
  const site = siteNetwork();
  if (backend !== 'page') return site;
  return {
    name: 'page',
    host: PAGE_REPLICA_HOST,
    fetchRootKey: true,
    // Sign-in: npm start's development provider when the build names one and it answers (auth.ts
    // checks); a static build knows of none and signs in with an in-page identity.
    identityProvider: site.name === 'local' ? site.identityProvider : '',
    canisterIds: {},
    fetch: pageReplica.fetch,
  };
}
