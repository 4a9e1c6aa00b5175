// The `--network ic` deploy, end to end, against a local replica posing as mainnet: the replica's
// root key is pinned in the agent the way the IC's is (never fetched), the canisters are the `ic`
// entries of a canister_ids.json, created beforehand and controlled by an identity PEM, and the
// deploy runs as `npm run deploy -- --network ic` would (site build included). Only the host and
// the pinned key are overridden (WG_TEST_IC_HOST, WG_TEST_IC_ROOT_KEY; scripts/deploy.ts).
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAgent } from '@dfinity/agent';
import { deployedCanisters } from '../../canisters/canisters.ts';
import { identityFromPem } from '../../scripts/deploy.ts';
import { management } from '../../src/lib/ic/demo-deploy.ts';
import { subnetKeys } from '@scaling-wg/replica/certification';
import { toHex } from '@scaling-wg/replica/ic';
import { startReplicaProcess, type ReplicaProcess } from '../../scripts/lib/replica-process.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'mainnet-rehearsal-'));
let replica: ReplicaProcess;
const pemPath = join(work, 'deployer.pem');
const idsPath = join(work, 'canister_ids.json');
const ids: Record<string, string> = {};

function runDeploy(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'scripts/deploy.ts'), '--network', 'ic', '--identity', pemPath, '--canister-ids', idsPath, '--out-dir', join(work, 'site'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => done({ code, output }));
  });
}

function gatewayGet(path: string, host: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(replica.url);
  return new Promise((done, fail) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

beforeAll(async () => {
  replica = await startReplicaProcess({ stateDir: join(work, 'state') });
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(pemPath, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  const identity = identityFromPem(readFileSync(pemPath, 'utf8'), pemPath);
  // The canisters exist before the deploy, as on mainnet (created with the owner's cycles).
  const agent = await HttpAgent.create({ host: replica.url, identity, rootKey: new Uint8Array(Buffer.from(replica.rootKeyHex, 'hex')) });
  const ic = management(agent, 'rrkah-fqaaa-aaaaa-aaaaq-cai');
  for (const name of ['site', ...deployedCanisters.map((c) => c.name)]) {
    const { canister_id } = await ic.provisional_create_canister_with_cycles({
      amount: [100_000_000_000_000n],
      settings: [{ controllers: [[identity.getPrincipal()]] }],
      specified_id: [],
    });
    ids[name] = canister_id.toText();
  }
  writeFileSync(idsPath, JSON.stringify(Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, { ic: id }])), null, 2));
}, 300_000);

afterAll(async () => {
  await replica?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('npm run deploy -- --network ic, against a replica posing as mainnet', () => {
  it('refuses a host whose certificates do not chain to the pinned root key', async () => {
    const stranger = toHex(subnetKeys().rootKeyDer);
    mkdirSync(join(work, 'site'), { recursive: true });
    writeFileSync(join(work, 'site/index.html'), '<!doctype html><title>placeholder</title>');
    const run = await runDeploy(['--skip-build', '--skip-demos'], { WG_TEST_IC_HOST: replica.url, WG_TEST_IC_ROOT_KEY: stranger });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/Connecting to mainnet/);
    expect(run.output).toMatch(/signature|certificate/i);
  }, 300_000);

  it('builds the site for mainnet, deploys the demos and the site into the recorded canisters, and serves it certified', async () => {
    const run = await runDeploy([], { WG_TEST_IC_HOST: replica.url, WG_TEST_IC_ROOT_KEY: replica.rootKeyHex });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`https://${ids.site}.icp0.io/`);
    // The ids are the recorded ones: nothing was created, and the file still names them.
    const recorded = JSON.parse(readFileSync(idsPath, 'utf8')) as Record<string, { ic: string }>;
    for (const [name, id] of Object.entries(ids)) expect(recorded[name]?.ic, name).toBe(id);

    // The site was built for mainnet: the demos' agent talks to mainnet and knows the ic ids.
    const built = join(work, 'site');
    const code = readdirSync(built, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js') || f.endsWith('.html'))
      .map((f) => readFileSync(join(built, f), 'utf8'))
      .join('\n');
    expect(code.includes('https://icp-api.io'), 'the mainnet host in the bundle').toBe(true);
    expect(code.includes(ids['sharding-index']), 'the ic id of sharding-index in the bundle').toBe(true);
    expect(existsSync(join(work, 'site/index.html'))).toBe(true);

    // Served through the replica's gateway, which verifies against the same root key.
    const home = await gatewayGet('/', `${ids.site}.localhost`);
    expect(home.status).toBe(200);
    expect(String(home.headers['ic-certificate'])).toMatch(/version=2/);
    const csp = String(home.headers['content-security-policy']);
    expect(csp).not.toMatch(/unsafe-inline|127\.0\.0\.1|localhost/);
    expect(home.body).toContain('<h1');
  }, 900_000);
});
