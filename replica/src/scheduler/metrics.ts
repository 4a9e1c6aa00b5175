// What a performance engineer watches on this replica, counted by the scheduler and the query
// cache and rendered in the Prometheus text exposition format (served at /_/metrics). Names
// follow the IC's own metrics where one exists (execution_query_cache_*, executions_aborted).

/** Latency buckets in seconds (Prometheus's defaults, which span a local call to a mainnet round). */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Instructions-per-round buckets, up to the round limit of 7 billion and beyond. */
export const ROUND_INSTRUCTION_BUCKETS = [1e6, 1e7, 1e8, 5e8, 1e9, 2e9, 4e9, 7e9, 1e10, 2.8e10];

export class Histogram {
  readonly buckets: number[];
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(buckets: number[]) {
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.counts[i]++;
  }
  render(name: string, help: string, labels = ''): string[] {
    const l = (extra: string) => `{${[labels, extra].filter(Boolean).join(',')}}`;
    const out = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.buckets.forEach((b, i) => out.push(`${name}_bucket${l(`le="${b}"`)} ${this.counts[i]}`));
    out.push(`${name}_bucket${l('le="+Inf"')} ${this.count}`);
    out.push(`${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`);
    out.push(`${name}_count${labels ? `{${labels}}` : ''} ${this.count}`);
    return out;
  }
}

export class SchedulerMetrics {
  rounds = 0;
  roundInstructions = new Histogram(ROUND_INSTRUCTION_BUCKETS);
  /** Instructions executed per canister (replicated executions), by text id. */
  canisterInstructions = new Map<string, bigint>();
  messagesExecuted = 0;
  slicesExecuted = 0;
  /** Paused executions aborted at the end of a round because more than MAX_PAUSED_EXECUTIONS were paused. */
  executionsAborted = 0;
  /** Best-effort calls whose deadline passed before a response: the caller got SYS_UNKNOWN. */
  bestEffortExpired = 0;
  /** Responses that arrived after their call's deadline had passed: dropped. */
  bestEffortLateResponsesDropped = 0;
  /** Best-effort requests dropped from a queue because their deadline passed before they ran. */
  bestEffortRequestsExpired = 0;
  /** Best-effort messages shed at the end of a round to get back within the best-effort message memory, and their bytes. */
  bestEffortMessagesShed = 0;
  bestEffortBytesShed = 0;
  /** Calls ic0.call_perform refused (queue full or out of callbacks). */
  callsRefused = 0;
  /** Ingress messages refused because the canister's queue was full. */
  ingressRefused = 0;
  cacheHits = 0;
  cacheMisses = 0;
  cacheEvictions = 0;
  cacheInvalidations = 0;
  updateLatency = new Histogram(LATENCY_BUCKETS_SECONDS);
  queryLatency = new Histogram(LATENCY_BUCKETS_SECONDS);

  addInstructions(canister: string, n: bigint): void {
    this.canisterInstructions.set(canister, (this.canisterInstructions.get(canister) ?? 0n) + n);
  }
}

