// kill -9 while calls that span several messages are `processing`, through `npm run replica --
// --state-dir`: A.incPeer(B) awaits B.inc, and the replica is killed the moment a certified
// read_state shows such a call as processing (so the commit holding it, with A waiting on its
// callback, is the last one on disk), several times; right after each restart the calls seen
// processing are sent again, and at the end every request is, byte for byte. Then: every effect
// happened exactly once (B counts each incPeer once, A each inc once), no status went backwards
// (what was seen replied is still replied with the same reply; what was seen processing is not
// unknown), every acknowledged update is there, and no canister is left waiting on a callback.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Actor, Certificate, lookupResultToBuffer, LookupPathStatus } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { encodeCbor } from '../src/certification/cbor.ts';
import { requestIdOf } from '../src/certification/representation-independent-hash.ts';
import { toHex } from '../src/ic/bytes.ts';
import { counterIdl, counterWasm, deployCounter, localAgent, startReplicaProcess, type ReplicaProcess } from './http-support.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'replica-crash-'));
const running: ReplicaProcess[] = [];
afterAll(async () => {
  for (const r of running) await r.kill().catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});

/** A small seeded generator, so a failing run can be repeated (the seed is in the test name's output). */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

// Small rounds on one thread, 100 ms apart: a round runs only a few messages, so a call spans
// several rounds and stays processing long enough to be seen so, and the state between rounds
// (what a commit captures) holds calls half done.
const LIMITS = ['instructionsPerRound=2M', 'executionThreads=1'];
const ARGS = ['--pacing', 'mainnet', '--round-ms', '100'];
const start = () => startReplicaProcess({ stateDir, limits: LIMITS, args: ARGS });

const ORDER = ['unknown', 'received', 'processing', 'replied', 'rejected', 'done'];
const rank = (status: string) => (status === 'rejected' ? ORDER.indexOf('replied') : ORDER.indexOf(status));

interface Sent {
  body: Uint8Array<ArrayBuffer>;
  requestId: Uint8Array;
  kind: 'inc' | 'incPeer';
  /** The furthest status seen so far, and the reply when replied. */
  seen: string;
  reply?: string;
}

