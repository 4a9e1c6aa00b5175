// The replica behaves like a subnet: rounds and threads, round-robin fairness, canister-pair
// queues and callback limits, best-effort calls and their deadlines, deterministic time slicing,
// the query cache and mainnet pacing. Each scenario is named by the behaviour it pins; the
// figures are the IC's (limits.ts, scheduler/config.ts), lowered where a test needs to reach one.
import { beforeAll, describe, expect, it } from 'vitest';
import { Principal } from '@dfinity/principal';
import { IDL } from '@dfinity/candid';
import { CanisterRejectError, ErrorCode, Replica, type Limits } from '../src/index.ts';
import type { CallResponse } from '../src/ic/call-outcome.ts';
import { createReplica, motokoFixture, type Fixture } from './fixtures/build.ts';

interface SubnetActor {
  inc(): Promise<bigint>;
  get(): Promise<bigint>;
  now(): Promise<bigint>;
  balance(): Promise<bigint>;
  echo(n: bigint): Promise<bigint>;
  fanOut(target: Principal, n: bigint): Promise<[bigint, bigint, string]>;
  fanOutBounded(target: Principal, n: bigint, timeout: bigint): Promise<[bigint, bigint, string]>;
  sendBytes(target: Principal, n: bigint): Promise<bigint>;
  boundedCall(target: Principal, ms: bigint, timeout: bigint): Promise<[string, [] | [bigint], [] | [bigint]]>;
  slow(ms: bigint): Promise<[] | [bigint]>;
  slowDoneCount(): Promise<bigint>;
  burn(n: bigint): Promise<bigint>;
  take(b: Uint8Array): Promise<bigint>;
  incThenBurn(target: Principal, n: bigint): Promise<bigint>;
}

let subnet: Fixture;
beforeAll(async () => {
  subnet = await motokoFixture('subnet');
}, 180_000);

async function replicaWith(
  options: { limits?: Partial<Limits>; lines?: string[]; time?: Date; pacing?: 'instant' | 'mainnet'; roundMs?: number; queryCache?: boolean } = {},
) {
  const lines = options.lines;
  return createReplica({
    log: lines ? 'verbose' : 'quiet',
    onLog: lines ? (line) => lines.push(line) : undefined,
    limits: options.limits,
    time: options.time,
    seed: 7,
    pacing: options.pacing,
    roundMs: options.roundMs,
    queryCache: options.queryCache,
  });
}

const setup = (pic: Replica, name: string) => pic.setupCanister<SubnetActor>({ idlFactory: subnet.idlFactory, wasm: subnet.wasm, name });

function metric(pic: Replica, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(pic.metrics());
  if (!m) throw new Error(`metric ${name} not found in:\n${pic.metrics()}`);
  return Number(m[1]);
}

describe('rounds and threads', () => {
  it('with one thread and room for one message per round, canisters with work take turns (round-robin)', async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { executionThreads: 1, instructionsPerRound: 1 }, time: new Date('2026-01-01') });
    const names = ['a', 'b', 'c'];
    const actors = await Promise.all(names.map((n) => setup(pic, n)));
    lines.length = 0;
    const before = pic.rounds();
    const calls: Promise<bigint>[] = [];
    // Each canister gets three updates, all submitted before any round runs.
    for (let k = 0; k < 3; k++) for (const { actor } of actors) calls.push(actor.inc());
    expect(await Promise.all(calls)).toEqual([1n, 1n, 1n, 2n, 2n, 2n, 3n, 3n, 3n]);
    const order = lines.filter((l) => /^[abc]\.inc /.test(l)).map((l) => l[0]);
    expect(order).toHaveLength(9);
    // One message per round, and no canister runs twice before the others had their turn.
    for (let i = 0; i + 3 <= order.length; i += 3) expect(new Set(order.slice(i, i + 3)).size).toBe(3);
    expect(pic.rounds() - before).toBeGreaterThanOrEqual(9);
    await pic.tearDown();
  });

  it('a call and its response complete within one round when the round has room', async () => {
    const pic = await replicaWith({ time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const before = pic.rounds();
    expect(await a.actor.fanOut(b.canisterId, 3n)).toEqual([3n, 0n, '']);
    expect(pic.rounds() - before).toBe(1);
    expect(metric(pic, 'replica_messages_executed_total')).toBeGreaterThan(0);
    await pic.tearDown();
  });
});