export interface MetricsGauges {
  pacing: string;
  roundMs: number;
  threads: number;
  queueLengths: Array<{ canister: string; name: string; length: number }>;
  callbacks: number;
  /** Guaranteed-response message memory the subnet's calls in flight hold (limits.ts guaranteedResponseMessageMemoryBytes). */
  guaranteedMessageBytes: number;
  /** Bytes of the best-effort messages in the canisters' queues (limits.ts bestEffortMessageMemoryBytes). */
  bestEffortMessageBytes: number;
  pausedExecutions: number;
  cacheBytes: number;
  cacheEntries: number;
  canisterNames: Map<string, string>;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(m: SchedulerMetrics, g: MetricsGauges): string {
  const out: string[] = [];
  const counter = (name: string, help: string, value: number | bigint) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
  const gauge = (name: string, help: string, value: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
  out.push(
    "# HELP replica_info The scheduler's configuration.",
    '# TYPE replica_info gauge',
    `replica_info{pacing="${g.pacing}",round_ms="${g.roundMs}",execution_threads="${g.threads}"} 1`,
  );
  counter('replica_rounds_total', 'Execution rounds run.', m.rounds);
  out.push(...m.roundInstructions.render('replica_round_instructions', 'Instructions executed per round (the busiest thread of each iteration, summed).'));
  counter('replica_messages_executed_total', 'Messages executed (updates, callbacks, heartbeats, timers).', m.messagesExecuted);
  counter('replica_dts_slices_total', 'Slices of messages that ran longer than one slice (deterministic time slicing).', m.slicesExecuted);
  // The IC's name and help text (rs/execution_environment's metrics, `executions_aborted`).
  counter('executions_aborted', 'Total number of aborted executions', m.executionsAborted);
  out.push(
    '# HELP replica_canister_instructions_total Instructions executed by each canister in replicated mode.',
    '# TYPE replica_canister_instructions_total counter',
  );
  for (const [id, n] of m.canisterInstructions)
    out.push(`replica_canister_instructions_total{canister="${id}",name="${esc(g.canisterNames.get(id) ?? id)}"} ${n}`);
  out.push("# HELP replica_canister_queue_length Messages waiting in a canister's input queues.", '# TYPE replica_canister_queue_length gauge');
  for (const q of g.queueLengths) out.push(`replica_canister_queue_length{canister="${q.canister}",name="${esc(q.name)}"} ${q.length}`);
  gauge('replica_callbacks', 'Callbacks waiting for a response on the subnet.', g.callbacks);
  gauge(
    'replica_guaranteed_response_message_memory_bytes',
    'Guaranteed-response message memory held by calls in flight (each reserves room for the largest response).',
    g.guaranteedMessageBytes,
  );
  gauge(
    'replica_best_effort_message_memory_bytes',
    "Bytes of best-effort requests and responses waiting in canisters' queues (method name and argument, or reply or reject payload).",
    g.bestEffortMessageBytes,
  );
  gauge('replica_paused_executions', 'Messages paused between slices.', g.pausedExecutions);
  counter('replica_calls_refused_total', 'Calls ic0.call_perform could not enqueue (queue full, callback limit or message memory).', m.callsRefused);
  counter('replica_ingress_refused_total', "Ingress messages refused because the canister's queue was full.", m.ingressRefused);
  counter('replica_best_effort_expired_total', 'Best-effort calls answered SYS_UNKNOWN because their deadline passed.', m.bestEffortExpired);
  counter(
    'replica_best_effort_late_responses_dropped_total',
    'Responses dropped because they arrived after their best-effort deadline.',
    m.bestEffortLateResponsesDropped,
  );
  counter(
    'replica_best_effort_messages_shed_total',
    "Best-effort messages shed (largest first) at the end of a round to keep the subnet's best-effort message memory within its limit.",
    m.bestEffortMessagesShed,
  );
  counter('replica_best_effort_message_bytes_shed_total', 'Bytes of the best-effort messages shed.', m.bestEffortBytesShed);
  counter(
    'replica_best_effort_requests_expired_total',
    'Best-effort requests dropped from a queue because their deadline passed.',
    m.bestEffortRequestsExpired,
  );
  counter('execution_query_cache_hits_total', 'Query cache hits.', m.cacheHits);
  counter('execution_query_cache_misses_total', 'Query cache misses.', m.cacheMisses);
  counter('execution_query_cache_evicted_entries_total', 'Query cache entries evicted to stay within the capacity.', m.cacheEvictions);
  counter('execution_query_cache_invalidated_entries_total', 'Query cache entries found stale (state, time, balance or expiry).', m.cacheInvalidations);
  gauge('execution_query_cache_count_bytes', 'Bytes held by the query cache.', g.cacheBytes);
  gauge('execution_query_cache_len', 'Entries in the query cache.', g.cacheEntries);
  out.push(...m.updateLatency.render('replica_update_latency_seconds', "From an ingress message's submission to its response being released."));
  out.push(...m.queryLatency.render('replica_query_latency_seconds', 'Time to answer a query call (cache hits included).'));
  return out.join('\n') + '\n';
}
