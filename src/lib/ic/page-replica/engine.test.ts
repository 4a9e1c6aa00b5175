// The page replica's engine (what its Web Worker runs) over an in-memory ReplicaStore, driven by
// @dfinity/agent through its `fetch` option as the page drives it:
//   - a reload in the middle of a multi-message call (A.incPeer(B): A waits on its callback, B's
//     request is queued) continues that call from the saved scheduler state: its status, never
//     resent, turns from processing to replied, and B counts the call once;
//   - rounds that no certificate follows (an ingress message the HTTP interface never saw) are
//     saved by the flush timer.
import { afterEach, describe, expect, it } from 'vitest';
import { Actor, Certificate, HttpAgent, lookupResultToBuffer, LookupPathStatus } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { decodeCbor, requestIdOf, type CborMap } from '@scaling-wg/replica/certification';
import type { ReplicaStore } from '@scaling-wg/replica/store';
import { counterIdl, counterWasm, deployCounter } from '../../../../replica/test/http-support.ts';
import { FLUSH_INTERVAL_MS, startPageEngine, type PageEngine } from './engine.ts';

class MemoryStore implements ReplicaStore {
  readonly data = new Map<string, Uint8Array>();
  async get(key: string) {
    return this.data.get(key);
  }
  async writeBatch(entries: Map<string, Uint8Array | undefined>) {
    for (const [k, v] of entries)
      if (v === undefined) this.data.delete(k);
      else this.data.set(k, v.slice());
  }
  async keys(prefix: string) {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async entries(prefix: string): Promise<Array<[string, Uint8Array]>> {
    return (await this.keys(prefix)).map((k) => [k, this.data.get(k)!]);
  }
  async close() {}
  /** What a reload finds: the store as it is now, unaffected by later writes. */
  copy(): MemoryStore {
    const copy = new MemoryStore();
    for (const [k, v] of this.data) copy.data.set(k, v.slice());
    return copy;
  }
}

// One thread and small rounds: a call and its reply do not fit in one round.
const limits = { instructionsPerRound: 2_000_000, executionThreads: 1 };

const engines: PageEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop().catch(() => {});
});

async function start(store: ReplicaStore): Promise<PageEngine> {
  const engine = await startPageEngine(store, { limits });
  engines.push(engine);
  return engine;
}

/** An agent whose requests go to the engine's HTTP interface, as client.ts sends them to the worker. */
function agentOn(engine: PageEngine, calls: Uint8Array[] = []): Promise<HttpAgent> {
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = new Uint8Array(await request.arrayBuffer());
    if (url.pathname.endsWith('/call')) calls.push(body);
    const reply = await engine.api.handle(request.method, url.pathname + url.search, request.headers.get('content-type') ?? undefined, body);
    const noBody = reply.status === 204 || reply.body === undefined;
    return new Response(noBody ? null : (reply.body as BodyInit), {
      status: reply.status,
      headers: reply.contentType ? { 'content-type': reply.contentType } : {},
    });
  };
  return HttpAgent.create({ host: 'http://page-replica.invalid', fetch, shouldFetchRootKey: true });
}

async function requestStatus(agent: HttpAgent, canisterId: Principal, requestId: Uint8Array): Promise<{ status: string; reply?: Uint8Array }> {
  const path = [new TextEncoder().encode('request_status'), requestId];
  const { certificate } = await agent.readState(canisterId, {
    paths: [
      [...path, new TextEncoder().encode('status')],
      [...path, new TextEncoder().encode('reply')],
    ],
  });
  const cert = await Certificate.create({ certificate, rootKey: agent.rootKey!, canisterId });
  const status = cert.lookup_path(['request_status', requestId, 'status']);
  if (status.status !== LookupPathStatus.Found) return { status: 'unknown' };
  const reply = cert.lookup_path(['request_status', requestId, 'reply']);
  return { status: new TextDecoder().decode(lookupResultToBuffer(status)), reply: lookupResultToBuffer(reply) };
}

