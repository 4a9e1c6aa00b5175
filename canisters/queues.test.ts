// The queues demo on the local replica: a burst past the IC's queue capacity loses calls without
// backpressure and loses none with the producer's own queue and retries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Replica } from '@scaling-wg/replica';
import type { _SERVICE as ProducerService } from '../src/declarations/queue-producer/queue-producer.did.ts';
import type { _SERVICE as ConsumerService } from '../src/declarations/queue-consumer/queue-consumer.did.ts';
import { pairQueues, unwrap } from '../src/lib/ic/demo-deploy.ts';
import { actorAs, alice, deploy, errorOf, startReplica, type Deployed } from './test-support.ts';

let pic: Replica;
let producer: Deployed<ProducerService>;
let consumer: Deployed<ConsumerService>;

beforeAll(async () => {
  pic = await startReplica();
  producer = await deploy<ProducerService>(pic, 'queue-producer');
  consumer = await deploy<ConsumerService>(pic, 'queue-consumer');
  await pairQueues(producer.actor, consumer.actor, { producer: producer.canisterId, consumer: consumer.canisterId });
});

afterAll(async () => {
  await pic?.tearDown();
});

describe('queues and backpressure', () => {
  it('a burst over the queue capacity loses calls without backpressure and none with it', async () => {
    const visitor = actorAs(pic, producer, alice);
    const without = unwrap(await visitor.burst(700n, false, 0n), 'burst');
    expect(without.refused).toBeGreaterThan(0n);
    expect(without.lost).toBe(without.refused);
    expect(without.completed).toBe(700n - without.refused);
    expect(without.firstRefusal[0]).toMatch(/call_error|SYS_TRANSIENT/);

    const withQueue = unwrap(await visitor.burst(700n, true, 100n), 'burst');
    expect([withQueue.refused, withQueue.lost, withQueue.completed]).toEqual([0n, 0n, 700n]);
    expect(withQueue.timeline.at(-1)).toMatchObject({ completed: 700n, queued: 0n });
    expect((await consumer.actor.stats()).handled).toBe(without.completed + 700n);
  });

  it('bounds bursts and keeps strangers away from the consumer', async () => {
    expect(errorOf(await producer.actor.burst(1_001n, false, 0n)).kind).toBe('invalidArgument');
    expect(errorOf(await producer.actor.burst(10n, true, 0n)).kind).toBe('invalidArgument');
    await expect(actorAs(pic, consumer, alice).work(1n)).rejects.toThrow(/only the producer/);
  });
});
