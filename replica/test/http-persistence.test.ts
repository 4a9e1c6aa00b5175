// `npm run replica -- --state-dir`: a restart keeps the root key, canisters, ids and memory, and
// an update the replica answered as replied survives kill -9, even under concurrent load.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Actor, Certificate, lookupResultToBuffer } from '@dfinity/agent';
import { decodeCbor, encodeCbor } from '../src/certification/cbor.ts';
import { requestIdOf } from '../src/certification/representation-independent-hash.ts';
import { counterIdl, counterWasm, deployCounter, localAgent, startReplicaProcess, type ReplicaProcess } from './http-support.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'replica-state-'));
const running: ReplicaProcess[] = [];
afterAll(async () => {
  for (const r of running) await r.kill().catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});
const start = async () => {
  const r = await startReplicaProcess({ stateDir });
  running.push(r);
  return r;
};

describe('a replica with a state directory', () => {
  it('keeps root key, canisters, ids and memory across kill -9, and every replied update', async () => {
    const wasm = await counterWasm();
    let replica = await start();
    const rootKey = replica.rootKeyHex;
    let agent = await localAgent(replica.url);
    const canisterId = await deployCounter(agent, 10n, wasm);
    let actor = Actor.createActor(counterIdl, { agent, canisterId }) as any;
    expect(await actor.inc()).toBe(11n);
    // A call sent as raw CBOR, so the very same request can be replayed after the restart.
    const replayBody = encodeCbor({
      content: {
        request_type: 'call',
        canister_id: canisterId.toUint8Array(),
        method_name: 'inc',
        arg: new Uint8Array([68, 73, 68, 76, 0, 0]),
        sender: Uint8Array.of(4),
        ingress_expiry: (BigInt(Date.now()) + 200_000n) * 1_000_000n,
        nonce: Uint8Array.of(42),
      },
    });
    const send = (r: ReplicaProcess, version: string) =>
      fetch(`${r.url}/api/${version}/canister/${canisterId.toText()}/call`, {
        method: 'POST',
        headers: { 'content-type': 'application/cbor' },
        body: replayBody,
      });
    expect((await send(replica, 'v3')).status).toBe(200);
    expect(await actor.get()).toBe(12n);

    // Concurrent updates; kill -9 right after some have been answered.
    let replied = 0;
    const calls = Array.from({ length: 30 }, () =>
      actor.inc().then(
        () => replied++,
        () => {},
      ),
    );
    const deadline = Date.now() + 60_000;
    while (replied < 10) {
      if (Date.now() > deadline) throw new Error(`only ${replied} of 30 updates were answered within 60 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await replica.kill();
    await Promise.allSettled(calls);
    const answered = replied;

    replica = await start();
    expect(replica.rootKeyHex).toBe(rootKey);
    expect(replica.output()).toMatch(/restored 1 canister/);
    agent = await localAgent(replica.url);
    actor = Actor.createActor(counterIdl, { agent, canisterId }) as any;
    const count = await actor.get();
    expect(count).toBeGreaterThanOrEqual(12n + BigInt(answered));
    expect(count).toBeLessThanOrEqual(42n);

    // The replayed request is recognised (still replied, with its reply) and not executed a second time.
    expect((await send(replica, 'v2')).status).toBe(202);
    const requestId = requestIdOf((decodeCbor(replayBody) as any).content);
    const state = await agent.readState(canisterId, { paths: [[new TextEncoder().encode('request_status'), requestId]] });
    const statusCert = await Certificate.create({ certificate: state.certificate, rootKey: agent.rootKey!, canisterId });
    expect(new TextDecoder().decode(lookupResultToBuffer(statusCert.lookup_path(['request_status', requestId, 'status'])))).toBe('replied');
    const reply = lookupResultToBuffer(statusCert.lookup_path(['request_status', requestId, 'reply']))!;
    expect(IDL.decode([IDL.Nat], reply)[0]).toBe(12n);
    expect(await actor.get()).toBe(count);

    // The restored canister still works and certifies; a new canister gets a fresh id.
    const next = await actor.inc();
    const [, cert] = await actor.getCertified();
    const certificate = await Certificate.create({ certificate: new Uint8Array(cert[0]), rootKey: agent.rootKey!, canisterId });
    expect(Array.from(lookupResultToBuffer(certificate.lookup_path(['canister', canisterId.toUint8Array(), 'certified_data']))!)).toEqual([
      Number(next % 256n),
    ]);
    const second = await deployCounter(agent, 0n, wasm);
    expect(second.toText()).not.toBe(canisterId.toText());

    // A second replica on the same directory is refused while the first runs.
    await expect(startReplicaProcess({ stateDir })).rejects.toThrow(/is in use by another replica \(pid \d+\)/);

    // Ctrl-C, then start again: the same state.
    expect(await replica.stop()).toBe(0);
    replica = await start();
    agent = await localAgent(replica.url);
    expect(await (Actor.createActor(counterIdl, { agent, canisterId }) as any).get()).toBe(next);
    expect(await (Actor.createActor(counterIdl, { agent, canisterId: second }) as any).get()).toBe(0n);
    expect(await replica.stop()).toBe(0);
  });
});
