// `npm run deploy -- --network local|ic`: the site as a certified asset canister, with its demos.
//   1. the network: local = the replica at 127.0.0.1:4943 (started in the background, state in
//      .replica-state/, when none answers); ic = mainnet through https://icp-api.io
//   2. the demo canisters: built (cached) and created or upgraded (src/lib/ic/demo-deploy.ts,
//      the same path `npm start` uses)
//   3. the site: `astro build` with this network's canister ids
//   4. the asset canister (canisters/assets): created, or upgraded when its module changed
//   5. dist/ uploaded with @dfinity/assets, only what changed, with a progress bar
//   6. ids recorded: canister_ids.json (ic, dfx's format) or .replica-state/canister_ids.json (local)
//      (merged through scripts/lib/canister-ids.ts, so `npm start` keeps the site id recorded here)
//
// Flags: --network local|ic (default local)  --identity <pem>  (required for ic: a dfx/icp-cli
//        identity file, Ed25519 or secp256k1; local defaults to the same deployer `npm start` uses)
//        --skip-build (upload the site directory as it is)  --skip-demos  --port <n> (local replica
//        port, 4943)  --out-dir <dir> (where the site is built and uploaded from; default dist/)
//        --canister-ids <file> (the canister_ids.json with the ic ids; default the repository's)
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Actor, CanisterStatus, HttpAgent, type SignIdentity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { Principal } from '@dfinity/principal';
import { buildAssetCanister } from './lib/asset-canister.ts';
import { readCanisterIds, recordCanisterIds } from './lib/canister-ids.ts';
import { deployDemoCanisters, LOCAL_RANGE_START, localDeployer, management, siteNetworkEnv, type ManagementService } from '../src/lib/ic/demo-deploy.ts';
import { syncAssets, type SyncProgress } from './lib/asset-sync.ts';
import { LOOPBACK_CONNECT_SOURCES } from './lib/asset-config.ts';
import { runProcess } from './lib/processes.ts';
import { startReplicaProcess } from './lib/replica-process.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE =
  'usage: npm run deploy -- --network local|ic [--identity <identity.pem>] [--skip-build] [--skip-demos] [--port 4943] [--out-dir dist] [--canister-ids canister_ids.json]';
/** The dfx.json name of the site's asset canister (`type: assets`). */
export const SITE_CANISTER = 'site';

class DeployError extends Error {}

function step(n: number, total: number, title: string): () => void {
  const started = Date.now();
  console.log(`[${n}/${total}] ${title}`);
  return () => console.log(`      done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** An identity file as dfx and icp-cli write it: PKCS#8 Ed25519, or SEC1 / PKCS#8 secp256k1. */
export function identityFromPem(pem: string, source: string): SignIdentity {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new DeployError(`${source} is not a PEM private key (${(error as Error).message}); export one with \`dfx identity export <name>\``);
  }
  const jwk = key.export({ format: 'jwk' }) as { d?: string; crv?: string };
  const secret = new Uint8Array(Buffer.from(jwk.d ?? '', 'base64url'));
  if (key.asymmetricKeyType === 'ed25519') return Ed25519KeyIdentity.fromSecretKey(secret);
  if (key.asymmetricKeyType === 'ec' && jwk.crv === 'secp256k1') return Secp256k1KeyIdentity.fromSecretKey(secret);
  throw new DeployError(`${source} holds a ${key.asymmetricKeyType}${jwk.crv ? ` ${jwk.crv}` : ''} key; the IC tooling uses Ed25519 or secp256k1 identities`);
}

/**
 * A warning when the identity file can be read by others than its owner (group or world bits
 * set), as ssh does for private keys; undefined when it is private or the platform has no modes.
 */
export function keyFileWarning(path: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return (
    `warning: ${path} is readable by ${mode & 0o004 ? 'every user of this machine' : 'its group'} (mode ${mode.toString(8).padStart(3, '0')}). ` +
    `It holds the key that controls your canisters; make it private with \`chmod 600 ${path}\``
  );
}

/** Mainnet's API boundary nodes. */
export const MAINNET_HOST = 'https://icp-api.io';

/**
 * Where `--network ic` goes: mainnet, verified against the IC root key the agent has built in
 * (never fetched). Tests only: WG_TEST_IC_HOST and WG_TEST_IC_ROOT_KEY (hex DER) point it at a
 * local replica posing as mainnet, with that replica's key pinned the same way; nothing else about
 * the ic path changes (tests/unit/mainnet-rehearsal.test.ts).
 */
