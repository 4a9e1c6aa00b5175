// The `pocket-ic` executable as clients drive it: the port file (claimed atomically, reused by a
// second start, removed on exit), the TTL, clean shutdown on SIGTERM, and PocketIC-shaped errors.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PocketIcServer } from '../src/pocket-ic/server.ts';
import { Principal } from '@dfinity/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCbor, type CborValue } from '../src/certification/cbor.ts';
import { reconstruct, type HashTree } from '../src/certification/hash-tree.ts';
import { signStateRoot, subnetKeys } from '../src/certification/keys.ts';
import { PocketIc } from '@dfinity/pic';
import { motokoFixture, watFixture } from './fixtures/build.ts';

const BIN = resolve('node_modules/.bin/pocket-ic');
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function portFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pocket-ic-test-'));
  dirs.push(dir);
  return join(dir, 'pocket_ic.port');
}

async function start(args: string[]): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(BIN, args, { stdio: 'ignore' });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited };
}

async function portIn(file: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text.endsWith('\n')) return Number(text.trim());
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no port in ${file} after 60 s`);
}

describe('pocket-ic executable', () => {
  it('writes its port, lets a second start reuse it, and removes the file on SIGTERM', async () => {
    const file = portFile();
    const first = await start(['--port-file', file]);
    const port = await portIn(file);
    expect((await fetch(`http://127.0.0.1:${port}/status`)).status).toBe(200);
    // A second server for the same client sees the file and leaves at once; the port stays.
    const second = await start(['--port-file', file]);
    expect(await second.exited).toBe(0);
    expect(await portIn(file)).toBe(port);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('stops by itself after --ttl seconds without requests', async () => {
    const file = portFile();
    const server = await start(['--port-file', file, '--ttl', '1']);
    await portIn(file);
    const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('answers unknown endpoints and bad bodies with JSON messages, and names unsupported flags', async () => {
    const file = portFile();
    await start(['--port-file', file]);
    const url = `http://127.0.0.1:${await portIn(file)}`;
    const missing = await fetch(`${url}/instances/7/read/get_time`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Instance with ID 7 not found.' });
    const wrongType = await fetch(`${url}/instances`, { method: 'POST', body: '{"subnet_config_set": []}' });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { Error: { message: string } }).Error.message).toMatch(/subnet_config_set must be a JSON object/);
    const created = (await (
      await fetch(`${url}/instances`, {
        method: 'POST',
        body: '{"subnet_config_set": {"application": [{"state_config": "New", "instruction_config": "Production"}]}}',
      })
    ).json()) as { Created: { instance_id: number } };
    const badCall = await fetch(`${url}/instances/${created.Created.instance_id}/read/query`, {
      method: 'POST',
      body: '{"sender": "!!", "canister_id": "AAAAAAAAAAEBAQ==", "method": "x", "payload": "", "effective_principal": "None"}',
    });
    expect(badCall.status).toBe(400);
    expect(((await badCall.json()) as { message: string }).message).toMatch(/sender: invalid type, expected a base64 string/);
    const refused = spawnSync(BIN, ['--fetch-mainnet-routing-table'], { encoding: 'utf8', timeout: 30_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--fetch-mainnet-routing-table are not supported/);
    expect(spawnSync(BIN, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout).toBe('pocket-ic-server 10.0.0\n');
  });

  it('keeps an instance in its state_dir across deletion and re-creation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pocket-ic-state-'));
    dirs.push(dir);
    const server = new PocketIcServer();
    await server.listen();
    try {
      const post = async (path: string, body: unknown) =>
        (await fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<{ Created: { instance_id: number } }>;
      const first = await post('/instances', {
        subnet_config_set: { application: [{ state_config: 'New', instruction_config: 'Production' }] },
        state_dir: dir,
      });
      const instance = server.instances[first.Created.instance_id]!;
      const canisterId = await instance.replica.createCanister({ cycles: 12_345_678n });
      await instance.setTime(1_700_000_000_000_000_000n);
      expect((await fetch(`${server.url}/instances/${first.Created.instance_id}`, { method: 'DELETE' })).status).toBe(200);
      // No subnets given: the saved topology comes back with the canisters and the time.
      const second = await post('/instances', { subnet_config_set: {}, state_dir: dir });
      const restored = server.instances[second.Created.instance_id]!;
      expect(restored.replica.getCyclesBalance(canisterId)).toBe(12_345_678n);
      expect(restored.timeNanos).toBe(1_700_000_000_000_000_000n);
    } finally {
      await server.stop();
    }
  });

  it('runs due timers in the round that executes a call, as PocketIC does, and on tick', async () => {
    const server = new PocketIcServer();
    await server.listen();
    try {
      const pic = await PocketIc.create(server.url);
      const canisterId = await pic.createCanister();
      await pic.installCode({ canisterId, wasm: await watFixture('timer') });
      const count = async () => (await pic.queryCall({ canisterId, method: 'count' }))[0];
      await pic.updateCall({ canisterId, method: 'arm' });
      await pic.advanceTime(2_000);
      expect(await count()).toBe(0);
      await pic.updateCall({ canisterId, method: 'noop' });
      expect(await count()).toBe(1);
      await pic.updateCall({ canisterId, method: 'arm' });
      await pic.advanceTime(500);
      await pic.tick();
      expect(await count()).toBe(1);
      await pic.advanceTime(500);
      await pic.tick();
      expect(await count()).toBe(2);
      await pic.tearDown();
    } finally {
      await server.stop();
    }
  });

  it('interleaves calls submitted before a round at their awaits, as the IC does', async () => {
    const server = new PocketIcServer();
    await server.listen();
    try {
      const pic = await PocketIc.create(server.url);
      const fixture = await motokoFixture('withdrawals');
      const { canisterId } = await pic.setupCanister({ idlFactory: fixture.idlFactory as never, wasm: fixture.wasm });
      type Withdrawals = { withdraw(n: bigint): Promise<boolean>; paid(): Promise<bigint> };
      const deferred = pic.createDeferredActor<Withdrawals>(fixture.idlFactory as never, canisterId);
      const first = await deferred.withdraw(100n);
      const second = await deferred.withdraw(100n);
      // Both passed the balance check before either deducted: both pay out.
      expect(await Promise.all([first(), second()])).toEqual([true, true]);
      const actor = pic.createActor<Withdrawals>(fixture.idlFactory as never, canisterId);
      expect(await actor.paid()).toBe(200n);
      // One after the other, the second sees the first's deduction.
      expect(await actor.withdraw(100n)).toBe(false);
      await pic.tearDown();
    } finally {
      await server.stop();
    }
  });

  it('answers junk on every route with a 4xx JSON message, never a 5xx', async () => {
    const server = new PocketIcServer();
    await server.listen();
    try {
      await fetch(`${server.url}/instances`, { method: 'POST', body: '{"subnet_config_set": {"application": [{}]}}' });
      const routes = [
        '/instances',
        '/instances/0/read/query',
        '/instances/0/update/submit_ingress_message',
        '/instances/0/update/await_ingress_message',
        '/instances/0/update/set_time',
        '/instances/0/update/tick',
        '/instances/0/update/add_cycles',
        '/instances/0/update/set_stable_memory',
        '/instances/0/read/get_subnet',
        '/instances/0/read/pub_key',
        '/instances/0/read/ingress_status',
        '/instances/0/auto_progress',
        '/http_gateway',
        '/instances/7/read/get_time',
        '/no/such/route',
      ];
      const bodies = [
        '',
        '{',
        'null',
        '[]',
        '1e999',
        '{"canister_id": 5}',
        '{"canister_id": "@@"}',
        '{"nanos_since_epoch": -1}',
        '{"subnet_config_set": {"nns": 5}}',
        '{"forward_to": null}',
        '\u00ff',
      ];
      for (const route of routes) {
        for (const method of ['GET', 'POST', 'DELETE']) {
          for (const body of method === 'GET' ? [''] : bodies) {
            const response = await fetch(`${server.url}${route}`, { method, body: method === 'GET' ? undefined : body });
            const text = await response.text();
            expect(response.status, `${method} ${route} ${body}`).toBeLessThan(500);
            if (response.status >= 400) {
              // PocketIC's error bodies: {"message"}, or {"Error": {"message"}} when creating an instance or a gateway fails.
              const json = JSON.parse(text) as { message?: unknown; Error?: { message?: unknown } };
              expect(typeof (json.message ?? json.Error?.message), `${method} ${route} ${body}`).toBe('string');
            }
          }
        }
      }
      // Still serving.
      expect((await fetch(`${server.url}/instances/0/read/get_time`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('verifies canister signatures at /verify_signature', async () => {
    const keys = subnetKeys(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
    const canisterId = Principal.fromText('rdmx6-jaaaa-aaaaa-aaadq-cai').toUint8Array();
    const seed = new TextEncoder().encode('some user seed');
    const message = new TextEncoder().encode('a delegation to sign');
    const label = (text: string) => new TextEncoder().encode(text);
    const sigTree: HashTree = [2, label('sig'), [2, sha256(seed), [2, sha256(message), [3, new Uint8Array()]]]];
    const certTree: HashTree = [2, label('canister'), [2, canisterId, [2, label('certified_data'), [3, reconstruct(sigTree)]]]];
    const certificate = encodeCbor({ tree: certTree as CborValue, signature: signStateRoot(keys, reconstruct(certTree)) });
    const sig = encodeCbor({ certificate, tree: sigTree as CborValue });
    const bits = Uint8Array.from([0, canisterId.length, ...canisterId, ...seed]);
    const algorithm = Uint8Array.from([0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x02]);
    const body = [...algorithm, 0x03, bits.length, ...bits];
    const pubkey = Uint8Array.from([0x30, body.length, ...body]);
    const server = new PocketIcServer();
    await server.listen();
    try {
      const verify = async (msg: Uint8Array, key = pubkey) => {
        const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
        const response = await fetch(`${server.url}/verify_signature`, {
          method: 'POST',
          body: JSON.stringify({ msg: b64(msg), sig: b64(sig), pubkey: b64(key), root_pubkey: b64(keys.rootKeyDer) }),
        });
        return { status: response.status, body: (await response.json()) as unknown };
      };
      expect(await verify(message)).toEqual({ status: 200, body: { Ok: null } });
      const other = await verify(new TextEncoder().encode('another message'));
      expect(other.status).toBe(406);
      expect(other.body).toEqual({ Err: 'Canister signature verification failed: the signature tree has no entry for this seed and message' });
      expect((await verify(message, pubkey.subarray(0, 10))).status).toBe(400);
    } finally {
      await server.stop();
    }
  });
});
