// The `/_/` endpoints a PocketIC-based local network (dfx, icp-cli) answers beside the IC's
// `/api/` routes: `/_/topology` (subnets, their canister ranges and the default effective
// canister id, which agent-js's end-to-end tests read) and `/_/dashboard` (a page listing them).
// Mounted by `npm run replica`, by the pocket-ic server's HTTP gateways and per instance.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Topology } from '../topology/topology.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import { canisterAddress } from '../gateway/canister-id.ts';

export interface UnderscoreSource {
  topology: Topology;
  scheduler: Scheduler;
  /** Node ids to list per subnet (the replica runs one node that signs for all). */
  nodeIds?: () => Uint8Array[];
}

/**
 * Answers `/_/topology` and `/_/dashboard`; returns false for any other path, and for requests
 * that address a canister (`<id>.localhost` or `?canisterId=`): those are the canister's own paths,
 * as PocketIC's gateway decides (CHANGELOG 7.0.0).
 */
export function handleUnderscore(source: UnderscoreSource, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
  if (path !== '/_/topology' && path !== '/_/dashboard') return false;
  try {
    if (canisterAddress({ host: req.headers.host }, req.url ?? '/')) return false;
  } catch {
    return false; // a malformed canister id: the gateway says what is wrong with it
  }
  const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD', 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `${path} answers GET, not ${req.method}` }));
    return true;
  }
  if (path === '/_/topology') {
    const body = JSON.stringify(topologyJson(source));
    res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  const body = dashboardHtml(source);
  res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

export function topologyJson(source: UnderscoreSource) {
  const nodes = source.nodeIds?.() ?? [];
  return source.topology.toJson(() => nodes);
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function dashboardHtml({ topology, scheduler }: UnderscoreSource): string {
  const rows = topology.subnets.map((s) => {
    const canisters = [...scheduler.canisters.values()].filter((c) => topology.subnetOf(c.principal) === s);
    const list = canisters
      .map((c) => `<li><code>${escape(c.idText)}</code> ${c.module ? 'running code' : 'empty'}, ${c.status}, ${c.balance} cycles</li>`)
      .join('');
    return `<h2>${escape(s.kind)} subnet <code>${escape(s.id.toText())}</code></h2><p>${s.size} nodes, cost schedule ${s.costSchedule}, ${canisters.length} canister${canisters.length === 1 ? '' : 's'}</p><ul>${list}</ul>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Replica dashboard</title></head><body><h1>Replica dashboard</h1><p>Time: ${new Date(Number(scheduler.clock.nowNanos() / 1_000_000n)).toISOString()}</p>${rows.join('')}</body></html>\n`;
}
