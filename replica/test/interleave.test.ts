// Calls into one canister that interleave at their awaits, with queries arriving while they run.
// Every update here may be time-sliced (a slice is smaller than its budget), so it runs under
// JSPI and its end reaches the scheduler only in a later microtask; a query issued from the
// log line the update prints (as an HTTP request's continuation would arrive) runs in between.
// The updates' answers and the canister's state must be those of the same calls made one after
// another: a query sees the committed state and never undoes an update's writes.
import { beforeAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import type { Replica } from '../src/index.ts';
import { canSuspendWasm } from '../src/execution/slicing.ts';
import { createReplica, motokoFixture, type Fixture } from './fixtures/build.ts';

type Service = { step(peer: Principal, n: bigint): Promise<bigint>; state(): Promise<[bigint, bigint, bigint]> };

const CALLS = [1n, 2n, 3n, 4n, 5n];

async function setUp(fixture: Fixture, onQuery?: (pic: Replica, id: Principal, peer: Principal) => void) {
  let target: { a: Principal; b: Principal } | undefined;
  const seen: string[] = [];
  const pic: Replica = await createReplica({
    log: 'normal',
    onLog: (line, event) => {
      if (event.kind !== 'debug' || !line.startsWith('[a]')) return;
      seen.push(line);
      if (onQuery && target) queueMicrotask(() => onQuery(pic, target!.a, target!.b));
    },
  });
  const a = await pic.setupCanister<Service>({ idlFactory: fixture.idlFactory, wasm: fixture.wasm, name: 'a' });
  const b = await pic.setupCanister<Service>({ idlFactory: fixture.idlFactory, wasm: fixture.wasm, name: 'b' });
  target = { a: a.canisterId, b: b.canisterId };
  return { pic, a: a.actor, b: b.canisterId, seen };
}

describe('update calls into one canister interleaving at their awaits', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await motokoFixture('interleave');
  }, 120_000);

  it('answer and leave the state as the same calls made one after another, with queries arriving meanwhile', async () => {
    expect(canSuspendWasm, 'this test needs JSPI (time slicing)').toBe(true);
    const sequential = await setUp(fixture);
    const one: bigint[] = [];
    for (const n of CALLS) one.push(await sequential.a.step(sequential.b, n));
    const oneState = await sequential.a.state();
    await sequential.pic.tearDown();
    expect(one).toEqual(CALLS.map((n) => n * 10n));
    expect(oneState).toEqual([2n * BigInt(CALLS.length), CALLS.reduce((x, y) => x + y), 0n]);

    const queried: Array<[bigint, bigint, bigint]> = [];
    const concurrent = await setUp(fixture, (pic, id, peer) => {
      const decode = (reply: Uint8Array) => queried.push(IDL.decode([IDL.Nat, IDL.Nat, IDL.Nat], reply) as never);
      void pic.queryCall({ canisterId: id, method: 'state' }).then(decode);
      void pic.queryCall({ canisterId: id, method: 'peek', arg: new Uint8Array(IDL.encode([IDL.Principal], [peer])) }).then(decode);
    });
    const all = await Promise.allSettled(CALLS.map((n) => concurrent.a.step(concurrent.b, n)));
    const together = all.map((r) => (r.status === 'fulfilled' ? r.value : `rejected: ${(r.reason as Error).message.split('\n')[0]}`));
    const togetherState = await concurrent.a.state();
    await concurrent.pic.tearDown();
    expect(together).toEqual(one);
    expect(togetherState).toEqual(oneState);
    // The queries (a query and a composite one per line printed) ran while the updates did, each on a committed state.
    expect(queried).toHaveLength(4 * CALLS.length);
    for (const [count, , waiting] of queried) expect(count).toBeGreaterThanOrEqual(waiting);
  }, 120_000);
});