export function mainnetEndpoint(env: NodeJS.ProcessEnv = process.env): { host: string; rootKey?: Uint8Array } {
  const host = env.WG_TEST_IC_HOST;
  const key = env.WG_TEST_IC_ROOT_KEY;
  if (host === undefined && key === undefined) return { host: MAINNET_HOST };
  if (!host || !key || !/^([0-9a-f]{2})+$/i.test(key)) {
    throw new DeployError(
      'WG_TEST_IC_HOST and WG_TEST_IC_ROOT_KEY (the root key as hex DER) go together; they are for tests that pose a local replica as mainnet',
    );
  }
  return { host, rootKey: new Uint8Array(Buffer.from(key, 'hex')) };
}

async function replicaAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/v2/status`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts `npm run replica` in the background (it outlives the deploy: the site is served from it). */
async function startLocalReplica(port: number, stateDir: string): Promise<string> {
  const logDir = join(repoRoot, '.cache/deploy');
  const logPath = join(logDir, 'replica.log');
  let replica;
  try {
    replica = await startReplicaProcess({
      host: '127.0.0.1',
      port,
      stateDir,
      log: 'normal',
      cwd: repoRoot,
      detached: true,
      logPath,
      portFile: join(logDir, `replica-${port}.port`),
    });
  } catch (error) {
    throw new DeployError(`the local replica did not start: ${(error as Error).message}`);
  }
  console.log(
    `      started the replica in the background (pid ${replica.pid}, log ${logPath.replace(`${repoRoot}/`, '')}); stop it with: kill ${replica.pid}`,
  );
  return replica.url;
}

async function installedModuleHash(agent: HttpAgent, id: string): Promise<string | undefined | null> {
  try {
    const status = await CanisterStatus.request({ agent, canisterId: Principal.fromText(id), paths: ['module_hash', 'controllers'] });
    if (!Array.isArray(status.get('controllers'))) return null; // no such canister
    const hash = status.get('module_hash');
    return typeof hash === 'string' && hash ? hash.replace(/^0x/, '') : undefined;
  } catch (error) {
    if (/not (?:found|exist)|does not belong|does not contain|absent|404|400/i.test(String((error as Error).message))) return null;
    throw error;
  }
}

/** True when the installed module answers `upload_status`, a query only canisters/assets has. */
async function runsOurAssetCanister(agent: HttpAgent, id: string): Promise<boolean> {
  const probe: IDL.InterfaceFactory = ({ IDL }) =>
    IDL.Service({ upload_status: IDL.Func([], [IDL.Record({ open_batches: IDL.Nat, pending_chunks: IDL.Nat, pending_bytes: IDL.Nat })], ['query']) });
  try {
    await Actor.createActor<{ upload_status: () => Promise<unknown> }>(probe, { agent, canisterId: id }).upload_status();
    return true;
  } catch {
    return false;
  }
}

/** Creates (local), installs or upgrades the asset canister; returns its id and what happened. */
export async function deployAssetCanister(
  agent: HttpAgent,
  network: 'local' | 'ic',
  knownId: string | undefined,
): Promise<{ id: string; action: string; wasmBytes: number }> {
  const built = await buildAssetCanister({ check: true });
  if (built.stale.length) console.log(`      note: ${built.stale.join(', ')} differ from the build; run node scripts/lib/asset-canister.ts and commit them`);
  const self = await agent.getPrincipal();
  let id = knownId;
  const hash = id ? await installedModuleHash(agent, id) : null;
  let action: string;
  if (!id || hash === null) {
    if (network !== 'local') {
      throw new DeployError(
        `the site has no asset canister on mainnet${id ? ` (${id} does not exist)` : ''}. Create one with your cycles: \`dfx canister create ${SITE_CANISTER} --network ic\` ` +
          `records its id in canister_ids.json; after \`icp canister create ${SITE_CANISTER} -e ic\` add it yourself as { "${SITE_CANISTER}": { "ic": "<id>" } }. Then run the deploy again.`,
      );
    }
    const created = await management(agent, id ?? LOCAL_RANGE_START).provisional_create_canister_with_cycles({
      amount: [100_000_000_000_000n],
      settings: [{ controllers: [[self]] }],
      specified_id: id ? [Principal.fromText(id)] : [],
    });
    id = created.canister_id.toText();
    action = knownId ? 'recreated' : 'created';
  } else if (hash === built.sha256) {
    return { id, action: 'unchanged', wasmBytes: built.wasm.length };
  } else {
    action = hash ? 'upgraded' : 'installed';
    if (hash && !(await runsOurAssetCanister(agent, id))) {
      // An upgrade from another program (e.g. dfx's Rust asset canister) would not keep its state.
      throw new DeployError(
        `${SITE_CANISTER} (${id}) runs a different program than canisters/assets (module ${hash.slice(0, 12)}…), e.g. DFINITY's asset canister from \`dfx deploy\`. ` +
          'Keep deploying it with dfx/icp-cli, or empty it first (`dfx canister uninstall-code site` / `icp canister uninstall site`) and run this deploy again.',
      );
    }
  }
  const mode: Parameters<ManagementService['install_code']>[0]['mode'] =
    action === 'upgraded'
      ? { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [{ keep: null }] }] } // enhanced orthogonal persistence keeps the heap
      : { install: null };
  await management(agent, id).install_code({ mode, canister_id: Principal.fromText(id), wasm_module: built.wasm, arg: new Uint8Array(IDL.encode([], [])) });
  return { id, action, wasmBytes: built.wasm.length };
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.max(1, Math.round(n / 1024))} KiB`;
}

/** A one-line progress bar on a terminal; a line per quarter otherwise (CI logs). */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: SyncProgress) => void {
  let lastQuarter = -1;
  return (p) => {
    if (p.phase !== 'upload' || p.bytesTotal === 0) return;
    const fraction = p.bytesDone / p.bytesTotal;
    const text = `${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}, ${p.assetsDone}/${p.assetsTotal} assets committed`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r      [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${text}   `);
      if (p.bytesDone === p.bytesTotal && p.assetsDone === p.assetsTotal) stream.write('\n');
    } else {
      const quarter = Math.floor(fraction * 4);
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        console.log(`      ${(fraction * 100).toFixed(0)}% ${text}`);
      }
    }
  };
}

