// The bounded-wait demo on the local replica, with the clock running: a guaranteed-response call
// waits for the slow job; a bounded-wait call with a shorter timeout gets SYS_UNKNOWN at its
// deadline, and the job still finishes on the callee.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replica } from '@scaling-wg/replica';
import type { _SERVICE as CallerService } from '../src/declarations/bounded-caller/bounded-caller.did.ts';
import type { _SERVICE as CalleeService } from '../src/declarations/slow-callee/slow-callee.did.ts';
import { pairBoundedWait, unwrap } from '../src/lib/ic/demo-deploy.ts';
import { actorAs, alice, deploy, errorOf, type Deployed } from './test-support.ts';

let pic: Replica;
let caller: Deployed<CallerService>;
let callee: Deployed<CalleeService>;

beforeAll(async () => {
  // Real time: the job measures seconds of the subnet's clock.
  pic = await Replica.create({ log: 'quiet' });
  caller = await deploy<CallerService>(pic, 'bounded-caller');
  callee = await deploy<CalleeService>(pic, 'slow-callee');
  await pairBoundedWait(caller.actor, callee.actor, { caller: caller.canisterId, callee: callee.canisterId });
});

afterAll(async () => {
  await pic?.tearDown();
});

describe('bounded-wait calls', () => {
  it('a guaranteed-response call waits for the job', async () => {
    const report = unwrap(await actorAs(pic, caller, alice).call(1n, 0n), 'call');
    expect([report.kind, report.outcome]).toEqual(['guaranteed', 'replied']);
    expect(report.elapsedNanos).toBeGreaterThanOrEqual(1_000_000_000n);
  }, 30_000);

  it('a bounded-wait call gets SYS_UNKNOWN after its deadline while the job goes on', async () => {
    const report = unwrap(await actorAs(pic, caller, alice).call(3n, 1n), 'call');
    expect([report.kind, report.outcome]).toEqual(['bounded-wait', 'SYS_UNKNOWN']);
    // Not before the deadline; how long after depends on how long the round after it takes to
    // start (on a loaded machine a round full of the callee's steps lasts seconds).
    expect(report.message).toBe('Call deadline has expired.');
    expect(report.job).toEqual([]);
    expect(report.elapsedNanos).toBeGreaterThanOrEqual(1_000_000_000n);
    // The caller cannot tell; the callee can: the job finishes after the caller gave up.
    for (let i = 0; i < 40 && !(await callee.actor.job(report.jobId)).length; i++) await new Promise((r) => setTimeout(r, 250));
    expect((await callee.actor.job(report.jobId))[0]?.id).toBe(report.jobId);
  }, 30_000);

  it('bounds jobs and timeouts, and only the caller starts jobs', async () => {
    expect(errorOf(await caller.actor.call(21n, 0n)).kind).toBe('invalidArgument');
    expect(errorOf(await caller.actor.call(1n, 31n)).kind).toBe('invalidArgument');
    await expect(actorAs(pic, callee, alice).slowJob(1n, 1n)).rejects.toThrow(/only the caller/);
  });
});
