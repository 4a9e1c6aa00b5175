// The subnet behaviour through `npm run replica` and the unmodified agent: --pacing mainnet makes
// an update wait for a round and its certification while queries answer at once, a full ingress
// queue refuses calls with the IC's code, and GET /_/metrics serves the scheduler's metrics in
// the Prometheus text format.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actor, type HttpAgent } from '@dfinity/agent';
import type { Principal } from '@dfinity/principal';
import { counterIdl, deployCounter, localAgent, startReplicaProcess, type ReplicaProcess } from './http-support.ts';

const ROUND_MS = 1000;

describe('npm run replica -- --pacing mainnet', () => {
  let replica: ReplicaProcess;
  let agent: HttpAgent;
  let canisterId: Principal;
  let actor: { inc(): Promise<bigint>; get(): Promise<bigint> };

  beforeAll(async () => {
    replica = await startReplicaProcess({ log: 'normal', limits: ['queueCapacity=2'], args: ['--pacing', 'mainnet', '--round-ms', String(ROUND_MS)] });
    agent = await localAgent(replica.url);
    canisterId = await deployCounter(agent);
    actor = Actor.createActor(counterIdl, { agent, canisterId }) as unknown as typeof actor;
  }, 120_000);
  afterAll(async () => {
    await replica?.stop();
  });

  it('says which pacing runs', () => {
    expect(replica.output()).toMatch(/pacing: {3}mainnet \(a round every 1000 ms\); query cache on; metrics at \/_\/metrics/);
  });

  it('an update waits for the next round and its certification; a query answers at once', async () => {
    const before = await actor.get();
    const t = performance.now();
    expect(await actor.inc()).toBe(before + 1n);
    const update = performance.now() - t;
    expect(update).toBeGreaterThanOrEqual(ROUND_MS - 5);
    const q = performance.now();
    expect(await actor.get()).toBe(before + 1n);
    expect(performance.now() - q).toBeLessThan(ROUND_MS);
  });

  it("ingress beyond the canister's queue capacity is refused with IC0201", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        actor.inc().then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(1);
    const refused = outcomes.filter((o) => o !== 'ok');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const message of refused) expect(message).toMatch(/IC0201/);
  });

  it('GET /_/metrics answers Prometheus text with rounds, latencies, queues and the query cache', async () => {
    const res = await fetch(`${replica.url}/_/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('replica_rounds_total')).toBeGreaterThan(0);
    expect(value('replica_update_latency_seconds_count')).toBeGreaterThan(0);
    expect(value('replica_ingress_refused_total')).toBeGreaterThanOrEqual(1);
    expect(value('execution_query_cache_hits_total') + value('execution_query_cache_misses_total')).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`^replica_canister_queue_length\\{canister="${canisterId.toText()}",name="[^"]*"\\} \\d+$`, 'm'));
    expect(text).toMatch(/^# TYPE replica_round_instructions histogram$/m);
  });
});