async function buildSite(outDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const astro = join(repoRoot, 'node_modules/astro/bin/astro.mjs');
  try {
    await runProcess({
      name: 'astro build',
      args: [astro, 'build', '--outDir', outDir],
      cwd: repoRoot,
      env: { ...process.env, ...env },
      logPath: join(repoRoot, '.cache/deploy/site-build.log'),
    });
  } catch (error) {
    throw new DeployError((error as Error).message);
  }
}

export interface DeployOptions {
  network: 'local' | 'ic';
  identityPath?: string;
  skipBuild?: boolean;
  skipDemos?: boolean;
  port?: number;
  stateDir?: string;
  /** Where the site is built and uploaded from. Default: dist/. */
  outDir?: string;
  /** canister_ids.json holding the `ic` ids. Default: the repository's (--canister-ids). */
  mainnetIdsPath?: string;
}

export async function deploy(options: DeployOptions): Promise<{ siteId: string; urls: string[] }> {
  const started = Date.now();
  const { network } = options;
  const stateDir = options.stateDir ?? resolve(repoRoot, process.env.WG_STATE_DIR ?? '.replica-state');
  const total = 6;
  const outDir = resolve(repoRoot, options.outDir ?? 'dist');

  let done = step(1, total, network === 'local' ? 'Connecting to the local replica' : 'Connecting to mainnet');
  let host: string;
  if (network === 'local') {
    host = `http://127.0.0.1:${options.port ?? Number(process.env.WG_REPLICA_PORT ?? 4943)}`;
    if (await replicaAnswers(host)) console.log(`      ${host} is running`);
    else host = await startLocalReplica(Number(new URL(host).port), stateDir);
  } else {
    host = mainnetEndpoint().host;
    if (!options.identityPath)
      throw new DeployError(
        '--network ic needs --identity <pem>: the identity that controls the canisters (e.g. `dfx identity export default > ~/.config/deployer.pem`, outside the repository)',
      );
  }
  if (options.identityPath) {
    const warning = keyFileWarning(resolve(options.identityPath));
    if (warning) console.warn(`      ${warning}`);
  }
  const identity = options.identityPath ? identityFromPem(readFileSync(resolve(options.identityPath), 'utf8'), options.identityPath) : localDeployer(stateDir);
  // Local: the replica's key, fetched. Mainnet: the root key is pinned in the agent, never fetched.
  const pinnedRootKey = network === 'ic' ? mainnetEndpoint().rootKey : undefined;
  const agent = await HttpAgent.create({ host, identity, shouldFetchRootKey: network === 'local', ...(pinnedRootKey ? { rootKey: pinnedRootKey } : {}) });
  console.log(`      deploying as ${(await agent.getPrincipal()).toText()}`);
  const idsPath = network === 'ic' ? (options.mainnetIdsPath ?? join(repoRoot, 'canister_ids.json')) : join(stateDir, 'canister_ids.json');
  const known = readCanisterIds(idsPath, network);
  done();

  done = step(2, total, 'Deploying the demo canisters');
  let demoIds: Record<string, string> = Object.fromEntries(Object.entries(known).filter(([name]) => name !== SITE_CANISTER));
  if (options.skipDemos) console.log('      skipped (--skip-demos)');
  else {
    const { buildCanisters } = await import('./build-canisters.ts');
    const built = await buildCanisters({ log: (line) => console.log(`      ${line}`) });
    ({ ids: demoIds } = await deployDemoCanisters({ agent, network, built, knownIds: known, log: (line) => console.log(`    ${line}`) }));
    recordCanisterIds(idsPath, network, demoIds);
  }
  done();

  done = step(3, total, options.skipBuild ? 'Using the site in dist/ as built (--skip-build)' : 'Building the site for this network');
  if (!options.skipBuild) {
    // The same variables `npm start` gives astro dev; mainnet ids come from canister_ids.json, written above.
    await buildSite(outDir, siteNetworkEnv({ network, ...(network === 'local' ? { host } : {}), ids: demoIds }));
  }
  if (!existsSync(join(outDir, 'index.html')))
    throw new DeployError(`${join(outDir, 'index.html')} is missing: build the site first (npm run build) or drop --skip-build`);
  done();

  done = step(4, total, 'Deploying the asset canister');
  const site = await deployAssetCanister(agent, network, known[SITE_CANISTER]);
  console.log(`      ${SITE_CANISTER} ${site.id} ${site.action} (module ${formatBytes(site.wasmBytes)})`);
  recordCanisterIds(idsPath, network, { [SITE_CANISTER]: site.id });
  done();

  done = step(5, total, `Uploading ${outDir.replace(`${repoRoot}/`, '')}/ (only what changed)`);
  const result = await syncAssets({
    agent,
    canisterId: site.id,
    siteDir: outDir,
    onProgress: progressPrinter(),
    // The production policy allows no loopback connections; a local site talks to the local replica.
    connectSources: network === 'local' ? LOOPBACK_CONNECT_SOURCES : [],
  });
  console.log(
    `      ${result.uploaded.length} uploaded (${formatBytes(result.bytesUploaded)} in ${result.commits} commit${result.commits === 1 ? '' : 's'}), ` +
      `${result.unchanged} unchanged, ${result.deleted.length} deleted, ${(result.ms / 1000).toFixed(1)} s`,
  );
  done();

  done = step(6, total, 'Recording canister ids');
  console.log(`      ${idsPath.replace(`${repoRoot}/`, '')}`);
  done();

  const port = new URL(host).port;
  const urls =
    network === 'local' ? [`http://${site.id}.localhost:${port}/`, `http://127.0.0.1:${port}/?canisterId=${site.id}`] : [`https://${site.id}.icp0.io/`];
  console.log(`\nDeployed in ${((Date.now() - started) / 1000).toFixed(1)} s. The site: ${urls.join('  or  ')}`);
  return { siteId: site.id, urls };
}

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        network: { type: 'string', default: 'local' },
        identity: { type: 'string' },
        'skip-build': { type: 'boolean', default: false },
        'skip-demos': { type: 'boolean', default: false },
        port: { type: 'string' },
        'out-dir': { type: 'string' },
        'canister-ids': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.network !== 'local' && values.network !== 'ic') {
    console.error(`--network must be local or ic, got "${values.network}"\n${USAGE}`);
    process.exit(2);
  }
  try {
    await deploy({
      network: values.network,
      identityPath: values.identity,
      skipBuild: values['skip-build'],
      skipDemos: values['skip-demos'],
      ...(values.port ? { port: Number(values.port) } : {}),
      ...(values['out-dir'] ? { outDir: values['out-dir'] } : {}),
      ...(values['canister-ids'] ? { mainnetIdsPath: resolve(values['canister-ids']) } : {}),
    });
  } catch (error) {
    console.error(`\n✖ deploy failed: ${error instanceof DeployError ? error.message : ((error as Error).stack ?? error)}`);
    process.exit(1);
  }
}
