// `npm run bench`: performance of the local replica, each number printed next to a floor measured
// in the same run on the same machine. Sections are independent; add one by appending to
// `sections` (the metering engineer adds instruction-counting costs here).
// Loopback only; every loop is bounded in count and time.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '@dfinity/principal';
import { blsVerify } from '@dfinity/agent';
import { Actor } from '@dfinity/agent';
import { DelegationChain, DelegationIdentity, ECDSAKeyIdentity, Ed25519KeyIdentity } from '@dfinity/identity';
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes } from '@scaling-wg/replica/ic';
import { decodeCbor, encodeCbor, type CborMap, lookupPath, type HashTree, signStateRoot, subnetKeys, domainSeparator } from '@scaling-wg/replica/certification';
import { counterIdl, deployCounter, localAgent } from '../replica/test/http-support.ts';
import { startReplicaProcess } from './lib/replica-process.ts';
import { meteringSection, preparationSection } from './bench-metering.ts';
import { pocketIcSection } from './bench-pocket-ic.ts';
import { subnetSection } from './bench-subnet.ts';
import { pageSection } from './bench-page.ts';
import { pageBackendSection } from './bench-page-backend.ts';
import { concurrent, lineWriter, ms, sequential, stats, time } from './lib/bench-support.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

const line = lineWriter(44);

// Light clients: pre-encoded anonymous requests over fetch, responses decoded (query status, the
// certificate's time) but not signature-checked, so the client side does not cap the replica.
function lightClients(url: string, canisterId: Principal) {
  const path = (kind: string, v: string) => `${url}/api/${v}/canister/${canisterId.toText()}/${kind}`;
  const expiry = (BigInt(Date.now()) + 240_000n) * 1_000_000n;
  const content = (type: string, method: string, nonce?: Uint8Array): CborMap => ({
    request_type: type,
    canister_id: canisterId.toUint8Array(),
    method_name: method,
    arg: new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0, 0]),
    sender: Uint8Array.of(4),
    ingress_expiry: expiry,
    ...(nonce ? { nonce } : {}),
  });
  const queryBody = encodeCbor({ content: content('query', 'get') });
  const lightQuery = async () => {
    const r = await fetch(path('query', 'v3'), { method: 'POST', body: queryBody, headers: { 'content-type': 'application/cbor' } });
    const answer = decodeCbor(new Uint8Array(await r.arrayBuffer())) as CborMap;
    if (answer.status !== 'replied') throw new Error(`query failed: ${JSON.stringify(answer)}`);
  };
  let nonce = 0;
  const lightUpdate = async () => {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setFloat64(0, ++nonce + Math.random());
    const r = await fetch(path('call', 'v4'), {
      method: 'POST',
      body: encodeCbor({ content: content('call', 'inc', n) }),
      headers: { 'content-type': 'application/cbor' },
    });
    if (r.status !== 200) throw new Error(`call answered ${r.status}`);
    const answer = decodeCbor(new Uint8Array(await r.arrayBuffer())) as CborMap;
    const cert = decodeCbor(answer.certificate as Uint8Array) as CborMap;
    if (lookupPath(['time'], cert.tree as unknown as HashTree).status !== 'found') throw new Error('certificate without time');
  };
  return { lightQuery, lightUpdate };
}

// ---------------------------------------------------------------------------------------------
// Section: the HTTP interface

