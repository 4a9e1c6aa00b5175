// The optimistic-UI demo's canister: notes are added by update, a repeat is refused (the demo's
// rollback path), input is bounded and the list stays short.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Replica } from '@scaling-wg/replica';
import type { _SERVICE as NotesService } from '../src/declarations/optimistic-notes/optimistic-notes.did.ts';
import { unwrap } from '../src/lib/ic/demo-deploy.ts';
import { actorAs, alice, deploy, errorOf, startReplica, type Deployed } from './test-support.ts';

let pic: Replica;
let notes: Deployed<NotesService>;

beforeAll(async () => {
  pic = await startReplica();
  notes = await deploy<NotesService>(pic, 'optimistic-notes');
});

afterAll(async () => {
  await pic?.tearDown();
});

describe('optimistic-notes', () => {
  it('adds notes, refuses a repeat of the latest and bounds their length', async () => {
    const visitor = actorAs(pic, notes, alice);
    const first = unwrap(await visitor.add('first'), 'add');
    const second = unwrap(await visitor.add('second'), 'add');
    expect(second.id).toBe(first.id + 1n);
    expect(errorOf(await visitor.add('second'))).toEqual({ kind: 'invalidArgument', text: 'the latest note already says exactly this' });
    expect(errorOf(await visitor.add('')).kind).toBe('invalidArgument');
    expect(errorOf(await visitor.add('x'.repeat(81))).kind).toBe('invalidArgument');
    expect((await visitor.latest()).map((n) => n.text)).toEqual(['second', 'first']);
  });

  it('keeps the latest 50 and shows 10', async () => {
    for (let i = 0; i < 55; i++) unwrap(await notes.actor.add(`note ${i}`), 'add');
    const latest = await notes.actor.latest();
    expect(latest.length).toBe(10);
    expect(latest[0].text).toBe('note 54');
  });
});
