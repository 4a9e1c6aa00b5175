// `npm start`: the whole thing on this machine, then one URL to open.
//   1. build the demo canisters        (scripts/build-canisters.ts; cached by a hash of the sources)
//   2. start the local replica          (replica/src/cli.ts, state in .replica-state/)
//   3. deploy the demo canisters        (scripts/lib/demo-deploy.ts: same ids every start, upgrade on change)
//   4. serve the dev identity provider  (scripts/dev-identity/: Internet Identity's stand-in)
//   5. start the site                   (astro dev, told the network through PUBLIC_WG_* variables)
// Ctrl-C (or SIGTERM) stops everything it started. Logs of the replica and the site go to .cache/.
//
// Ports and places (environment): WG_REPLICA_PORT (4943), WG_IDP_PORT (4944), WG_SITE_PORT (4321),
// WG_STATE_DIR (.replica-state). Flags: --fresh wipes the state directory first; --preview serves a
// build of the site (astro build + preview) instead of astro dev.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpAgent } from '@dfinity/agent';
import { buildCanisters } from './build-canisters.ts';
import { readCanisterIds, recordCanisterIds } from './lib/canister-ids.ts';
import { deployDemoCanisters, localDeployer, siteNetworkEnv } from './lib/demo-deploy.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from './dev-identity/server.ts';
import { stateDirOwner } from '@scaling-wg/replica/network';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const host = '127.0.0.1';
const replicaPort = Number(process.env.WG_REPLICA_PORT ?? 4943);
const idpPort = Number(process.env.WG_IDP_PORT ?? 4944);
const sitePort = Number(process.env.WG_SITE_PORT ?? 4321);
const stateDir = resolve(repoRoot, process.env.WG_STATE_DIR ?? '.replica-state');
const logDir = join(repoRoot, '.cache/start');
const nodeBin = process.execPath;

const children: ChildProcess[] = [];
let identityProvider: DevIdentityProvider | undefined;
let stopping = false;
const startedAt = Date.now();

function step(n: number, title: string): () => void {
  const started = Date.now();
  console.log(`[${n}/5] ${title}`);
  return () => console.log(`      done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGTERM');
    await identityProvider?.close();
    await Promise.all(children.map((child) => (child.exitCode !== null ? undefined : new Promise((done) => child.once('exit', done)))));
  }
  process.exit(code);
}

function fail(message: string): Promise<never> {
  console.error(`\n✖ ${message}`);
  return stop(1);
}

/** Spawns a child whose output goes to a log file; resolves when `ready` matches a line of it. */
function startLogged(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs: number,
): Promise<{ child: ChildProcess; match: RegExpExecArray; logPath: string }> {
  mkdirSync(logDir, { recursive: true });
  // Named by port as well, so two stacks (npm start and the e2e suite's) never share a log file.
  const logPath = join(logDir, `${name}-${name === 'replica' ? replicaPort : sitePort}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(nodeBin, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not report ready within ${timeoutMs / 1000} s; see ${logPath}`)), timeoutMs);
    const onData = (data: Buffer) => {
      log.write(data);
      if (seen === null) return;
      seen += data.toString();
      const match = ready.exec(seen.replace(/\x1b\[[0-9;]*m/g, ''));
      if (match) {
        clearTimeout(timer);
        seen = null as unknown as string;
        resolvePromise({ child, match, logPath });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (seen !== null) {
        const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-6).join('\n');
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${tail}`));
      } else if (!stopping) {
        console.error(`\n✖ ${name} stopped unexpectedly (${code ?? signal}); see ${logPath}`);
        void stop(1);
      }
    });
  });
}

/** Runs a command to completion with its output in a log file; rejects with the log's tail on failure. */
function runLogged(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${name}-${sitePort}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(nodeBin, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return new Promise((resolvePromise, reject) => {
    child.once('exit', (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (code === 0) return resolvePromise();
      const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-8).join('\n');
      reject(new Error(`${name} failed (${code ?? signal}); the end of ${logPath}:\n${tail}`));
    });
  });
}

const idsPath = join(stateDir, 'canister_ids.json');