async function rawHttpServer(): Promise<{ url: string; stop: () => void }> {
  const code = `const s=require('node:http').createServer((q,r)=>{q.resume();q.on('end',()=>{r.writeHead(200,{'content-type':'application/cbor'});r.end(Buffer.alloc(200))})});s.keepAliveTimeout=65000;s.listen(0,'127.0.0.1',()=>console.log('port '+s.address().port))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.on('data', (d) => resolve(/port (\d+)/.exec(String(d))![1])));
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() };
}

/** BLS sign (server side), the agent's BLS verify and an ed25519 verify, on this machine now. */
async function cryptoFloors() {
  const keys = subnetKeys();
  const root = new Uint8Array(32).fill(7);
  const blsSign = stats(time(() => signStateRoot(keys, root), 30));
  const signature = signStateRoot(keys, root);
  const message = concatBytes(domainSeparator('ic-state-root'), root);
  const rawKey = keys.rootKeyDer.slice(-96);
  const blsCheck = stats(await sequential(async () => blsVerify(rawKey, signature, message), 20));
  const edSecret = ed25519.utils.randomSecretKey();
  const edPublic = ed25519.getPublicKey(edSecret);
  const edSig = ed25519.sign(message, edSecret);
  const edVerify = stats(time(() => ed25519.verify(edSig, message, edPublic), 300));
  return { blsSign, blsCheck, edVerify };
}

async function httpInterfaceSection(): Promise<void> {
  console.log('\n== HTTP interface: replica in a child process (npm run replica), clients here, loopback ==');

  // Floors ---------------------------------------------------------------------------------
  const raw = await rawHttpServer();
  const body = new Uint8Array(300);
  const post = () => fetch(raw.url, { method: 'POST', body, headers: { 'content-type': 'application/cbor' } }).then((r) => r.arrayBuffer());
  await sequential(post, 200, 5);
  const rawOne = stats(await sequential(post, 1000, 10));
  const rawMany = await concurrent(
    Array.from({ length: 50 }, () => post),
    5000,
    10,
  );
  raw.stop();

  const { blsSign, blsCheck, edVerify } = await cryptoFloors();

  line('floor: raw HTTP round trip, 1 client', `p50 ${ms(rawOne.p50)}  p99 ${ms(rawOne.p99)}`);
  line('floor: raw HTTP, 50 clients', `p50 ${ms(rawMany.p50)}  p99 ${ms(rawMany.p99)}  ${rawMany.perSecond.toFixed(0)}/s`);
  line('floor: BLS sign (server)', `p50 ${ms(blsSign.p50)}`);
  line("floor: BLS verify (the agent's blsVerify)", `p50 ${ms(blsCheck.p50)}`);
  line('floor: ed25519 verify (query signature)', `p50 ${ms(edVerify.p50)}`);
  const queryFloor = rawOne.p50 + edVerify.p50;
  const updateFloor = rawOne.p50 + blsSign.p50 + blsCheck.p50;
  line('=> query floor (HTTP + ed25519 verify)', ms(queryFloor));
  line('=> update floor (HTTP + BLS sign + verify)', ms(updateFloor));

  // The replica ----------------------------------------------------------------------------
  const replica = await startReplicaProcess();
  try {
    const agent = await localAgent(replica.url);
    const canisterId = await deployCounter(agent);
    const actor = Actor.createActor(counterIdl, { agent, canisterId }) as any;

    await sequential(() => actor.get(), 30, 5);
    const q1 = stats(await sequential(() => actor.get(), 300, 15));
    line('query, 1 agent (@dfinity/agent, verified)', `p50 ${ms(q1.p50)} (${(q1.p50 / queryFloor).toFixed(2)}x floor)  p99 ${ms(q1.p99)}`);

    // The same query signed by a session key under a delegation (what a logged-in page sends).
    const user = Ed25519KeyIdentity.generate();
    const session = await ECDSAKeyIdentity.generate();
    const chain = await DelegationChain.create(user, session.getPublicKey(), new Date(Date.now() + 3_600_000));
    const signedAgent = await localAgent(replica.url, DelegationIdentity.fromDelegation(session, chain));
    const signedActor = Actor.createActor(counterIdl, { agent: signedAgent, canisterId }) as any;
    await sequential(() => signedActor.get(), 20, 5);
    const qd = stats(await sequential(() => signedActor.get(), 200, 15));
    line('query, 1 agent, delegation identity (P-256)', `p50 ${ms(qd.p50)} (${(qd.p50 / queryFloor).toFixed(2)}x floor)  p99 ${ms(qd.p99)}`);

    await sequential(() => actor.inc(), 5, 5);
    const u1 = stats(await sequential(() => actor.inc(), 60, 15));
    line('update, 1 agent (v3 call, certificate verified)', `p50 ${ms(u1.p50)} (${(u1.p50 / updateFloor).toFixed(2)}x floor)  p99 ${ms(u1.p99)}`);

    // 50 agents, each with its own HttpAgent. One BLS signature covers a batch of concurrent
    // calls, so the agents share a memo of verified (key, signature, message) triples: the
    // verification is real, done once per distinct signature.
    const verified = new Map<string, Promise<boolean>>();
    const memoVerify = (pk: Uint8Array, sig: Uint8Array, msg: Uint8Array) => {
      const k = Buffer.from(sig).toString('hex') + Buffer.from(msg).toString('hex');
      if (!verified.has(k)) verified.set(k, Promise.resolve(blsVerify(pk, sig, msg)));
      return verified.get(k)!;
    };
    const agents = await Promise.all(Array.from({ length: 50 }, () => localAgent(replica.url)));
    const actors = agents.map((a) => Actor.createActor(counterIdl, { agent: a, canisterId, blsVerify: memoVerify } as any) as any);
    await Promise.all(actors.map((a) => a.get()));
    const q50 = await concurrent(
      actors.map((a) => () => a.get()),
      2000,
      15,
    );
    line(
      'query, 50 agents (verified)',
      `p50 ${ms(q50.p50)}  p99 ${ms(q50.p99)}  ${q50.perSecond.toFixed(0)}/s (floor ${rawMany.perSecond.toFixed(0)}/s raw HTTP)`,
    );
    const u50 = await concurrent(
      actors.map((a) => () => a.inc()),
      1000,
      20,
    );
    line('update, 50 agents (verified, memoized BLS)', `p50 ${ms(u50.p50)}  p99 ${ms(u50.p99)}  ${u50.perSecond.toFixed(0)}/s`);

    const { lightQuery, lightUpdate } = lightClients(replica.url, canisterId);
    const qt = await concurrent(
      Array.from({ length: 50 }, () => lightQuery),
      20_000,
      10,
    );
    line('query throughput, 50 light clients', `${qt.perSecond.toFixed(0)}/s  p50 ${ms(qt.p50)}  (aim 2000/s; raw HTTP ${rawMany.perSecond.toFixed(0)}/s)`);
    const ut = await concurrent(
      Array.from({ length: 50 }, () => lightUpdate),
      5_000,
      10,
    );
    line('update throughput, 50 light clients', `${ut.perSecond.toFixed(0)}/s  p50 ${ms(ut.p50)}  (aim 300/s)`);
  } finally {
    await replica.stop();
  }

  // The same updates with --state-dir: every certificate waits for its commit's fsync.
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-state-'));
  const durable = await startReplicaProcess({ stateDir });
  try {
    const canisterId = await deployCounter(await localAgent(durable.url));
    const { lightUpdate } = lightClients(durable.url, canisterId);
    const one = stats(await sequential(lightUpdate, 100, 10));
    line('update, 1 light client, --state-dir', `p50 ${ms(one.p50)}  p99 ${ms(one.p99)}`);
    const many = await concurrent(
      Array.from({ length: 50 }, () => lightUpdate),
      5_000,
      10,
    );
    line('update throughput, 50 light clients, --state-dir', `${many.perSecond.toFixed(0)}/s  p50 ${ms(many.p50)}`);
  } finally {
    await durable.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }

  // The machine is shared: the same floors again, so a reader can see how much they drifted.
  const again = await cryptoFloors();
  line('floors re-measured at the end', `BLS sign ${ms(again.blsSign.p50)}, BLS verify ${ms(again.blsCheck.p50)}, ed25519 verify ${ms(again.edVerify.p50)}`);
}

// ---------------------------------------------------------------------------------------------

const sections: Array<{ name: string; run: () => Promise<void>; onlyWhenNamed?: boolean }> = [
  { name: 'http', run: httpInterfaceSection },
  { name: 'metering', run: meteringSection },
  // Its first part alone: how long module preparation takes (also printed by 'metering').
  { name: 'prepare', run: preparationSection, onlyWhenNamed: true },
  { name: 'pocket-ic', run: pocketIcSection },
  { name: 'subnet', run: subnetSection },
  // Not in a plain `npm run bench`: it builds and serves the whole site (minutes on a cold machine).
  { name: 'page', run: pageSection, onlyWhenNamed: true },
  // The same demos on the page backend (the replica in the tab), against dist/.
  { name: 'page', run: pageBackendSection, onlyWhenNamed: true },
];

const only = process.argv[2];
for (const section of sections) {
  if (only ? section.name !== only : section.onlyWhenNamed) continue;
  await section.run();
}
process.exit(0);
