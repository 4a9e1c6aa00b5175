// startLocalNetwork: the one way the CLI, the scripts and the tests start a replica with its HTTP
// interface, gateway, disk store and signer.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Actor } from '@dfinity/agent';
import { principalToText } from '../src/ic/principal.ts';
import { startLocalNetwork, type LocalNetwork } from '../src/network.ts';
import { counterIdl, counterWasm, deployCounter, localAgent } from './http-support.ts';

const dirs: string[] = [];
const open: LocalNetwork[] = [];
afterAll(async () => {
  for (const network of open) await network.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'network-'));
  dirs.push(dir);
  return dir;
};
const start = async (options: Parameters<typeof startLocalNetwork>[0]) => {
  const network = await startLocalNetwork({ port: 0, log: 'quiet', ...options });
  open.push(network);
  return network;
};

describe('startLocalNetwork', () => {
  it('runs the replica as the subnet its root key certifies, and /_/topology says so', async () => {
    const network = await start({});
    const subnet = principalToText(network.keys.subnetId);
    expect(principalToText(network.replica.scheduler.subnetId)).toBe(subnet);
    const topology = (await (await fetch(`${network.url}/_/topology`)).json()) as { subnet_configs: Record<string, unknown> };
    expect(Object.keys(topology.subnet_configs)).toEqual([subnet]);
  });

  it('keeps keys and canisters in its state directory across close and start, and locks it while it runs', async () => {
    const dir = stateDir();
    let network = await start({ stateDir: dir });
    const rootKey = network.keys.rootKeyDer;
    const canisterId = await deployCounter(await localAgent(network.url), 41n, await counterWasm());
    await expect(startLocalNetwork({ stateDir: dir, port: 0, log: 'quiet' })).rejects.toThrow(/is in use by another replica/);
    await network.close();

    network = await start({ stateDir: dir });
    expect(network.keys.rootKeyDer).toEqual(rootKey);
    expect(network.restored).toMatchObject({ canisters: 1 });
    const actor = Actor.createActor(counterIdl, { agent: await localAgent(network.url), canisterId }) as unknown as { inc(): Promise<bigint> };
    expect(await actor.inc()).toBe(42n);
  });

  it('refuses a busy port by name and releases the state directory it had locked', async () => {
    const busy = await start({});
    const dir = stateDir();
    await expect(startLocalNetwork({ stateDir: dir, port: busy.port, log: 'quiet' })).rejects.toThrow(
      new RegExp(`port ${busy.port} is already in use on 127\\.0\\.0\\.1`),
    );
    const network = await start({ stateDir: dir });
    expect(network.restored).toMatchObject({ canisters: 0 });
  });
});
