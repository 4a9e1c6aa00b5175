// `npm start`: the whole thing on this machine, then one URL to open.
//   1. build the demo canisters        (scripts/build-canisters.ts; cached by a hash of the sources)
//   2. start the local replica          (`npm run replica` through lib/replica-process.ts, state in .replica-state/)
//   3. deploy the demo canisters        (src/lib/ic/demo-deploy.ts: same ids every start, upgrade on change)
//   4. serve the dev identity provider  (scripts/dev-identity/: Internet Identity's stand-in)
//   5. start the site                   (astro dev, told the network through PUBLIC_WG_* variables)
// Ctrl-C (or SIGTERM) stops everything it started. Logs of the replica and the site go to .cache/.
//
// Ports and places (environment): WG_REPLICA_PORT (4943), WG_IDP_PORT (4944), WG_SITE_PORT (4321),
// WG_STATE_DIR (.replica-state). Flags: --fresh wipes the state directory first; --preview serves a
// build of the site (astro build + preview) instead of astro dev.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpAgent } from '@dfinity/agent';
import { buildCanisters } from './build-canisters.ts';
import { readCanisterIds, recordCanisterIds } from './lib/canister-ids.ts';
import { deployDemoCanisters, localDeployer, siteNetworkEnv } from '../src/lib/ic/demo-deploy.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from './dev-identity/server.ts';
import { runProcess, startProcess, waitForHttp, type ManagedProcess } from './lib/processes.ts';
import { startReplicaProcess } from './lib/replica-process.ts';
import { stateDirOwner } from '@scaling-wg/replica/network';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const host = '127.0.0.1';
const replicaPort = Number(process.env.WG_REPLICA_PORT ?? 4943);
const idpPort = Number(process.env.WG_IDP_PORT ?? 4944);
const sitePort = Number(process.env.WG_SITE_PORT ?? 4321);
const stateDir = resolve(repoRoot, process.env.WG_STATE_DIR ?? '.replica-state');
const logDir = join(repoRoot, '.cache/start');
const children: ManagedProcess[] = [];
/** Stops a run to completion (the site build) when we stop. */
const stopping$ = new AbortController();
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
    stopping$.abort();
    await Promise.all([...children.map((child) => child.stop('SIGTERM')), identityProvider?.close()]);
  }
  process.exit(code);
}

function fail(message: string): Promise<never> {
  console.error(`\n✖ ${message}`);
  return stop(1);
}

/** What happens when a child we started stops on its own: everything stops, loudly. */
function onUnexpectedExit(name: string, logPath: string) {
  return (code: number | null, signal: NodeJS.Signals | null) => {
    if (stopping) return;
    console.error(`\n✖ ${name} stopped unexpectedly (${code ?? signal}); see ${logPath}`);
    void stop(1);
  };
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
  const already = await runningReplica();
  if (already && 'busy' in already) throw new Error(already.busy);
  let replicaUrl: string;
  if (already) {
    // Reused, not ours: Ctrl-C leaves it running, as the deploy that started it intended.
    replicaUrl = already.url;
    console.log(`      a replica is already running here with this state directory (pid ${already.pid}, likely started by \`npm run deploy\`): using it`);
    console.log(`      it keeps running after Ctrl-C; stop it with: kill ${already.pid}`);
  } else {
    const logPath = join(logDir, `replica-${replicaPort}.log`);
    const replica = await startReplicaProcess({
      host,
      port: replicaPort,
      stateDir,
      log: 'normal',
      cwd: repoRoot,
      // Named by port, so two stacks (npm start and the e2e suite's) never share a log file.
      logPath,
      signal: stopping$.signal,
      onUnexpectedExit: onUnexpectedExit('the replica', logPath),
    });
    children.push(replica);
    replicaUrl = replica.url;
    // Progress lines name hosts without a scheme: the one URL to open is the last line's.
    console.log(`      listening on ${new URL(replicaUrl).host} (log: ${logPath.replace(`${repoRoot}/`, '')})`);
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
  const sitePattern = /(?:Local|➜)\s+(http:\/\/\S+)/;
  const startSite = async (args: string[], timeoutMs: number) => {
    const logPath = join(logDir, `site-${sitePort}.log`);
    const site = await startProcess({
      name: 'the site',
      args,
      cwd: repoRoot,
      env: siteEnv,
      ready: sitePattern,
      timeoutMs,
      logPath,
      signal: stopping$.signal,
      onUnexpectedExit: onUnexpectedExit('the site', logPath),
    });
    children.push(site);
    return site.match![1].replace(/\/?$/, '/');
  };
  let siteUrl: string;
  if (preview) {
    // What ships, bundled, into its own folder (dist/ is the production build's). Used by the e2e
    // suite: no dev-server dependency bundling mid-test, and it runs beside someone's astro dev.
    const outDir = join(logDir, `site-${sitePort}`);
    await runProcess({
      name: 'the site build',
      args: [astro, 'build', '--outDir', outDir],
      cwd: repoRoot,
      env: siteEnv,
      logPath: join(logDir, `site-build-${sitePort}.log`),
      signal: stopping$.signal,
    });
    siteUrl = await startSite([astro, 'preview', '--outDir', outDir, '--host', host, '--port', String(sitePort)], 60_000);
  } else {
    siteUrl = await startSite([astro, 'dev', '--host', host, '--port', String(sitePort)], 120_000);
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
