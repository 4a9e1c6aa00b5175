// The replica-side query cache, as the IC keeps it (dfinity/ic
// rs/execution_environment/src/query_handler/query_cache.rs). The key is (caller, canister,
// method, argument). An entry remembers the time of the evaluation and the version and cycles
// balance of every canister the query evaluated (composite queries evaluate several); it stays
// valid while
//   - no evaluated canister has executed a replicated message or changed its code since,
//   - the time is unchanged, or the query never read it (ic0.time),
//   - the balances are unchanged, or the query never read them (ic0.canister_cycle_balance*),
//   - it is younger than the maximum expiry (600 s), or 60 s if it read the data certificate.
// Errors are not cached; a canister's own reject is. Entries beyond the capacity (200 MiB of keys
// and values) are evicted least recently used first. A hit executes nothing: 0 instructions.
import type { Canister } from '../execution/canister.ts';
import type { Limits } from '../limits.ts';
import { formatDuration } from '../log.ts';
import type { CallResponse } from '../ic/call-outcome.ts';
import { RejectCode } from '../ic/reject-codes.ts';
import type { SchedulerMetrics } from './metrics.ts';
import { evaluateQuery, type QueryHost } from './query.ts';
import type { Clock } from './clock.ts';

/** What the cache needs of the scheduler beyond evaluating a query (the Scheduler passes itself). */
export interface QueryCacheHost extends QueryHost {
  readonly clock: Clock;
  callerName(caller: Uint8Array): string;
  /** Runs `evaluate` noting in `observation` what it reads and which canisters it evaluates. */
  observeQuery<T>(observation: QueryObservation, evaluate: () => T): T;
}

/** What a query's evaluation read, collected through MessageContext.observed. */
export interface QueryObservation {
  time: boolean;
  balance: boolean;
  certificate: boolean;
  canisters: Set<string>;
}

interface Entry {
  response: CallResponse;
  time: bigint;
  canisters: Array<{ id: string; version: bigint; changes: number; instance: number; balance: bigint }>;
  readsTime: boolean;
  readsBalance: boolean;
  readsCertificate: boolean;
  bytes: number;
}

/** Bytes an entry is counted for besides its key and result (the IC counts size_of its structs too). */
const ENTRY_OVERHEAD_BYTES = 200;

const latin1 = new TextDecoder('latin1');

export class QueryCache {
  private entries = new Map<string, Entry>();
  bytes = 0;
  /** Replicated executions per canister: the cache's notion of "the canister's state changed". */
  private readonly changes = new WeakMap<Canister, number>();
  /** A number per Wasm instance: a snapshot load or reinstall replaces the instance, which invalidates entries too. */
  private readonly instances = new WeakMap<object, number>();
  private nextInstance = 1;

  private instanceId(canister: Canister): number {
    const instance = canister.instance;
    if (!instance) return 0;
    let id = this.instances.get(instance);
    if (id === undefined) {
      id = this.nextInstance++;
      this.instances.set(instance, id);
    }
    return id;
  }

  private readonly limits: Limits;
  private readonly metrics: SchedulerMetrics;

  constructor(limits: Limits, metrics: SchedulerMetrics) {
    this.limits = limits;
    this.metrics = metrics;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Called by the scheduler after every replicated execution that kept its changes. */
  noteChange(canister: Canister): void {
    this.changes.set(canister, (this.changes.get(canister) ?? 0) + 1);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  answer(s: QueryCacheHost, canisterId: string, method: string, arg: Uint8Array, caller: Uint8Array): CallResponse {
    const key = `${latin1.decode(caller)}\u0000${canisterId}\u0000${method}\u0000${latin1.decode(arg)}`;
    const now = s.clock.nowNanos();
    const hit = this.entries.get(key);
    if (hit) {
      if (this.valid(s, hit, now)) {
        this.metrics.cacheHits++;
        // Least recently used goes first: move the entry to the end.
        this.entries.delete(key);
        this.entries.set(key, hit);
        const c = s.canisters.get(canisterId);
        if (c) {
          // canister_status's query_stats count the queries answered, a hit too (with 0 instructions).
          c.queryStats.calls += 1n;
          c.queryStats.requestBytes += BigInt(arg.length);
          c.queryStats.responseBytes += BigInt(hit.response.kind === 'reply' ? hit.response.data.length : hit.response.message.length);
        }
        const size = hit.response.kind === 'reply' ? `${hit.response.data.length} bytes` : 'reject';
        s.log.emit({
          kind: 'message',
          level: 'normal',
          text: `${c?.name ?? canisterId}.${method} (${s.callerName(caller)}) -> query cache hit (${size}) ${formatDuration(0)}, 0 instr`,
        });
        return hit.response;
      }
      this.metrics.cacheInvalidations++;
      this.remove(key, hit);
    }
    this.metrics.cacheMisses++;
    const observation: QueryObservation = { time: false, balance: false, certificate: false, canisters: new Set() };
    const response = s.observeQuery(observation, () => evaluateQuery(s, canisterId, method, arg, caller));
    const cacheable = response.kind === 'reply' || (response.errorCode === undefined && response.code === RejectCode.CANISTER_REJECT);
    if (!cacheable || observation.canisters.size === 0) return response;
    const canisters: Entry['canisters'] = [];
    for (const id of observation.canisters) {
      const c = s.canisters.get(id);
      if (!c) return response;
      canisters.push({ id, version: c.version, changes: this.changes.get(c) ?? 0, instance: this.instanceId(c), balance: c.balance });
    }
    const resultBytes = response.kind === 'reply' ? response.data.length : response.message.length;
    const entry: Entry = {
      response,
      time: now,
      canisters,
      readsTime: observation.time,
      readsBalance: observation.balance,
      readsCertificate: observation.certificate,
      bytes: key.length + resultBytes + ENTRY_OVERHEAD_BYTES,
    };
    if (entry.bytes > this.limits.queryCacheBytes) return response;
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.limits.queryCacheBytes) break;
      this.remove(k, e);
      this.metrics.cacheEvictions++;
    }
    return response;
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private valid(s: QueryCacheHost, e: Entry, now: bigint): boolean {
    const age = now - e.time;
    if (age > BigInt(this.limits.queryCacheMaxExpirySeconds) * 1_000_000_000n) return false;
    if (e.readsCertificate && age > BigInt(this.limits.queryCacheDataCertificateExpirySeconds) * 1_000_000_000n) return false;
    if (e.readsTime && now !== e.time) return false;
    for (const c of e.canisters) {
      const canister = s.canisters.get(c.id);
      if (
        !canister ||
        canister.status === 'stopped' ||
        canister.version !== c.version ||
        (this.changes.get(canister) ?? 0) !== c.changes ||
        this.instanceId(canister) !== c.instance
      )
        return false;
      if (e.readsBalance && canister.balance !== c.balance) return false;
    }
    return true;
  }
}
