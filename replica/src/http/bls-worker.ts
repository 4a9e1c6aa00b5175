// BLS signing of state roots on a worker thread (Node edge): the ~11 ms per signature then runs
// beside canister execution instead of stalling the event loop that serves queries.

import { Worker } from 'node:worker_threads';
import type { StateRootSigner } from '../certification/certifier.ts';
import { signStateRoot, type SubnetKeys } from '../certification/keys.ts';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.keysModule).then(({ signStateRoot, subnetKeys }) => {
  const keys = subnetKeys(workerData.rootSecretKey, workerData.nodeSecretKey);
  parentPort.on('message', ({ id, hash }) => {
    try {
      parentPort.postMessage({ id, signature: signStateRoot(keys, hash) });
    } catch (error) {
      parentPort.postMessage({ id, error: String(error && error.stack || error) });
    }
  });
  parentPort.postMessage({ ready: true });
});
`;

export interface WorkerSigner {
  sign: StateRootSigner;
  close(): Promise<void>;
}

export async function startBlsWorker(keys: SubnetKeys): Promise<WorkerSigner> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      keysModule: new URL('../certification/keys.ts', import.meta.url).href,
      rootSecretKey: keys.rootSecretKey,
      nodeSecretKey: keys.nodeSecretKey,
    },
  });
  worker.unref();
  const pending = new Map<number, { resolve: (s: Uint8Array) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: { ready?: boolean; id?: number; signature?: Uint8Array; error?: string }) => {
      if (message.ready) return resolve();
      const entry = pending.get(message.id!);
      pending.delete(message.id!);
      if (message.error) entry?.reject(new Error(`BLS signing failed in the worker: ${message.error}`));
      else entry?.resolve(new Uint8Array(message.signature!));
    });
  });
  // If the worker dies, sign in-process from then on rather than leave certificates hanging.
  let dead = false;
  const fail = (error: Error) => {
    dead = true;
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the BLS signing worker exited (code ${code})`)));
  return {
    sign: (hash) => {
      if (dead) return signStateRoot(keys, hash);
      return new Promise<Uint8Array>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, hash });
      });
    },
    close: async () => {
      await worker.terminate();
    },
  };
}
