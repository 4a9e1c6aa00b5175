// Which Internet Computer network the demos talk to, decided when the site is built or served.
//
//   local  the replica started by `npm start` (scripts/start.ts). The start script hands the
//          site the host, the dev identity provider and the canister ids it deployed through
//          PUBLIC_WG_* environment variables (Vite inlines PUBLIC_* into the browser bundle).
//          Root key policy: fetched from the replica's /api/v2/status, as every local agent
//          does; a local replica's key is made up when its state directory is created.
//   ic     mainnet: the ids come from canister_ids.json (dfx's file, written by
//          `npm run deploy -- --network ic`) at build time, the root key is the IC's own
//          (built into @dfinity/agent, never fetched) and sign-in goes to Internet Identity.
//   page   the replica in the reader's own tab (page-replica/): the same engine in a Web Worker,
//          reached through the agent's `fetch`; its root key is read from its /api/v2/status like
//          a local replica's. Which of the three a demo uses: backend.ts.
//
// Nothing here imports the replica: the browser only speaks the IC's public HTTP interface.

/** The canisters a demo page may call directly (bucket and partition ids are discovered at run time). */
export const DEMO_CANISTERS = [
  'lab',
  'stable-memory-classic',
  'stable-memory-region',
  'stable-memory-eop',
  'composite-front',
  'sharding-index',
  'serialization-formats',
  'snapshot-target',
  'install-target',
  'optimistic-notes',
  'queue-producer',
  'queue-consumer',
  'bounded-caller',
  'slow-callee',
  'cached-query',
  'scaling-front',
] as const;
export type DemoCanisterName = (typeof DEMO_CANISTERS)[number];

export type NetworkName = 'local' | 'ic' | 'page';

export interface Network {
  name: NetworkName;
  /** Where the agent sends its requests. */
  host: string;
  /** Local replicas make up their root key; mainnet's is built into the agent and must never be fetched. */
  fetchRootKey: boolean;
  /** Where auth-client opens its sign-in window. */
  identityProvider: string;
  /** Canister ids by dfx.json name; a missing id means that demo is not deployed on this network. */
  canisterIds: Partial<Record<DemoCanisterName, string>>;
  /** How the agent sends requests, when not through the network (the page replica's worker). */
  fetch?: typeof fetch;
}

export const MAINNET_HOST = 'https://icp-api.io';
export const INTERNET_IDENTITY = 'https://identity.internetcomputer.org';
export const LOCAL_HOST = 'http://127.0.0.1:4943';

/** The variables scripts/start.ts (and `npm run deploy -- --network local`) set for the site. */
export interface NetworkEnv {
  PUBLIC_WG_NETWORK?: string;
  PUBLIC_WG_HOST?: string;
  /** JSON object: { "<dfx name>": "<canister id>" }. */
  PUBLIC_WG_CANISTER_IDS?: string;
  PUBLIC_WG_IDENTITY_PROVIDER?: string;
}

/** dfx's canister_ids.json: { "<name>": { "<network>": "<id>" } }. */
export type CanisterIdsFile = Record<string, Record<string, string>>;

export class NetworkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkConfigError';
  }
}

function pickKnown(ids: Record<string, unknown>, source: string): Partial<Record<DemoCanisterName, string>> {
  const picked: Partial<Record<DemoCanisterName, string>> = {};
  for (const name of DEMO_CANISTERS) {
    const id = ids[name];
    if (id === undefined) continue;
    if (typeof id !== 'string' || !/^[a-z0-9]{5}(-[a-z0-9]{1,5})+$/.test(id)) {
      throw new NetworkConfigError(`${source}: "${name}" should be a canister id like rrkah-fqaaa-aaaaa-aaaaq-cai, got ${JSON.stringify(id)}`);
    }
    picked[name] = id;
  }
  return picked;
}

/** PUBLIC_WG_CANISTER_IDS parsed, or undefined when unset; `writer` is the script that sets it. */
function idsFromEnv(env: NetworkEnv, writer: string): Record<string, unknown> | undefined {
  if (!env.PUBLIC_WG_CANISTER_IDS) return undefined;
  try {
    return JSON.parse(env.PUBLIC_WG_CANISTER_IDS);
  } catch (error) {
    throw new NetworkConfigError(`PUBLIC_WG_CANISTER_IDS is not JSON (${(error as Error).message}); ${writer} writes it`);
  }
}

/**
 * Resolves the network from the build's environment. Pure, so Node tests and the browser agree.
 * Without PUBLIC_WG_NETWORK the site targets mainnet (a plain `npm run build` is the production site).
 */
export function resolveNetwork(env: NetworkEnv, canisterIdsFile?: CanisterIdsFile): Network {
  const name = env.PUBLIC_WG_NETWORK || 'ic';
  if (name === 'local') {
    return {
      name: 'local',
      host: env.PUBLIC_WG_HOST || LOCAL_HOST,
      fetchRootKey: true,
      // The dev identity provider is served by scripts/start.ts on its own origin (see scripts/dev-identity/).
      identityProvider: env.PUBLIC_WG_IDENTITY_PROVIDER || 'http://127.0.0.1:4944/',
      canisterIds: pickKnown(idsFromEnv(env, 'scripts/start.ts') ?? {}, 'PUBLIC_WG_CANISTER_IDS'),
    };
  }
  if (name === 'ic') {
    // `npm run deploy -- --network ic` passes the ids it deploys to (its --canister-ids file);
    // a plain build reads the repository's canister_ids.json.
    const passed = idsFromEnv(env, 'scripts/deploy.ts');
    const fromFile: Record<string, unknown> = {};
    for (const [canister, byNetwork] of Object.entries(canisterIdsFile ?? {})) {
      if (byNetwork && typeof byNetwork === 'object' && 'ic' in byNetwork) fromFile[canister] = byNetwork.ic;
    }
    return {
      name: 'ic',
      host: env.PUBLIC_WG_HOST || MAINNET_HOST,
      fetchRootKey: false,
      identityProvider: env.PUBLIC_WG_IDENTITY_PROVIDER || INTERNET_IDENTITY,
      canisterIds: passed !== undefined ? pickKnown(passed, 'PUBLIC_WG_CANISTER_IDS') : pickKnown(fromFile, 'canister_ids.json'),
    };
  }
  throw new NetworkConfigError(`PUBLIC_WG_NETWORK must be "local" or "ic", got "${name}"`);
}

/** A short label for people: "local replica at http://127.0.0.1:4943" / "Internet Computer mainnet". */
export function describeNetwork(network: Network): string {
  if (network.name === 'page') return 'replica in this page';
  return network.name === 'local' ? `local replica at ${network.host}` : 'Internet Computer mainnet';
}
