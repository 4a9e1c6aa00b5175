// The storage interface under the replica's state: one interface, memory as the default,
// persistence only a path option (stateDir). The disk implementation is store/disk-store.ts;
// the execution engine only depends on this shape.

/** A key-value store of byte blobs, written atomically per batch. */
export interface ReplicaStore {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Writes every entry of the batch or none of them (undefined deletes the key). */
  writeBatch(entries: Map<string, Uint8Array | undefined>): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  /** The entries whose keys start with `prefix`, in key order. */
  entries(prefix: string): Promise<Array<[string, Uint8Array]>>;
  close(): Promise<void>;
}