describe('the page replica engine and its saved state', () => {
  it('continues a call that was half done when the page reloaded, from the saved scheduler state', async () => {
    const store = new MemoryStore();
    const first = await start(store);
    const calls: Uint8Array[] = [];
    const agent = await agentOn(first, calls);
    const wasm = await counterWasm();
    const a = await deployCounter(agent, 0n, wasm);
    const b = await deployCounter(agent, 100n, wasm);

    // A commit right after A's request to B is queued (A has run and waits on its callback, B has
    // not run); the reload finds the store as that commit left it. Rounds run many messages without
    // returning to the event loop, so the commit is taken from inside the scheduler, at a point
    // between two message executions, like every point the worker commits at.
    const scheduler = first.replica.scheduler as unknown as { enqueue: (canister: string, source: string, message: { kind: string }) => void };
    const enqueue = scheduler.enqueue.bind(first.replica.scheduler);
    let reloaded: Promise<MemoryStore> | undefined;
    scheduler.enqueue = (canister, source, message) => {
      enqueue(canister, source, message);
      if (!reloaded && message.kind === 'request' && canister === b.toText() && source === a.toText()) {
        reloaded = first.state.commit(first.replica.scheduler, first.replica.management, first.api.registry).then(() => store.copy());
      }
    };
    const counter = Actor.createActor<{ incPeer(p: Principal): Promise<bigint>; get(): Promise<bigint> }>(counterIdl, { agent, canisterId: a });
    expect(await counter.incPeer(b)).toBe(101n); // the first run finishes; the reload does not see it
    expect(reloaded, 'a commit while the call was half done').toBeDefined();
    const content = (decodeCbor(calls.at(-1)!) as CborMap).content as CborMap;
    const requestId = requestIdOf(content);
    await first.stop();

    const second = await start(await reloaded!);
    expect(second.restoredCanisters).toBe(2);
    const agent2 = await agentOn(second);
    // Never sent again: the restored scheduler finishes the call, and its status says so.
    let seen = await requestStatus(agent2, a, requestId);
    expect(['processing', 'replied']).toContain(seen.status);
    for (let i = 0; i < 200 && seen.status !== 'replied'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await requestStatus(agent2, a, requestId);
    }
    expect(seen.status).toBe('replied');
    expect(IDL.decode([IDL.Nat], seen.reply!)[0]).toBe(101n);
    const count = (id: Principal) => Actor.createActor<{ get(): Promise<bigint> }>(counterIdl, { agent: agent2, canisterId: id }).get();
    expect(await count(b)).toBe(101n); // B counted the call once
    expect(await count(a)).toBe(0n);
    expect(second.replica.scheduler.snapshot().callbacks).toHaveLength(0); // nothing left waiting
  });

  it('saves rounds that no certificate follows within the flush interval', async () => {
    const store = new MemoryStore();
    const first = await start(store);
    const agent = await agentOn(first);
    const a = await deployCounter(agent, 7n);
    // A message the HTTP interface never sees (as a timer's or a heartbeat's would be): no call
    // reaches beforeCertify, only a round runs.
    const reply = await first.replica.scheduler.submitIngress(a.toText(), 'inc', new Uint8Array(IDL.encode([], [])), Principal.anonymous().toUint8Array());
    expect(reply.kind).toBe('reply');
    await new Promise((resolve) => setTimeout(resolve, FLUSH_INTERVAL_MS * 2.5));
    const reload = store.copy();
    await first.stop();
    const second = await start(reload);
    const agent2 = await agentOn(second);
    expect(await Actor.createActor<{ get(): Promise<bigint> }>(counterIdl, { agent: agent2, canisterId: a }).get()).toBe(8n);
  });

  it('reads the saved state back in one request, beside the two secrets, however many canisters it holds', async () => {
    const store = new MemoryStore();
    const first = await start(store);
    const agent = await agentOn(first);
    const wasm = await counterWasm();
    const ids = [await deployCounter(agent, 1n, wasm), await deployCounter(agent, 2n, wasm)];
    await first.commit();
    await first.stop();
    const reload = store.copy();
    const reads: string[] = [];
    const counted: ReplicaStore = {
      get: (key) => (reads.push(`get ${key}`), reload.get(key)),
      keys: (prefix) => (reads.push(`keys ${prefix}`), reload.keys(prefix)),
      entries: (prefix) => (reads.push(`entries ${prefix}`), reload.entries(prefix)),
      writeBatch: (entries) => reload.writeBatch(entries),
      close: () => reload.close(),
    };
    const second = await start(counted);
    expect(second.restoredCanisters).toBe(2);
    expect(reads.sort()).toEqual(['entries ', 'get subnet/node-secret', 'get subnet/root-secret']);
    const agent2 = await agentOn(second);
    const counts = await Promise.all(ids.map((id) => Actor.createActor<{ get(): Promise<bigint> }>(counterIdl, { agent: agent2, canisterId: id }).get()));
    expect(counts).toEqual([1n, 2n]);
  });
});
