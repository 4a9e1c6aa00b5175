// Heartbeats and timers (interface spec: heartbeat, global timer, low-Wasm-memory hook): what a
// round queues for each running canister before its other messages, once per round, and the
// memory and compute allocation charged at the same moment (a canister that cannot pay loses its
// code). Executing a task is messages.ts's runSystemTask.
import { chargeForResources, type CyclesState } from '../cycles/account.ts';
import type { Canister } from '../execution/canister.ts';
import { StableMemory } from '../execution/stable-memory.ts';
import type { ReplicaLog } from '../log.ts';
import type { InputMessage } from './call-context.ts';

/** What heartbeats and timers need of the scheduler (the Scheduler passes itself). */
export interface TasksHost {
  readonly canisters: ReadonlyMap<string, Canister>;
  readonly log: ReplicaLog;
  cyclesState(canister: Canister): CyclesState;
  /** Puts a message in a canister's queue (the one way a message enters a queue). */
  enqueue(canister: string, source: string, message: InputMessage): void;
  /** Rejects the canister's open call contexts and forgets its callbacks (calls.ts). */
  rejectOpenCallContexts(canister: Canister, message: string): void;
}

/** Queues this round's heartbeats and due global timers (once per canister per round). */
export function scheduleTasks(s: TasksHost, now: bigint): void {
  chargeStorage(s, now);
  for (const c of s.canisters.values()) {
    if (c.status !== 'running' || !c.instance) continue;
    if (c.lowWasmMemoryHook === 'ready' && c.instance.hasExport('canister_on_low_wasm_memory')) {
      c.lowWasmMemoryHook = 'executed';
      s.enqueue(c.idText, '', { kind: 'task', canister: c.idText, task: 'canister_on_low_wasm_memory' });
    }
    if (c.instance.hasExport('canister_heartbeat')) s.enqueue(c.idText, '', { kind: 'task', canister: c.idText, task: 'canister_heartbeat' });
    if (c.globalTimer !== 0n && now >= c.globalTimer && c.instance.hasExport('canister_global_timer')) {
      c.globalTimer = 0n; // the timer fires once; the canister sets it again (spec: global timer)
      s.enqueue(c.idText, '', { kind: 'task', canister: c.idText, task: 'canister_global_timer' });
    }
  }
}

/**
 * Charges memory and compute allocation for the time since the last charge (the IC does it
 * every 10 s; here at each round). A canister that cannot pay loses its code, as on the IC.
 */
function chargeStorage(s: TasksHost, now: bigint): void {
  for (const c of s.canisters.values()) {
    const last = c.resourcesChargedUntil ?? c.createdAt; // state saved before this field existed
    const seconds = (now - last) / 1_000_000_000n;
    if (seconds <= 0n) continue;
    c.resourcesChargedUntil = last + seconds * 1_000_000_000n;
    const { exhausted } = chargeForResources(s.cyclesState(c), seconds);
    if (exhausted && c.instance) {
      s.log.info(`${c.name} ran out of cycles paying for its memory; its code was uninstalled (top it up and reinstall)`);
      uninstallCode(s, c, `Canister ${c.idText} ran out of cycles and was uninstalled`);
    }
  }
}

/** Removes a canister's code and state (uninstall_code, and running out of cycles). */
export function uninstallCode(s: TasksHost, canister: Canister, reason: string): void {
  s.rejectOpenCallContexts(canister, reason);
  canister.instance = undefined;
  canister.stable = new StableMemory();
  canister.certifiedData = new Uint8Array();
  canister.globalTimer = 0n;
  canister.version += 1n;
}

/** Whether any canister has periodic work (a heartbeat or an armed timer), for automatic rounds. */
export function hasPeriodicWork(canisters: ReadonlyMap<string, Canister>): boolean {
  for (const c of canisters.values()) {
    if (c.status !== 'running' || !c.instance) continue;
    if (c.globalTimer !== 0n || c.instance.hasExport('canister_heartbeat') || c.lowWasmMemoryHook === 'ready') return true;
  }
  return false;
}
