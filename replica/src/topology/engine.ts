// The HTTP interface over a multi-subnet replica: one root key signs for every subnet, so a
// certificate's canister_ranges lists all of them, and a management call that creates a canister
// creates it on the subnet of the call's effective canister id (as the IC's routing does).
import { MANAGEMENT_CANISTER_TEXT, principalToText } from '../ic/principal.ts';
import type { EnginePort, IngressCall } from '../http/engine-port.ts';
import type { Topology } from './topology.ts';

const CREATE_METHODS = new Set(['create_canister', 'provisional_create_canister_with_cycles']);

/**
 * Wraps an engine for `topology`. `exclusive` runs the creation calls one at a time with
 * whatever else must not interleave with them (the topology's user target is shared state).
 */
export function topologyEngine(base: EnginePort, topology: Topology, exclusive: <T>(run: () => Promise<T>) => Promise<T> = serial()): EnginePort {
  // Subnets may be added later (a canister created at a named subnet's mainnet id): recompute then.
  let ranges = topology.allRanges();
  let count = topology.subnets.length;
  return {
    ...base,
    canisterRanges: () => {
      if (topology.subnets.length !== count) [ranges, count] = [topology.allRanges(), topology.subnets.length];
      return ranges;
    },
    submitCall(call: IngressCall) {
      if (principalToText(call.canisterId) !== MANAGEMENT_CANISTER_TEXT || !CREATE_METHODS.has(call.methodName)) return base.submitCall(call);
      const subnet = topology.subnetOf(call.effectiveCanisterId) ?? topology.defaultSubnet;
      return exclusive(async () => {
        topology.userTarget = subnet;
        try {
          return await base.submitCall(call);
        } finally {
          topology.userTarget = undefined;
        }
      });
    },
  };
}

/** A promise chain: each run starts when the previous one settled. */
export function serial(): <T>(run: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(run: () => Promise<T>) => {
    const next = last.then(run, run);
    last = next.catch(() => undefined);
    return next;
  };
}
