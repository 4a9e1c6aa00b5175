// What the local replica says about itself at GET /_/metrics (Prometheus text; see
// replica/src/scheduler/README.md): the demos read its pacing, rounds and query-cache counters.
// Mainnet has no such endpoint, so every reader here answers undefined there.
import type { Network } from '../../lib/ic/network.ts';
import { h } from './dom.ts';

export interface ReplicaMetrics {
  pacing?: string;
  roundMs?: number;
  threads?: number;
  rounds?: number;
  cacheHits?: number;
  cacheMisses?: number;
  bestEffortExpired?: number;
  callsRefused?: number;
}

/** Parses the few series the demos use out of the Prometheus text. */
export function parseMetrics(text: string): ReplicaMetrics {
  const value = (name: string): number | undefined => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const info = /^replica_info\{([^}]*)\}/m.exec(text)?.[1] ?? '';
  const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(info)?.[1];
  return {
    pacing: label('pacing'),
    roundMs: label('round_ms') ? Number(label('round_ms')) : undefined,
    threads: label('execution_threads') ? Number(label('execution_threads')) : undefined,
    rounds: value('replica_rounds_total'),
    cacheHits: value('execution_query_cache_hits_total'),
    cacheMisses: value('execution_query_cache_misses_total'),
    bestEffortExpired: value('replica_best_effort_expired_total'),
    callsRefused: value('replica_calls_refused_total'),
  };
}

/** The local or page replica's metrics, or undefined on mainnet or when the replica does not serve them. */
export async function readMetrics(network: Network): Promise<ReplicaMetrics | undefined> {
  if (network.name === 'ic') return undefined;
  try {
    // The page replica answers through its worker (network.fetch), npm start's over HTTP.
    const response = await (network.fetch ?? fetch)(`${network.host}/_/metrics`, { cache: 'no-store' });
    if (!response.ok) return undefined;
    return parseMetrics(await response.text());
  } catch {
    return undefined;
  }
}

/** One line for people: how this replica paces its rounds. */
export function describePacing(metrics: ReplicaMetrics | undefined, network: Network): string {
  if (network.name === 'ic') return 'Pacing: Internet Computer mainnet (a round about every 600 ms to 1 s)';
  if (!metrics?.pacing) return 'Pacing: this replica does not report it';
  return metrics.pacing === 'mainnet'
    ? `Pacing: mainnet-like, a round every ${metrics.roundMs ?? 600} ms, replies after certification`
    : 'Pacing: instant, a round as soon as a message waits (far faster than mainnet)';
}

/** That line as a demo shows it, with the pacing in data-pacing. */
export function pacingNote(metrics: ReplicaMetrics | undefined, network: Network): HTMLParagraphElement {
  return h('p', { class: 'wg-card__sub', 'data-pacing': metrics?.pacing ?? 'unknown' }, describePacing(metrics, network));
}