describe('queues and backpressure', () => {
  it('call_perform fails with SYS_TRANSIENT once the canister-pair queue is full, and the callee gets only what fit', async () => {
    const pic = await replicaWith({ limits: { queueCapacity: 3 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const c = await setup(pic, 'c');
    const [sent, refused, error] = await a.actor.fanOut(b.canisterId, 5n);
    expect([sent, refused]).toEqual([3n, 2n]);
    expect(error).toMatch(/system_transient|call_error.*2/);
    expect(await b.actor.get()).toBe(3n);
    // The capacity is per pair of canisters: another callee has its own queue.
    expect(await a.actor.fanOut(c.canisterId, 3n)).toEqual([3n, 0n, '']);
    expect(metric(pic, 'replica_calls_refused_total')).toBe(2);
    await pic.tearDown();
  });

  it('a canister out of callbacks (its quota, with the subnet past its soft limit) cannot make more calls', async () => {
    const pic = await replicaWith({ limits: { canisterCallbackQuota: 2, subnetCallbackSoftLimit: 2 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const [sent, refused] = await a.actor.fanOut(b.canisterId, 4n);
    expect([sent, refused]).toEqual([2n, 2n]);
    await pic.tearDown();
  });

  it("a guaranteed-response call that does not fit in the subnet's message memory fails with SYS_TRANSIENT; best-effort calls hold none of it", async () => {
    // Each guaranteed-response call in flight reserves room for the largest response (2 MiB):
    // 5 MiB hold two of them.
    const pic = await replicaWith({ limits: { guaranteedResponseMessageMemoryBytes: 5 * 1024 * 1024 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const [sent, refused, error] = await a.actor.fanOut(b.canisterId, 4n);
    expect([sent, refused]).toEqual([2n, 2n]);
    expect(error).toMatch(/system_transient|call_error.*2/);
    expect(await b.actor.get()).toBe(2n);
    expect(metric(pic, 'replica_calls_refused_total')).toBe(2);
    // The reservations are released with the responses.
    expect(metric(pic, 'replica_guaranteed_response_message_memory_bytes')).toBe(0);
    expect(await a.actor.fanOutBounded(b.canisterId, 4n, 60n)).toEqual([4n, 0n, '']);
    expect(await b.actor.get()).toBe(6n);
    await pic.tearDown();
  });

  it('a request larger than the same-subnet limit traps in ic0.call_data_append with IC0504', async () => {
    const pic = await replicaWith({ limits: { maxRequestBytes: 1000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    expect(await a.actor.sendBytes(b.canisterId, 900n)).toBe(900n);
    const error = await a.actor.sendBytes(b.canisterId, 1000n).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CanisterRejectError);
    const reject = error as CanisterRejectError;
    expect(reject.errorCode).toBe(ErrorCode.CanisterContractViolation);
    expect(reject.message).toMatch(new RegExp(`Request to ${b.canisterId.toText()}:take has a payload size of \\d+, which exceeds the allowed limit of 1000`));
    await pic.tearDown();
  });

  it('ingress to a canister whose queue is full is refused with IC0201 (SYS_TRANSIENT)', async () => {
    const pic = await replicaWith({ limits: { queueCapacity: 2 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        a.actor.inc().then(
          (v) => v,
          (e: unknown) => e,
        ),
      ),
    );
    const refused = outcomes.filter((o): o is CanisterRejectError => o instanceof CanisterRejectError);
    expect(outcomes.filter((o) => typeof o === 'bigint')).toEqual([1n, 2n]);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.errorCode).toBe(ErrorCode.CanisterQueueFull);
      expect(r.rejectCode).toBe(2);
    }
    // Once the queue drained, the canister takes ingress again.
    expect(await a.actor.inc()).toBe(3n);
    expect(metric(pic, 'replica_ingress_refused_total')).toBe(3);
    await pic.tearDown();
  });
});

describe('best-effort calls', () => {
  it("msg_deadline: the callee and the caller's callback see the call's deadline; ingress has none", async () => {
    const pic = await replicaWith({ time: new Date('2026-01-01T00:00:00Z') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const now = BigInt(pic.getTime()) * 1_000_000n;
    const [outcome, calleeSaw, callerSaw] = await a.actor.boundedCall(b.canisterId, 0n, 5n);
    expect(outcome).toBe('replied');
    expect(calleeSaw).toEqual([now + 5_000_000_000n]);
    expect(callerSaw).toEqual([now + 5_000_000_000n]);
    // The timeout is capped at MAX_CALL_TIMEOUT_SECONDS (300).
    const [, capped] = await a.actor.boundedCall(b.canisterId, 0n, 100_000n);
    expect(capped).toEqual([now + 300_000_000_000n]);
    expect(await b.actor.slow(0n)).toEqual([]);
    await pic.tearDown();
  });

  async function until(what: string, condition: () => Promise<boolean> | boolean) {
    for (let i = 0; i < 600; i++) {
      if (await condition()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${what} did not happen within 30 s`);
  }

  /** Waits (bounded) until `canister` holds a callback: the callee awaits itself, i.e. it is at work. */
  async function atWork(pic: Replica, canister: Principal) {
    for (let i = 0; i < 500; i++) {
      const state = pic.scheduler.snapshot();
      if (state.callbacks.some((c) => c.canister === canister.toText())) return state;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${canister.toText()} did not start working within 5 s`);
  }

  // Replica time is frozen and moved by the test: the callee (slow) awaits itself round after
  // round until the round's time reaches its end, so what happens depends on time alone, not on
  // the machine's speed. Short rounds (100M instructions) let the test's time steps in quickly.
  it('a best-effort call to a slow callee times out with SYS_UNKNOWN and the late reply is dropped', async () => {
    const pic = await replicaWith({ limits: { instructionsPerRound: 100_000_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const call = a.actor.boundedCall(b.canisterId, 5000n, 1n);
    await atWork(pic, b.canisterId);
    await pic.advanceTime(2000); // past the 1 s deadline, short of the callee's 5 s
    const [outcome, calleeSaw] = await call;
    expect(outcome).toMatch(/system_unknown|#future 6/);
    expect(outcome).toMatch(/Call deadline has expired\./);
    expect(calleeSaw).toEqual([]);
    // The caller has its answer while the callee is still at work.
    expect(await b.actor.slowDoneCount()).toBe(0n);
    expect(metric(pic, 'replica_best_effort_expired_total')).toBe(1);
    await pic.advanceTime(4000);
    await until('the callee finishing', async () => (await b.actor.slowDoneCount()) === 1n);
    await pic.scheduler.settle();
    // Its reply found no callback.
    expect(metric(pic, 'replica_best_effort_late_responses_dropped_total')).toBe(1);
    await pic.tearDown();
  }, 60_000);

  it('a best-effort request whose deadline passes while it waits in the queue is dropped; the caller gets SYS_UNKNOWN', async () => {
    // b is busy with a long time-sliced update (one slice per round, hundreds of rounds), so the
    // request from a waits in b's queue while time moves past its deadline.
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerSlice: 100_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    lines.length = 0;
    const long = b.actor.burn(100_000n);
    const call = a.actor.boundedCall(b.canisterId, 0n, 1n);
    for (let i = 0; i < 100_000 && !pic.scheduler.snapshot().callbacks.some((c) => c.deadline > 0n); i++) await new Promise((r) => setImmediate(r));
    await pic.advanceTime(2000);
    const [outcome] = await call;
    await long;
    // The request is dropped when b turns to its queue again, after the burn's last slice.
    await pic.scheduler.settle();
    expect(outcome).toMatch(/Call deadline has expired\./);
    expect(lines.some((l) => /^b\.slow \(a\) -> dropped: its best-effort deadline passed in the queue$/.test(l))).toBe(true);
    expect(metric(pic, 'replica_best_effort_requests_expired_total')).toBe(1);
    expect(await b.actor.slowDoneCount()).toBe(0n);
    await pic.tearDown();
  }, 60_000);

  it("best-effort requests beyond the subnet's best-effort message memory are shed at the end of a round, largest and latest first; their callers time out with SYS_UNKNOWN", async () => {
    // b is busy with a long time-sliced update, so a's best-effort requests wait in its queue.
    // Each request holds its method name and argument: "slow" (4 bytes) and the Candid nat 0
    // (DIDL, no types, one nat: 8 bytes). Three of them hold 36 bytes; the limit is 30.
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerSlice: 100_000, bestEffortMessageMemoryBytes: 30 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    lines.length = 0;
    const long = b.actor.burn(100_000n);
    const calls = [0, 1, 2].map(() => a.actor.boundedCall(b.canisterId, 0n, 60n));
    for (let i = 0; i < 100_000 && pic.scheduler.snapshot().callbacks.filter((c) => c.deadline > 0n).length < 3; i++) await new Promise((r) => setImmediate(r));
    await until('a request shed', () => metric(pic, 'replica_best_effort_messages_shed_total') === 1);
    expect(metric(pic, 'replica_best_effort_message_bytes_shed_total')).toBe(12);
    expect(
      lines.filter((l) =>
        /^b\.slow \(a\) -> shed: best-effort request of 12 bytes dropped from the queue \(best-effort message memory 36 bytes, limit 30\)$/.test(l),
      ),
    ).toHaveLength(1);
    await long;
    // The two requests that stayed are answered once b is free; the shed one never reaches b,
    // and its caller hears SYS_UNKNOWN when the deadline passes.
    await until('two answers', async () => (await b.actor.slowDoneCount()) === 2n);
    await pic.advanceTime(61_000);
    const outcomes = (await Promise.all(calls)).map(([outcome]) => outcome);
    expect(outcomes.filter((o) => o === 'replied')).toHaveLength(2);
    expect(outcomes.filter((o) => /system_unknown|#future 6/.test(o) && /Call deadline has expired\./.test(o))).toHaveLength(1);
    // The latest of the three equal requests was the one shed.
    expect(outcomes[2]).not.toBe('replied');
    expect(await b.actor.slowDoneCount()).toBe(2n);
    expect(metric(pic, 'replica_best_effort_message_memory_bytes')).toBe(0);
    await pic.tearDown();
  }, 60_000);

  it('a best-effort response shed while its caller is busy reaches the callback as SYS_UNKNOWN "Response was dropped."', async () => {
    // a awaits a best-effort call to b and then starts a long update; b answers while a is
    // paused, so the response waits in a's queue. The request (12 bytes) fits in the 15-byte
    // limit; the response (the Candid ?nat deadline b saw, 19 bytes) does not.
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerSlice: 100_000, bestEffortMessageMemoryBytes: 15 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    lines.length = 0;
    const bBusy = b.actor.burn(50_000n);
    const call = a.actor.boundedCall(b.canisterId, 0n, 60n);
    for (let i = 0; i < 100_000 && !pic.scheduler.snapshot().callbacks.some((c) => c.deadline > 0n); i++) await new Promise((r) => setImmediate(r));
    const aBusy = a.actor.burn(150_000n);
    const [outcome, , callerSaw] = await call;
    await Promise.all([bBusy, aBusy]);
    expect(outcome).toMatch(/system_unknown|#future 6/);
    expect(outcome).toMatch(/Response was dropped\./);
    // The callback still sees the call's deadline.
    expect(callerSaw).toEqual([BigInt(new Date('2026-01-01').getTime() + 60_000) * 1_000_000n]);
    expect(await b.actor.slowDoneCount()).toBe(1n);
    expect(metric(pic, 'replica_best_effort_messages_shed_total')).toBe(1);
    expect(lines.some((l) => /^response from b to a shed: best-effort response of \d+ bytes replaced by a SYS_UNKNOWN reject/.test(l))).toBe(true);
    await pic.tearDown();
  }, 60_000);

  it("a response that reached the caller's queue before the deadline is delivered even if the caller runs it after the deadline", async () => {
    // b answers while a is busy with a long update; the deadline passes while the answer waits
    // in a's queue. As on the IC, the callback gets the answer, not SYS_UNKNOWN.
    const pic = await replicaWith({ limits: { instructionsPerSlice: 100_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const bBusy = b.actor.burn(50_000n);
    const call = a.actor.boundedCall(b.canisterId, 0n, 60n);
    for (let i = 0; i < 100_000 && !pic.scheduler.snapshot().callbacks.some((c) => c.deadline > 0n); i++) await new Promise((r) => setImmediate(r));
    const aBusy = a.actor.burn(1_000_000n);
    const id = a.canisterId.toText();
    const answered = () => (pic.scheduler.snapshot().queues[id]?.inputs[b.canisterId.toText()] ?? []).some((m) => m.kind === 'response');
    for (let i = 0; i < 20_000 && !answered(); i++) await new Promise((r) => setTimeout(r, 1));
    expect(answered()).toBe(true);
    await pic.advanceTime(61_000);
    const [outcome] = await call;
    await Promise.all([bBusy, aBusy]);
    expect(outcome).toBe('replied');
    expect(metric(pic, 'replica_best_effort_expired_total')).toBe(0);
    await pic.tearDown();
  }, 60_000);

  it('deadlines are plain data: after snapshot() and restore() of the scheduler a pending best-effort call still times out', async () => {
    const pic = await replicaWith({ limits: { instructionsPerRound: 100_000_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    const done: Array<{ key?: string; response: CallResponse }> = [];
    pic.scheduler.onIngressCompleted = (key, response) => done.push({ key, response });
    const arg = new Uint8Array(IDL.encode([IDL.Principal, IDL.Nat, IDL.Nat], [b.canisterId, 5000n, 1n]));
    void pic.scheduler.submitIngress(a.canisterId.toText(), 'boundedCall', arg, Principal.anonymous().toUint8Array(), 'request-1');
    const state = await atWork(pic, b.canisterId);
    const cb = state.callbacks.find((c) => c.deadline > 0n)!;
    expect(cb.canister).toBe(a.canisterId.toText());
    expect(cb.callee).toBe(b.canisterId.toText());
    expect(cb.deadline).toBe(BigInt(new Date('2026-01-01').getTime() + 1000) * 1_000_000n);
    // A copy made through structured cloning (what a store does), put back.
    pic.scheduler.restore(structuredClone(state));
    await pic.advanceTime(2000);
    await until('the ingress answer', () => done.some((d) => d.key === 'request-1'));
    const answer = done.find((d) => d.key === 'request-1')!.response;
    expect(answer.kind).toBe('reply');
    const [outcome] = IDL.decode([IDL.Text, IDL.Opt(IDL.Nat), IDL.Opt(IDL.Nat)], (answer as { data: Uint8Array }).data) as [string];
    expect(outcome).toMatch(/Call deadline has expired\./);
    await pic.advanceTime(4000);
    await until('the callee finishing', async () => (await b.actor.slowDoneCount()) === 1n);
    await pic.tearDown();
  }, 60_000);
});

describe('deterministic time slicing', () => {
  it("an update longer than a slice is suspended between rounds: a query and another canister's update are answered before its last slice", async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerSlice: 1_000_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const b = await setup(pic, 'b');
    lines.length = 0;
    const order: string[] = [];
    const before = pic.rounds();
    const long = a.actor.burn(1_000_000n).then(() => order.push('a.burn'));
    // Once its first slice has run, the burn is paused in the middle of its Wasm.
    for (let i = 0; i < 100_000 && !lines.some((l) => /^a\.burn: slice 1 in round \d+ /.test(l)); i++) await new Promise((r) => setImmediate(r));
    // A query to the same canister is answered from its committed state meanwhile.
    expect(await a.actor.get()).toBe(0n);
    order.push('a.get');
    const short = b.actor.inc().then(() => order.push('b.inc'));
    await Promise.all([long, short]);
    expect(order).toEqual(['a.get', 'b.inc', 'a.burn']);
    expect(await a.actor.get()).toBe(1n);
    const slices = lines.filter((l) => /^a\.burn: slice \d+ in round/.test(l));
    expect(slices.length).toBeGreaterThan(2);
    slices.forEach((l, k) => expect(l).toMatch(new RegExp(`^a\\.burn: slice ${k + 1} in round`)));
    expect(slices[slices.length - 1]).toMatch(/: done$/);
    // One slice per round.
    const rounds = slices.map((l) => Number(/in round (\d+)/.exec(l)![1]));
    rounds.forEach((r, k) => k > 0 && expect(r).toBe(rounds[k - 1] + 1));
    expect(pic.rounds() - before).toBeGreaterThanOrEqual(slices.length);
    // b's update ran before a's last slice.
    const bAt = lines.findIndex((l) => /^b\.inc /.test(l));
    expect(bAt).toBeLessThan(lines.indexOf(slices[slices.length - 1]));
    expect(metric(pic, 'replica_dts_slices_total')).toBe(slices.length);
    await pic.tearDown();
  });

  it('slicing changes neither the instructions nor the outcome: the same update sliced and in one go', async () => {
    async function burn(instructionsPerSlice: number) {
      const lines: string[] = [];
      const pic = await replicaWith({ lines, limits: { instructionsPerSlice }, time: new Date('2026-01-01') });
      const a = await setup(pic, 'a');
      const counted = () => Number(/^replica_canister_instructions_total\{[^}]*name="a"\} (\d+)$/m.exec(pic.metrics())?.[1] ?? 0);
      const before = counted();
      const result = await a.actor.burn(50_000n);
      const instructions = counted() - before;
      const slices = lines.filter((l) => /^a\.burn: slice/.test(l)).length;
      await pic.tearDown();
      return { result, instructions, slices };
    }
    const sliced = await burn(1_000_000);
    const whole = await burn(2e9);
    expect(sliced.slices).toBeGreaterThan(2);
    expect(whole.slices).toBe(0);
    expect(sliced.result).toBe(whole.result);
    expect(sliced.instructions).toBeGreaterThan(3_000_000);
    expect(sliced.instructions).toBe(whole.instructions);
  });

  it("install_code is sliced with the install slice: another canister's update completes while the install continues over rounds", async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerInstallSlice: 20_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    lines.length = 0;
    const order: string[] = [];
    // a.inc is submitted as soon as the install's first slice is logged, from a microtask: the
    // rounds of an instant replica can run the install's seven slices within a millisecond,
    // before a timer would notice.
    let inc: Promise<unknown> | undefined;
    const log = lines.push.bind(lines);
    lines.push = (...added: string[]) => {
      if (!inc && added.some((l) => /^b\.\S+: slice 1 in round \d+ /.test(l))) {
        inc = Promise.resolve().then(() => a.actor.inc().then(() => order.push('a.inc')));
      }
      return log(...added);
    };
    const b = await setup(pic, 'b');
    order.push('b installed');
    await inc;
    expect(order).toEqual(['a.inc', 'b installed']);
    const slices = lines.filter((l) => /^b\.\S+: slice \d+ in round/.test(l));
    expect(slices.length).toBeGreaterThan(1);
    expect(slices[slices.length - 1]).toMatch(/: done$/);
    // The installed canister works.
    expect(await b.actor.inc()).toBe(1n);
    await pic.tearDown();
  });

  it('a snapshot taken while an update is paused shows it not yet executed, at the head of its queue', async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerSlice: 1_000_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const id = a.canisterId.toText();
    const long = a.actor.burn(1_000_000n);
    for (let i = 0; i < 100_000 && !lines.some((l) => /^a\.burn: slice 1 in round \d+ /.test(l)); i++) await new Promise((r) => setImmediate(r));
    const state = pic.scheduler.snapshot();
    expect(state.queues[id].ingress.map((m) => m.method)).toEqual(['burn']);
    expect(state.callContexts.filter((cc) => cc.canister === id)).toEqual([]);
    expect(state.paused).toEqual([]);
    // The execution itself goes on in this process.
    expect(await long).toBeGreaterThan(0n);
    expect(pic.scheduler.snapshot().queues[id]?.ingress ?? []).toEqual([]);
    await pic.tearDown();
  });

  it("at most four executions stay paused: of five long updates started in one round, the last in the IC's order is aborted, runs again from the start and takes effect once", async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerSlice: 1_000_000 }, time: new Date('2026-01-01') });
    const names = ['a', 'b', 'c', 'd', 'e'];
    const canisters = [];
    for (const name of names) canisters.push(await setup(pic, name));
    lines.length = 0;
    // Five long updates, one per canister, all inducted in the same round: with four threads and
    // a 7-billion round, every one of them starts (thread 0 runs two canisters) and pauses.
    const results = await Promise.all(canisters.map((c) => c.actor.burn(300_000n)));
    expect(new Set(results).size).toBe(1);
    const aborted = lines.filter((l) => /: aborted after slice \d+ in round \d+ \(5 executions paused, at most 4\); runs again from the start$/.test(l));
    expect(aborted.length).toBeGreaterThan(0);
    expect(metric(pic, 'executions_aborted')).toBe(aborted.length);
    // After every round at most four executions remain paused.
    const paused = new Map<number, Set<string>>();
    for (const l of lines) {
      const m = /^(\w)\.burn: slice \d+ in round (\d+) .*continues next round$/.exec(l);
      if (m) (paused.get(Number(m[2])) ?? paused.set(Number(m[2]), new Set()).get(Number(m[2]))!).add(m[1]);
      const a = /^(\w)\.burn: aborted after slice \d+ in round (\d+)/.exec(l);
      if (a) paused.get(Number(a[2]))!.delete(a[1]);
    }
    for (const set of paused.values()) expect(set.size).toBeLessThanOrEqual(4);
    // The aborted update ran again from slice 1 (once more per abort) and took effect exactly
    // once, as everyone else's.
    const victim = /^(\w)\./.exec(aborted[0])![1];
    const victimSlices = lines.filter((l) => l.startsWith(`${victim}.burn: slice 1 in round`));
    expect(victimSlices.length).toBe(aborted.length + 1);
    for (const c of canisters) expect(await c.actor.get()).toBe(1n);
    expect(metric(pic, 'replica_paused_executions')).toBe(0);
    await pic.tearDown();
  });

  it('an aborted long callback is put back with its callback and call context: it runs again and its call completes once', async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerSlice: 1_000_000 }, time: new Date('2026-01-01') });
    const target = await setup(pic, 't');
    const callers = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) callers.push(await setup(pic, name));
    lines.length = 0;
    // Each caller's callback (after target.inc answers) spins long enough to be sliced; the
    // five callbacks run in the same round, so one of them is aborted.
    const results = await Promise.all(callers.map((c) => c.actor.incThenBurn(target.canisterId, 300_000n)));
    expect([...results].sort()).toEqual([1n, 2n, 3n, 4n, 5n]);
    const aborted = lines.filter((l) =>
      /^\w\.callback from t: aborted after slice \d+ in round \d+ \(5 executions paused, at most 4\); runs again from the start$/.test(l),
    );
    expect(aborted.length).toBeGreaterThan(0);
    // target.inc ran once per caller; every caller's callback took effect once.
    expect(await target.actor.get()).toBe(5n);
    for (const c of callers) expect(await c.actor.get()).toBe(1n);
    expect(metric(pic, 'replica_callbacks')).toBe(0);
    expect(metric(pic, 'replica_paused_executions')).toBe(0);
    await pic.tearDown();
  });

  it('while a reinstall is paused the canister keeps its certified data and timer; they are cleared when it completes', async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerInstallSlice: 5_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const canister = pic.scheduler.canister(a.canisterId)!;
    canister.certifiedData = new Uint8Array([1, 2, 3]);
    canister.globalTimer = BigInt(new Date('2027-01-01').getTime()) * 1_000_000n;
    lines.length = 0;
    const reinstall = pic.reinstallCode({ canisterId: a.canisterId, wasm: subnet.wasm });
    for (let i = 0; i < 100_000 && !lines.some((l) => /^a\.\S+: slice 1 in round/.test(l)); i++) await new Promise((r) => setImmediate(r));
    expect(lines.some((l) => /^a\.\S+: slice 1 in round/.test(l))).toBe(true);
    expect(canister.certifiedData).toEqual(new Uint8Array([1, 2, 3]));
    expect(canister.globalTimer).not.toBe(0n);
    await reinstall;
    expect(canister.certifiedData).toEqual(new Uint8Array());
    expect(canister.globalTimer).toBe(0n);
    await pic.tearDown();
  });

  it('a System API call that costs more than what is left of a slice ends the slice, not the message', async () => {
    // Copying a 200 KB argument (msg_arg_data_copy) costs more than a 20,000-instruction slice.
    async function take(instructionsPerSlice: number) {
      const lines: string[] = [];
      const pic = await replicaWith({ lines, limits: { instructionsPerSlice }, time: new Date('2026-01-01') });
      const a = await setup(pic, 'a');
      const counted = () => Number(/^replica_canister_instructions_total\{[^}]*name="a"\} (\d+)$/m.exec(pic.metrics())?.[1] ?? 0);
      const before = counted();
      const result = await a.actor.take(new Uint8Array(200_000));
      const instructions = counted() - before;
      const slices = lines.filter((l) => /^a\.take: slice/.test(l)).length;
      await pic.tearDown();
      return { result, instructions, slices };
    }
    const sliced = await take(20_000);
    const whole = await take(2e9);
    expect(sliced.slices).toBeGreaterThan(1);
    expect(sliced.result).toBe(200_000n);
    expect(sliced.instructions).toBe(whole.instructions);
  });

  it("an upgrade whose steps are sliced finely completes; while it is paused queries see the old code's state as it was before pre_upgrade", async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, limits: { instructionsPerInstallSlice: 5_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    await a.actor.inc();
    lines.length = 0;
    const upgrade = pic.upgradeCanister({ canisterId: a.canisterId, wasm: subnet.wasm, upgradeModeOptions: { wasm_memory_persistence: 'keep' } });
    for (let i = 0; i < 100_000 && !lines.some((l) => /^a\.\(start\): slice 1 in round/.test(l)); i++) await new Promise((r) => setImmediate(r));
    // pre_upgrade has run on the old instance; a query still finds the runtime as it was.
    expect(await a.actor.get()).toBe(1n);
    await upgrade;
    expect(lines.some((l) => /^a\.canister_post_upgrade: slice 2 in round/.test(l))).toBe(true);
    expect(await a.actor.get()).toBe(1n);
    await pic.tearDown();
  });

  it('a message past its instruction limit still fails with IC0522 when sliced', async () => {
    const pic = await replicaWith({ limits: { instructionsPerSlice: 1_000_000, instructionsPerUpdate: 5_000_000 }, time: new Date('2026-01-01') });
    const a = await setup(pic, 'a');
    const error = await a.actor.burn(100_000n).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CanisterRejectError);
    expect(String((error as Error).message)).toMatch(/IC0522|exceeded the limit of 5000000 instructions/);
    expect(await a.actor.get()).toBe(0n);
    await pic.tearDown();
  });
});

describe('query cache', () => {
  it('hits cost nothing; an update invalidates; entries that read time or balance expire when those change; max expiry', async () => {
    const lines: string[] = [];
    const pic = await replicaWith({ lines, time: new Date('2026-01-01') });
    const { actor, canisterId } = await setup(pic, 'a');
    lines.length = 0;
    expect(await actor.get()).toBe(0n);
    expect(await actor.get()).toBe(0n);
    expect(lines.some((l) => /^a\.get \(anonymous\) -> query cache hit .* 0 instr$/.test(l))).toBe(true);
    expect([metric(pic, 'execution_query_cache_hits_total'), metric(pic, 'execution_query_cache_misses_total')]).toEqual([1, 1]);
    await actor.inc();
    expect(await actor.get()).toBe(1n); // invalidated by the update
    expect(metric(pic, 'execution_query_cache_hits_total')).toBe(1);

    const t = await actor.now();
    expect(await actor.now()).toBe(t);
    const hits = metric(pic, 'execution_query_cache_hits_total');
    await pic.advanceTime(1);
    expect(await actor.now()).toBe(t + 1_000_000n); // read the time: stale once it moved
    expect(metric(pic, 'execution_query_cache_hits_total')).toBe(hits);

    expect(await actor.echo(5n)).toBe(5n);
    await pic.advanceTime(1000);
    expect(await actor.echo(5n)).toBe(5n); // never read the time: still a hit
    expect(metric(pic, 'execution_query_cache_hits_total')).toBe(hits + 1);
    await pic.advanceTime(601_000); // past QUERY_CACHE_MAX_EXPIRY_TIME
    await actor.echo(5n);
    expect(metric(pic, 'execution_query_cache_hits_total')).toBe(hits + 1);

    const balance = await actor.balance();
    expect(await actor.balance()).toBe(balance);
    await pic.addCycles(canisterId, 1_000_000n);
    expect(await actor.balance()).toBe(balance + 1_000_000n);
    await pic.tearDown();
  });

  it('stays within its capacity by evicting the least recently used entries; --no-query-cache switches it off', async () => {
    const pic = await replicaWith({ limits: { queryCacheBytes: 2000 }, time: new Date('2026-01-01') });
    const { actor } = await setup(pic, 'a');
    for (let n = 0n; n < 40n; n++) expect(await actor.echo(n)).toBe(n);
    expect(metric(pic, 'execution_query_cache_evicted_entries_total')).toBeGreaterThan(0);
    expect(metric(pic, 'execution_query_cache_count_bytes')).toBeLessThanOrEqual(2000);
    await pic.tearDown();

    const off = await replicaWith({ queryCache: false, time: new Date('2026-01-01') });
    const b = await setup(off, 'b');
    await b.actor.get();
    await b.actor.get();
    expect(metric(off, 'execution_query_cache_hits_total')).toBe(0);
    await off.tearDown();
  });
});

describe('pacing', () => {
  it('mainnet pacing: an update waits for the next round and its certification, a query answers at once', async () => {
    const roundMs = 300;
    const pic = await replicaWith({ pacing: 'mainnet', roundMs });
    const { actor } = await setup(pic, 'a');
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await actor.inc();
      latencies.push(performance.now() - t);
    }
    // Executed in the next round, released when the round after it certifies the state.
    for (const l of latencies) {
      expect(l).toBeGreaterThanOrEqual(roundMs - 5);
      expect(l).toBeLessThan(2 * roundMs + 400);
    }
    // The query is answered without waiting for a round.
    const rounds = pic.rounds();
    const t = performance.now();
    expect(await actor.get()).toBe(3n);
    expect(performance.now() - t).toBeLessThan(roundMs);
    expect(pic.rounds()).toBe(rounds);
    expect(pic.metrics()).toMatch(/replica_info\{pacing="mainnet",round_ms="300"/);
    await pic.tearDown();
  }, 20_000);
});

describe('determinism', () => {
  async function schedule(): Promise<{ results: unknown[]; log: string[] }> {
    const lines: string[] = [];
    const pic = await replicaWith({
      lines,
      limits: { executionThreads: 2, instructionsPerRound: 30_000_000, instructionsPerSlice: 1_000_000, queueCapacity: 4 },
      time: new Date('2026-01-01'),
    });
    const cs = await Promise.all(['a', 'b', 'c'].map((n) => setup(pic, n)));
    lines.length = 0;
    const results = await Promise.all([
      cs[0].actor.fanOut(cs[1].canisterId, 6n),
      cs[1].actor.burn(50_000n),
      cs[2].actor.inc(),
      cs[2].actor.fanOut(cs[0].canisterId, 3n),
      cs[1].actor.inc(),
      cs[0].actor.inc(),
      cs[2].actor.burn(20_000n),
    ]);
    const rounds = pic.rounds();
    await pic.tearDown();
    // Durations are wall-clock; everything else must repeat exactly. The log collapses identical
    // consecutive lines (durations included) into "(repeated N more times)": expand those.
    const log: string[] = [];
    for (const line of lines) {
      const repeated = /^\s+\(repeated (\d+) more times?\)$/.exec(line);
      if (repeated) for (let k = 0; k < Number(repeated[1]); k++) log.push(log[log.length - 1]);
      else log.push(line.replace(/ \d+(\.\d+)? ms/g, ' _ ms'));
    }
    return { results: [...results, rounds], log };
  }

  it('the same schedule run twice gives the same results, rounds and log', async () => {
    const first = await schedule();
    const second = await schedule();
    expect(second.results).toEqual(first.results);
    const diff = first.log.map((l, i) => (l === second.log[i] ? '' : `${i}: ${l}\n   ${second.log[i]}`)).filter(Boolean);
    expect(diff).toEqual([]);
    expect(first.log.some((l) => /slice 2 in round/.test(l))).toBe(true);
  });
});
