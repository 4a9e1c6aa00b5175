// The horizontal-scaling demo on the local replica, with the IC's subnet figures (7 billion
// instructions per thread and round, four execution threads) and a real clock, so that each
// round has its own time: the same 32 heavy jobs take 8 rounds on one worker, 2 on
// four, and still 2 on eight, because only four canisters execute at once. The same run on a
// subnet with eight threads finishes in one round: the plateau is the threads' cap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { embeddedModules, Replica } from '@scaling-wg/replica';
import type { _SERVICE as FrontService } from '../src/declarations/scaling-front/scaling-front.did.ts';
import { setupScaling, unwrap } from '../src/lib/ic/demo-deploy.ts';
import { actorAs, alice, bob, deploy, errorOf, type Deployed } from './test-support.ts';

const replicas: Replica[] = [];

/** A replica with real time (the workers tell rounds apart by the subnet's time) and the front with its workers. */
async function scalingSubnet(limits?: { executionThreads: number }): Promise<Deployed<FrontService>> {
  const pic = await Replica.create({ seed: 7, log: 'quiet', limits });
  replicas.push(pic);
  const front = await deploy<FrontService>(pic, 'scaling-front', { cycles: 100_000_000_000_000n });
  await setupScaling(front.actor);
  return front;
}

let front: Deployed<FrontService>;

beforeAll(async () => {
  front = await scalingSubnet();
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((pic) => pic.tearDown()));
});

describe('horizontal scaling', () => {
  it('jobs per round grow with the canisters up to the four threads, then stay', async () => {
    const perRound: Record<number, number> = {};
    for (const n of [1, 4, 8]) {
      const report = unwrap(await actorAs(replicas[0], front, n === 8 ? bob : alice).run(BigInt(n)), 'run');
      expect(report.failed).toBe(0n);
      expect(report.perCanister).toEqual(Array.from({ length: n }, () => BigInt(32 / n)));
      expect(report.perRound.reduce((sum, r) => sum + r.completed, 0n)).toBe(32n);
      expect(Number(report.instructions)).toBeGreaterThanOrEqual(32 * 1.8e9);
      perRound[n] = 32 / Number(report.rounds);
    }
    expect(perRound).toEqual({ 1: 4, 4: 16, 8: 16 });
  }, 300_000);

  it('with eight execution threads, eight canisters finish the same work in one round', async () => {
    const wide = await scalingSubnet({ executionThreads: 8 });
    const report = unwrap(await wide.actor.run(8n), 'run');
    expect(report.rounds).toBe(1n);
    expect(report.perRound).toEqual([expect.objectContaining({ completed: 32n })]);
  }, 300_000);

  it('installs in its workers the module it carries, which the site build prepares for the page replica', async () => {
    // src/integrations/demo-wasm.ts emits a prepared file for each module embeddedModules finds.
    const inner = embeddedModules(front.wasm);
    expect(inner).toHaveLength(1);
    const hash = createHash('sha256').update(inner[0]).digest('hex');
    const workers = await front.actor.listWorkers();
    expect(workers).toHaveLength(8);
    for (const w of workers) expect(Buffer.from(replicas[0].scheduler.canister(w.canisterId.toText())!.module!.hash).toString('hex')).toBe(hash);
  });

  it('bounds the canister count, takes one run at a time and keeps strangers off the workers', async () => {
    expect(errorOf(await front.actor.run(0n)).kind).toBe('invalidArgument');
    expect(errorOf(await front.actor.run(9n)).kind).toBe('invalidArgument');
    expect(errorOf(await front.actor.setup(1n)).kind).toBe('invalidArgument');
    const [first, second] = await Promise.all([front.actor.run(4n), front.actor.run(4n)]);
    expect(['ok' in first, 'ok' in second].sort()).toEqual([false, true]);
    expect(errorOf('ok' in first ? second : first).kind).toBe('rateLimited');
    const worker = (await front.actor.listWorkers())[0];
    const { idlFactory } = await import('../src/declarations/scaling-worker/scaling-worker.did.ts');
    const direct = replicas[0].createActor<{ job: (n: bigint) => Promise<unknown> }>(idlFactory, worker.canisterId);
    direct.setPrincipal(alice);
    await expect(direct.job(1_000n)).rejects.toThrow(/only the scaling front/);
  }, 120_000);
});