describe('kill -9 during multi-message calls under load', () => {
  const seed = Number(process.env.WG_CRASH_SEED ?? Date.now() % 100_000);
  it(`executes every request exactly once across crashes and resends (seed ${seed})`, async () => {
    const next = random(seed);
    const wasm = await counterWasm();
    let replica = await start();
    running.push(replica);
    let agent = await localAgent(replica.url);
    const a = await deployCounter(agent, 0n, wasm);
    const b = await deployCounter(agent, 0n, wasm);
    const anonymous = Uint8Array.of(4);
    const expiry = (BigInt(Date.now()) + 240_000n) * 1_000_000n;
    const sent: Sent[] = [];
    const makeCall = (kind: Sent['kind'], i: number): Sent => {
      const arg = kind === 'incPeer' ? new Uint8Array(IDL.encode([IDL.Principal], [b])) : new Uint8Array(IDL.encode([], []));
      const content = {
        request_type: 'call',
        canister_id: a.toUint8Array(),
        method_name: kind,
        arg,
        sender: anonymous,
        ingress_expiry: expiry,
        nonce: new TextEncoder().encode(`n${i}`),
      };
      return { body: new Uint8Array(encodeCbor({ content })), requestId: requestIdOf(content), kind, seen: 'unknown' };
    };
    const post = (r: ReplicaProcess, version: string, body: Uint8Array<ArrayBuffer>) =>
      fetch(`${r.url}/api/${version}/canister/${a.toText()}/call`, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body }).then(
        async (response) => ({ status: response.status, body: new Uint8Array(await response.arrayBuffer()) }),
        () => undefined, // the process died under it
      );

    /** Reads a request's certified status (and reply) and checks it never went backwards. */
    const observe = async (call: Sent) => {
      const state = await agent.readState(a, { paths: [[new TextEncoder().encode('request_status'), call.requestId]] });
      const cert = await Certificate.create({ certificate: state.certificate, rootKey: agent.rootKey!, canisterId: a });
      const found = cert.lookup_path(['request_status', call.requestId, 'status']);
      const status = found.status === LookupPathStatus.Found ? new TextDecoder().decode(lookupResultToBuffer(found)) : 'unknown';
      expect(rank(status), `request 0x${toHex(call.requestId)} went from ${call.seen} back to ${status}`).toBeGreaterThanOrEqual(rank(call.seen));
      if (status === 'replied') {
        const reply = toHex(lookupResultToBuffer(cert.lookup_path(['request_status', call.requestId, 'reply']))!);
        if (call.reply !== undefined) expect(reply, `the reply of 0x${toHex(call.requestId)} changed`).toBe(call.reply);
        call.reply = reply;
      }
      call.seen = status;
      return status;
    };

    for (let crash = 0; crash < 3; crash++) {
      // Load: a mix of single- and multi-message calls, sent v2 (answered 202 at once).
      const batch = Array.from({ length: 40 }, (_, i) => makeCall(next() < 0.6 ? 'incPeer' : 'inc', sent.length + i));
      sent.push(...batch);
      // Accepted (202) means the replica holds the call: from here it must not forget it.
      const accepted = await Promise.all(batch.map((call) => post(replica, 'v2', call.body)));
      expect(accepted.map((r) => r?.status)).toEqual(batch.map(() => 202));
      // Statuses are polled while the load runs, as agents do: each read_state certifies (and
      // commits) the state of the moment, and what is seen is what the replica is held to. The
      // multi-message calls are polled in turn, and the process is killed the moment one of them
      // is seen processing: it is waiting on B, and the last commit holds it half done.
      const pollErrors: string[] = [];
      const waiting = batch.filter((c) => c.kind === 'incPeer');
      const killBy = Date.now() + 30_000;
      let caughtProcessing: Sent | undefined;
      for (let i = Math.floor(next() * waiting.length); !caughtProcessing && Date.now() < killBy; i++) {
        const call = waiting[i % waiting.length];
        const status = await observe(call).catch((error) => {
          pollErrors.push(String(error).slice(0, 200));
          return undefined;
        });
        if (status === 'processing') caughtProcessing = call;
      }
      await replica.kill();
      expect(caughtProcessing, `crash ${crash + 1}: no multi-message call was seen processing within 30 s`).toBeDefined();
      expect(pollErrors, 'polls failed while the replica was up').toEqual([]);
      const seen = (status: string) => sent.filter((c) => c.seen === status).length;
      console.log(`crash ${crash + 1}: ${sent.length} sent; seen processing ${seen('processing')}, replied ${seen('replied')}, unknown ${seen('unknown')}`);

      replica = await start();
      running.push(replica);
      agent = await localAgent(replica.url);
      // The calls seen processing are sent again at once, while they may still be running: each
      // joins its call instead of running a second time.
      for (const call of sent.filter((c) => c.seen === 'processing')) {
        const again = await post(replica, 'v2', call.body);
        expect(again?.status, `resending 0x${toHex(call.requestId)} after the restart`).toBe(202);
      }
      for (const call of sent) if (call.seen !== 'unknown') await observe(call);
    }

    // Everything is sent again, byte for byte; a request already known must not run again.
    for (const call of sent) {
      const answer = await post(replica, 'v3', call.body);
      expect(answer?.status, `resending 0x${toHex(call.requestId)}`).toBeOneOf([200, 202]);
    }
    const deadline = Date.now() + 60_000;
    for (const call of sent) {
      while ((await observe(call)) !== 'replied') {
        expect(Date.now(), `request 0x${toHex(call.requestId)} is still ${call.seen}`).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const count = async (id: Principal) => (await (Actor.createActor(counterIdl, { agent, canisterId: id }) as any).get()) as bigint;
    const incPeers = sent.filter((c) => c.kind === 'incPeer');
    const incs = sent.filter((c) => c.kind === 'inc');
    expect(await count(b)).toBe(BigInt(incPeers.length));
    expect(await count(a)).toBe(BigInt(incs.length));
    // Each incPeer replied B's count after its own increment: all different, 1..n.
    const peerReplies = incPeers
      .map((c) => IDL.decode([IDL.Nat], Uint8Array.from(c.reply!.match(/../g)!.map((h) => parseInt(h, 16))))[0] as bigint)
      .sort((x, y) => (x < y ? -1 : 1));
    expect(peerReplies).toEqual(incPeers.map((_, i) => BigInt(i + 1)));
    // No canister is left waiting: no callback is open once everything has been answered.
    const metrics = await (await fetch(`${replica.url}/_/metrics`)).text();
    expect(/^replica_callbacks (\d+)$/m.exec(metrics)?.[1], 'open callbacks after every call was answered').toBe('0');
    await replica.stop();
  }, 600_000);
});