/**
 * A replica that already serves this state directory on our port: `npm run deploy -- --network
 * local` leaves one running in the background. The replica holds the state directory's lock while
 * it runs (replica/src/store/state-lock.ts) and tells whoever asks its pid, so a holder plus an
 * answer on the port means it is that replica, and starting a second one would only fail on the lock.
 */
async function runningReplica(): Promise<{ url: string; pid: number } | { busy: string } | undefined> {
  const url = `http://${host}:${replicaPort}`;
  const answers = await fetch(`${url}/api/v2/status`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
  const pid = existsSync(stateDir) ? ((await stateDirOwner(stateDir)) ?? 0) : 0;
  if (answers && pid > 0) return { url, pid };
  if (answers)
    return {
      busy: `something already answers as a replica on ${host}:${replicaPort}, but not with ${stateDir.replace(`${repoRoot}/`, '')}/; stop it or set WG_REPLICA_PORT to a free port`,
    };
  if (pid > 0)
    return {
      busy: `a replica (pid ${pid}) holds ${stateDir.replace(`${repoRoot}/`, '')}/ but does not answer on ${host}:${replicaPort}; stop it with \`kill ${pid}\` or set WG_REPLICA_PORT to its port`,
    };
  return undefined;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Requests the demos' modules from the dev server once, following their imports. Vite bundles a
 * page's npm dependencies (@dfinity/agent …) the first time it sees them; the demos load theirs
 * with dynamic imports, which it only sees when a browser asks, and a re-bundle while a page is
 * loading fails that page's module requests (504 "Outdated Optimize Dep"). Asking first, from
 * here, means the first visitor gets modules that are already bundled.
 */
async function warmDemoModules(siteUrl: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const seen = new Set<string>();
    const queue = ['/src/demos/mount.ts'];
    let bundling = false;
    while (queue.length) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const response = await fetch(new URL(path, siteUrl)).catch(() => undefined);
      if (!response?.ok) {
        bundling ||= response?.status === 504;
        continue;
      }
      const code = await response.text();
      for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\/(?:src|@fs|node_modules)\/[^"']+)["']/g)) queue.push(match[1]);
    }
    if (!bundling) return;
    // Vite is re-bundling what the crawl found; let it finish, then make sure nothing else is new.
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/**
 * Renders the pattern pages once. Right after astro dev starts (and while Vite re-bundles
 * dependencies) the first render of an MDX page can fail with a 500 that a reload cures; a
 * visitor who opens the URL at once should not be the one to meet it.
 */
async function warmPatternPages(siteUrl: string): Promise<void> {
  const index = await fetch(new URL('patterns/', siteUrl)).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const pages = [...new Set([...index.matchAll(/href="(\/patterns\/[a-z0-9-]+\/)"/g)].map((m) => m[1]))];
  const deadline = Date.now() + 60_000;
  for (const page of pages) {
    while (Date.now() < deadline) {
      const status = await fetch(new URL(page, siteUrl)).then(
        (r) => (r.body?.cancel(), r.status),
        () => 0,
      );
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function main(): Promise<void> {
  process.on('SIGINT', () => {
    console.log('\nstopping…');
    void stop(0);
  });
  process.on('SIGTERM', () => void stop(0));
  if (process.argv.includes('--fresh')) {
    const running = await runningReplica();
    // Deleting the state under a live replica would leave it serving canisters the ids file forgot.
    if (running && 'pid' in running)
      throw new Error(
        `--fresh would delete ${stateDir.replace(`${repoRoot}/`, '')}/ under the replica using it (pid ${running.pid}); stop it first with: kill ${running.pid}`,
      );
    rmSync(stateDir, { recursive: true, force: true });
  }

  let done = step(1, 'Building the demo canisters (cached by a hash of their sources)');
  const built = await buildCanisters({ log: (line) => console.log(`      ${line}`) });
  done();

  done = step(2, `Starting the local replica on ${host}:${replicaPort} (state in ${stateDir.replace(`${repoRoot}/`, '')}/)`);
  const replicaArgs = ['replica/src/cli.ts', '--host', host, '--port', String(replicaPort), '--log', 'normal'];
  const already = await runningReplica();
  if (already && 'busy' in already) throw new Error(already.busy);
  let replicaUrl: string;
  if (already) {
    // Reused, not ours: Ctrl-C leaves it running, as the deploy that started it intended.
    replicaUrl = already.url;
    console.log(`      a replica is already running here with this state directory (pid ${already.pid}, likely started by \`npm run deploy\`): using it`);
    console.log(`      it keeps running after Ctrl-C; stop it with: kill ${already.pid}`);
  } else {
    let replica;
    try {
      replica = await startLogged('replica', [...replicaArgs, '--state-dir', stateDir], process.env, /ready: (\S+)/, 60_000);
    } catch (error) {
      const message = (error as Error).message;
      // A replica without a disk store refuses --state-dir; run it in memory then:
      // ids stay the same (they are re-created under the ids recorded in the state directory).
      if (!/needs the disk store/.test(message)) throw error;
      children.pop();
      console.log('      this replica cannot keep state on disk yet: running it in memory (canisters are re-created under the same ids)');
      replica = await startLogged('replica', replicaArgs, process.env, /ready: (\S+)/, 60_000);
    }
    replicaUrl = replica.match[1];
    // Progress lines name hosts without a scheme: the one URL to open is the last line's.
    console.log(`      listening on ${new URL(replicaUrl).host} (log: ${replica.logPath.replace(`${repoRoot}/`, '')})`);
  }
  done();

  done = step(3, 'Deploying the demo canisters');
  const agent = await HttpAgent.create({ host: replicaUrl, identity: localDeployer(stateDir), shouldFetchRootKey: true });
  let ids: Record<string, string>;
  try {
    ({ ids } = await deployDemoCanisters({
      agent,
      network: 'local',
      built,
      knownIds: readCanisterIds(idsPath, 'local'),
      log: (line) => console.log(`    ${line}`),
    }));
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nIf ${stateDir.replace(`${repoRoot}/`, '')}/ comes from another setup (another controller or replica), \`npm start -- --fresh\` starts over: it deletes that directory and deploys anew.`,
    );
  }
  // Merged: `npm run deploy -- --network local` records the site canister in the same file.
  recordCanisterIds(idsPath, 'local', ids);
  done();

  done = step(4, 'Serving the local development identity provider');
  identityProvider = await startDevIdentityProvider({ host, port: idpPort });
  console.log(`      listening on ${new URL(identityProvider.url).host} (stands in for Internet Identity)`);
  done();

  const preview = process.argv.includes('--preview');
  done = step(5, preview ? 'Building the site and serving the build (astro build + preview)' : 'Starting the site (astro dev)');
  const siteEnv = { ...process.env, ...siteNetworkEnv({ network: 'local', host: replicaUrl, ids, identityProvider: identityProvider.url }) };
  const astro = join(repoRoot, 'node_modules/astro/bin/astro.mjs');
  let siteUrl: string;
  if (preview) {
    // What ships, bundled, into its own folder (dist/ is the production build's). Used by the e2e
    // suite: no dev-server dependency bundling mid-test, and it runs beside someone's astro dev.
    const outDir = join(logDir, `site-${sitePort}`);
    await runLogged('site-build', [astro, 'build', '--outDir', outDir], siteEnv);
    const site = await startLogged(
      'site',
      [astro, 'preview', '--outDir', outDir, '--host', host, '--port', String(sitePort)],
      siteEnv,
      /(?:Local|➜)\s+(http:\/\/\S+)/,
      60_000,
    );
    siteUrl = site.match[1].replace(/\/?$/, '/');
  } else {
    const site = await startLogged('site', [astro, 'dev', '--host', host, '--port', String(sitePort)], siteEnv, /(?:Local|➜)\s+(http:\/\/\S+)/, 120_000);
    siteUrl = site.match[1].replace(/\/?$/, '/');
    // astro dev answers once its first page renders; warm it so the first visitor does not wait.
    await waitForHttp(siteUrl, 120_000);
    await warmDemoModules(siteUrl);
    await warmPatternPages(siteUrl);
  }
  done();

  console.log(
    `\nReady in ${((Date.now() - startedAt) / 1000).toFixed(1)} s. Open ${siteUrl}\n(Ctrl-C stops the site${already ? '' : ', the replica'} and the identity provider.)`,
  );
}

main().catch((error) => fail((error as Error).message));
