// What the site says about each live demo. The demo components themselves live in src/demos/.
import type { DemoId } from './contract.ts';

const demos: Record<DemoId, { title: string; description: string }> = {
  'stable-memory': {
    title: 'stable memory across upgrades',
    description:
      'Add records to three stores (heap, stable variables, stable structures), upgrade the canister, and see which store kept its data and what the upgrade cost in instructions.',
  },
  'composite-queries': {
    title: 'composite query fan-out',
    description:
      'Run one search over several partition canisters, once with a composite query and once with update calls, and compare results, latency and per-partition instructions.',
  },
  sharding: {
    title: 'index and bucket sharding',
    description: 'Add keys and watch an index canister create new bucket canisters as buckets fill, then look a key up through the index and directly.',
  },
  'serialization-formats': {
    title: 'serialization formats in stable memory',
    description:
      'Write the same records to stable memory as Candid, as a fixed binary layout and as JSON, read them back, and compare bytes and instructions as the record count grows.',
  },
  'canister-snapshots': {
    title: 'snapshot, break, restore',
    description:
      'Add records to a canister, have its controller snapshot it, wipe it with a mistaken reinstall, and load the snapshot to get every record back; each step shows its size, time and cycles.',
  },
  'chunked-upload': {
    title: 'installing a module over 2 MiB',
    description:
      'Send a 3 MiB module as one install_code and watch the IC refuse it, then upload it in 1 MiB chunks and install it from the chunk store, with chunk hashes and timings.',
  },
  'optimistic-ui': {
    title: 'optimistic update or certified reply',
    description:
      'Add a note to a shared list optimistically and by waiting for the certified reply, compare the time to the first visible change with the time to the certified result, and watch a refused note roll back.',
  },
  queues: {
    title: 'a burst with and without backpressure',
    description:
      "Send a burst of calls from a producer canister to a consumer past the IC's queue capacity: without backpressure calls are refused and lost, with an application-level queue and retries every one completes. Plotted round by round.",
  },
  'bounded-wait': {
    title: 'waiting for a slow callee, with and without a deadline',
    description:
      'Call the same slow job as a guaranteed-response call and as a bounded-wait call with a timeout you pick: one waits, the other gets SYS_UNKNOWN at its deadline, and the callee may still finish the job.',
  },
  'query-caching': {
    title: 'the replica’s query cache, hit and miss',
    description:
      'Repeat a query and watch the replica answer it from its cache at no cost, then change the canister’s state or read the time and watch the next call miss.',
  },
  'horizontal-scaling': {
    title: 'one workload over 1, 2, 4 and 8 canisters',
    description:
      'Run the same 32 heavy jobs on one, two, four and eight worker canisters and plot the jobs completed per round against the canister count: it grows up to the subnet’s four execution threads and stops there.',
  },
};

export function demoInfo(id: DemoId) {
  return { id, ...demos[id] };
}
