// The one agent factory for the browser (one way to do a thing). Every demo gets its
// HttpAgent here, so the root key policy, the host and the identity are decided in one place.
// @dfinity/agent 3.4.3, default settings: query signatures verified, certificates checked.
import { HttpAgent, type Identity } from '@dfinity/agent';
import type { Network } from './network.ts';

const agents = new Map<string, Promise<HttpAgent>>();

function cacheKey(network: Network, identity: Identity | undefined): string {
  return `${network.name} ${network.host} ${identity ? identity.getPrincipal().toText() : 'anonymous'}`;
}

/**
 * An agent for `network`, signing as `identity` (anonymous when omitted). Agents are shared per
 * network and principal; a failed creation (e.g. the local replica is down while the root key is
 * fetched) is forgotten, so "Retry" really tries again.
 */
export function agentFor(network: Network, identity?: Identity): Promise<HttpAgent> {
  const key = cacheKey(network, identity);
  let agent = agents.get(key);
  if (!agent) {
    agent = HttpAgent.create({
      host: network.host,
      ...(identity ? { identity } : {}),
      // Local replicas make up their root key, so it is read from /api/v2/status; on mainnet the
      // agent's built-in IC root key is the only one to trust, and fetching it would defeat that.
      shouldFetchRootKey: network.fetchRootKey,
      // The page replica: requests go to its Web Worker, and certificates are checked as usual
      // against the root key it reports.
      ...(network.fetch ? { fetch: network.fetch } : {}),
    });
    agents.set(key, agent);
    agent.catch(() => {
      if (agents.get(key) === agent) agents.delete(key);
    });
  }
  return agent;
}

/** Drops cached agents (after sign-out, or when a retry should start from nothing). */
export function forgetAgents(): void {
  agents.clear();
}
