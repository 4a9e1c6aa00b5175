// Canister snapshots (interface spec, take_canister_snapshot / load_canister_snapshot): the
// module, main memory and mutable globals, stable memory, certified data, global timer and
// chunk store at one point in time. Shared by the management canister and the programmatic
// takeSnapshot() of index.ts.
import type { Canister, CanisterSnapshotData } from '../execution/canister.ts';

export function captureSnapshot(canister: Canister, id: Uint8Array, now: bigint): CanisterSnapshotData {
  return {
    id,
    takenAt: now,
    module: canister.module,
    heap: canister.instance?.snapshot(),
    stable: canister.stable.clone(),
    certifiedData: canister.certifiedData.slice(),
    globalTimer: canister.globalTimer,
    chunkStore: new Map([...canister.chunkStore].map(([k, v]) => [k, v.slice()])),
    canisterVersion: canister.version,
  };
}

/** Puts a snapshot back; the snapshot stays usable (it can be restored again). */
export function restoreSnapshot(canister: Canister, snapshot: CanisterSnapshotData): void {
  if (snapshot.module && snapshot.heap) {
    const instance = canister.instantiate(snapshot.module);
    instance.restore(snapshot.heap);
    canister.instance = instance;
  } else {
    canister.instance = undefined;
  }
  canister.stable = snapshot.stable.clone();
  canister.certifiedData = snapshot.certifiedData.slice();
  canister.globalTimer = snapshot.globalTimer;
  canister.chunkStore = new Map([...snapshot.chunkStore].map(([k, v]) => [k, v.slice()]));
}

export function snapshotSize(snapshot: CanisterSnapshotData): bigint {
  let chunks = 0;
  for (const c of snapshot.chunkStore.values()) chunks += c.length;
  return BigInt((snapshot.heap?.memory.length ?? 0) + snapshot.stable.byteLength + (snapshot.module?.bytes.length ?? 0) + chunks);
}
