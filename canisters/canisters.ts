// The demo canisters: one entry per folder under canisters/. The build
// (scripts/build-canisters.ts), the integration tests and the deploy path all
// read this list, so a canister is added in one place.

// The demo ids are the site's (src/lib/contract.ts).
import type { DemoId } from '../src/lib/contract.ts';
export type { DemoId };

export type PersistenceMode = 'eop' | 'classic';

export interface CanisterSpec {
  /** Folder under canisters/, dfx.json name, .did and bindings name. */
  name: string;
  /** Main Motoko file, relative to the repository root. */
  entry: string;
  /** 'eop' (enhanced orthogonal persistence, wasm64) or 'classic' (wasm32, pre/post_upgrade serialisation). */
  mode: PersistenceMode;
  demo: DemoId;
  /**
   * Set for actor classes that another canister creates at run time (it embeds their Wasm):
   * they are built for their .did, bindings and tests, but not deployed on their own.
   */
  createdBy?: string;
  /** What it is, in one line (printed by the build, used in dfx.json remarks). */
  summary: string;
}

export const canisters: readonly CanisterSpec[] = [
  {
    name: 'stable-memory-classic',
    entry: 'canisters/stable-memory-classic/main.mo',
    mode: 'classic',
    demo: 'stable-memory',
    summary: 'records in the heap, serialised through pre/post_upgrade',
  },
  {
    name: 'stable-memory-region',
    entry: 'canisters/stable-memory-region/main.mo',
    // Classic like the store it is contrasted with, so the two differ only in where data lives.
    mode: 'classic',
    demo: 'stable-memory',
    summary: 'records in a stable structure on a Region',
  },
  {
    name: 'stable-memory-eop',
    entry: 'canisters/stable-memory-eop/main.mo',
    mode: 'eop',
    demo: 'stable-memory',
    summary: 'records in stable variables under enhanced orthogonal persistence',
  },
  {
    name: 'lab',
    entry: 'canisters/lab/main.mo',
    mode: 'eop',
    demo: 'stable-memory',
    summary: 'controls the three stores; upgrades or resets them for anyone, rate-limited',
  },
  {
    name: 'composite-front',
    entry: 'canisters/composite-front/main.mo',
    mode: 'eop',
    demo: 'composite-queries',
    summary: 'fans a search out to its partitions as a composite query and as an update',
  },
  {
    name: 'composite-partition',
    entry: 'canisters/composite-partition/main.mo',
    mode: 'eop',
    demo: 'composite-queries',
    createdBy: 'composite-front',
    summary: 'one slice of the search corpus (actor class)',
  },
  {
    name: 'sharding-index',
    entry: 'canisters/sharding-index/main.mo',
    mode: 'eop',
    demo: 'sharding',
    summary: 'routes keys to buckets it creates as they fill',
  },
  {
    name: 'sharding-bucket',
    entry: 'canisters/sharding-bucket/main.mo',
    mode: 'eop',
    demo: 'sharding',
    createdBy: 'sharding-index',
    summary: 'one bucket of keys (actor class)',
  },
  {
    name: 'serialization-formats',
    entry: 'canisters/serialization-formats/main.mo',
    mode: 'eop',
    demo: 'serialization-formats',
    summary: 'writes the same records in Candid, a fixed binary layout and JSON, and reads them back',
  },
  {
    name: 'snapshot-target',
    entry: 'canisters/snapshot-target/main.mo',
    mode: 'eop',
    demo: 'canister-snapshots',
    summary: 'records visitors add; the lab snapshots it, wipes it with a reinstall and restores it',
  },
  {
    name: 'install-target',
    entry: 'canisters/install-target/main.mo',
    mode: 'eop',
    demo: 'chunked-upload',
    summary: 'a tiny canister the lab reinstalls from a padded module over 2 MiB, sent in chunks',
  },
  {
    name: 'optimistic-notes',
    entry: 'canisters/optimistic-notes/main.mo',
    mode: 'eop',
    demo: 'optimistic-ui',
    summary: 'a short shared list of notes: an update to add one, refused for a repeat',
  },
  {
    name: 'queue-producer',
    entry: 'canisters/queue-producer/main.mo',
    mode: 'eop',
    demo: 'queues',
    summary: 'sends bursts of calls to the consumer, all at once or through its own queue in windows',
  },
  {
    name: 'queue-consumer',
    entry: 'canisters/queue-consumer/main.mo',
    mode: 'eop',
    demo: 'queues',
    summary: "answers the producer's calls with a little work each",
  },
  {
    name: 'bounded-caller',
    entry: 'canisters/bounded-caller/main.mo',
    mode: 'eop',
    demo: 'bounded-wait',
    summary: 'calls the slow callee as a guaranteed-response or a bounded-wait call',
  },
  {
    name: 'slow-callee',
    entry: 'canisters/slow-callee/main.mo',
    mode: 'eop',
    demo: 'bounded-wait',
    summary: 'a job that takes seconds of subnet time, noted when it finishes',
  },
  {
    name: 'cached-query',
    entry: 'canisters/cached-query/main.mo',
    mode: 'eop',
    demo: 'query-caching',
    summary: 'a query that does measurable work, one that also reads the time, and an update that changes state',
  },
  {
    name: 'scaling-front',
    entry: 'canisters/scaling-front/main.mo',
    mode: 'eop',
    demo: 'horizontal-scaling',
    summary: 'runs the same heavy workload over 1 to 8 worker canisters and counts the rounds it takes',
  },
  {
    name: 'scaling-worker',
    entry: 'canisters/scaling-worker/main.mo',
    mode: 'eop',
    demo: 'horizontal-scaling',
    createdBy: 'scaling-front',
    summary: 'one worker: a job of a fixed instruction count, answered with its round time (actor class)',
  },
];

/** The canisters deployed on their own (the others are created by these at run time). */
export const deployedCanisters = canisters.filter((c) => !c.createdBy);

export function canisterSpec(name: string): CanisterSpec {
  const spec = canisters.find((c) => c.name === name);
  if (!spec) throw new Error(`No demo canister named "${name}"; known: ${canisters.map((c) => c.name).join(', ')}`);
  return spec;
}
