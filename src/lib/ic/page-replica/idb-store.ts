// store.ts's ReplicaStore over IndexedDB: one object store of byte blobs keyed by string; a batch
// is one readwrite transaction, so it lands whole or not at all. Beside it, the engine's store of
// prepared modules (PreparedModuleStore), which a reset does not empty.
import type { PreparedModule, PreparedModuleStore } from '@scaling-wg/replica';
import type { ReplicaStore } from '@scaling-wg/replica/store';
import { DATABASE, PREPARED_STORE, STORE } from './protocol.ts';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export async function openIdbStore(): Promise<IdbStore> {
  // Version 2 added PREPARED_STORE; the state store is kept as it was.
  const open = indexedDB.open(DATABASE, 2);
  open.onupgradeneeded = () => {
    if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE);
    if (!open.result.objectStoreNames.contains(PREPARED_STORE)) open.result.createObjectStore(PREPARED_STORE);
  };
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error ?? new Error('IndexedDB cannot be opened'));
    open.onblocked = () => reject(new Error('IndexedDB is blocked by another tab holding an older version open'));
  });
  return new IdbStore(db);
}

function range(prefix: string): IDBKeyRange {
  return IDBKeyRange.bound(prefix, `${prefix}\uffff`);
}

export class IdbStore implements ReplicaStore {
  readonly #db: IDBDatabase;
  constructor(db: IDBDatabase) {
    this.#db = db;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value: unknown = await request(this.#db.transaction(STORE).objectStore(STORE).get(key));
    if (value === undefined) return undefined;
    if (!(value instanceof Uint8Array)) throw new Error(`the saved entry ${key} is not bytes`);
    return value;
  }

  writeBatch(entries: Map<string, Uint8Array | undefined>): Promise<void> {
    return new Promise((resolve, reject) => {
      const tx = this.#db.transaction(STORE, 'readwrite', { durability: 'relaxed' });
      const store = tx.objectStore(STORE);
      for (const [key, value] of entries) {
        if (value === undefined) store.delete(key);
        else store.put(value, key);
      }
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted (storage full?)'));
      // Committed now rather than when this task ends: the database writes the batch while the
      // thread goes on with the task (the certificate's signature follows the commit in the same
      // task), instead of only starting once the signature is done.
      tx.commit();
    });
  }

  async keys(prefix: string): Promise<string[]> {
    const keys = await request(this.#db.transaction(STORE).objectStore(STORE).getAllKeys(range(prefix)));
    return keys.map(String);
  }

  async entries(prefix: string): Promise<Array<[string, Uint8Array]>> {
    const store = this.#db.transaction(STORE).objectStore(STORE);
    const [keys, values] = await Promise.all([request(store.getAllKeys(range(prefix))), request(store.getAll(range(prefix)))]);
    return keys.map((key, i) => {
      const value: unknown = values[i];
      if (!(value instanceof Uint8Array)) throw new Error(`the saved entry ${String(key)} is not bytes`);
      return [String(key), value];
    });
  }

  async clear(): Promise<void> {
    await request(this.#db.transaction(STORE, 'readwrite').objectStore(STORE).clear());
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  /**
   * Prepared modules of engine version `engine` (modules prepared by another version of the
   * passes are never read); only the newest version's are kept.
   */
  preparedModules(engine: string): PreparedModuleStore {
    const prefix = `${engine} `;
    const db = this.#db;
    void (async () => {
      // Entries of other engine versions are dead weight (a Motoko module prepared is ~1 MB).
      const keys = await request(db.transaction(PREPARED_STORE).objectStore(PREPARED_STORE).getAllKeys());
      const stale = keys.filter((key) => !String(key).startsWith(prefix));
      if (stale.length === 0) return;
      const store = db.transaction(PREPARED_STORE, 'readwrite').objectStore(PREPARED_STORE);
      for (const key of stale) store.delete(key);
    })().catch(() => {});
    return {
      get: async (key) => {
        const value: unknown = await request(
          db
            .transaction(PREPARED_STORE)
            .objectStore(PREPARED_STORE)
            .get(prefix + key),
        );
        return value === undefined ? undefined : (value as PreparedModule);
      },
      put: async (key, module) => {
        await request(
          db
            .transaction(PREPARED_STORE, 'readwrite', { durability: 'relaxed' })
            .objectStore(PREPARED_STORE)
            .put(module, prefix + key),
        );
      },
    };
  }
}
