// The metrics the demos read from the local replica's /_/metrics.
import { describe, expect, it } from 'vitest';
import { describePacing, parseMetrics } from './replica-metrics.ts';

const sample = `# HELP replica_info The scheduler's configuration.
# TYPE replica_info gauge
replica_info{pacing="mainnet",round_ms="600",execution_threads="4"} 1
# TYPE replica_rounds_total counter
replica_rounds_total 42
execution_query_cache_hits_total 3
execution_query_cache_misses_total 5
replica_best_effort_expired_total 1
`;

describe('replica metrics', () => {
  it('reads pacing, rounds and cache counters', () => {
    expect(parseMetrics(sample)).toEqual({
      pacing: 'mainnet',
      roundMs: 600,
      threads: 4,
      rounds: 42,
      cacheHits: 3,
      cacheMisses: 5,
      bestEffortExpired: 1,
      callsRefused: undefined,
    });
  });
  it('says how the replica paces its rounds', () => {
    const local = { name: 'local', host: 'http://127.0.0.1:4943', fetchRootKey: true, identityProvider: '', canisterIds: {} } as const;
    expect(describePacing(parseMetrics(sample), local)).toBe('Pacing: mainnet-like, a round every 600 ms, replies after certification');
    expect(describePacing(undefined, local)).toBe('Pacing: this replica does not report it');
  });
});
