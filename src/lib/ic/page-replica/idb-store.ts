// store.ts's ReplicaStore over IndexedDB: one object store of byte blobs keyed by string; a batch
// is one readwrite transaction, so it lands whole or not at all.
import type { ReplicaStore } from '@scaling-wg/replica/store';
import { DATABASE, STORE } from './protocol.ts';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export async function openIdbStore(): Promise<IdbStore> {
  const open = indexedDB.open(DATABASE, 1);
  open.onupgradeneeded = () => {
    if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE);
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
}
