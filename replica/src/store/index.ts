// The package's `@scaling-wg/replica/store` entry: the portable half of persistence, a replica's
// state as keys and values for a store the host provides (the site's page worker keeps it in
// IndexedDB). The disk store is Node's and is driven by `startLocalNetwork`.
export { KvState, StateFormatError, KV_STATE_FORMAT } from './kv-state.ts';
export type { ReplicaStore } from './store.ts';
