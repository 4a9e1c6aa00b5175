// Shared fixture of the canister integration tests: a quiet replica with frozen time, named
// callers, and deployment of a demo canister by name (module from the cached build, interface
// from the generated declarations, so the tests exercise exactly what the site ships).
import { Principal } from '@dfinity/principal';
import { Replica, type Actor, type IdlFactory } from '@scaling-wg/replica';
import { canisterModule } from '../scripts/build-canisters.ts';

/** A fixed start time: rate limits and timestamps become deterministic. */
export const startTime = new Date('2026-03-01T12:00:00Z');

export function startReplica(): Promise<Replica> {
  return Replica.create({ time: startTime, seed: 7, log: 'quiet' });
}

/** A distinct self-authenticating principal per name, the kind a browser identity has. */
export function principalNamed(name: string): Principal {
  const bytes = new Uint8Array(32);
  new TextEncoder().encodeInto(name, bytes);
  return Principal.selfAuthenticating(bytes);
}

export const owner = principalNamed('owner');
export const alice = principalNamed('alice');
export const bob = principalNamed('bob');

export interface Deployed<T> {
  actor: Actor<T>;
  canisterId: Principal;
  wasm: Uint8Array;
  idlFactory: IdlFactory;
}

export async function declarationsOf(name: string): Promise<IdlFactory> {
  const declarations = (await import(`../src/declarations/${name}/${name}.did.ts`)) as { idlFactory: IdlFactory };
  return declarations.idlFactory;
}

/** Builds (from cache when unchanged) and installs a demo canister; its actor calls as `owner`. */
export async function deploy<T>(
  pic: Replica,
  name: string,
  options: { controllers?: Principal[]; cycles?: bigint; arg?: Uint8Array } = {},
): Promise<Deployed<T>> {
  const [{ wasm }, idlFactory] = await Promise.all([canisterModule(name), declarationsOf(name)]);
  const { actor, canisterId } = await pic.setupCanister<T>({
    idlFactory,
    wasm,
    sender: owner,
    controllers: options.controllers ?? [owner],
    cycles: options.cycles,
    arg: options.arg,
    name,
  });
  actor.setPrincipal(owner);
  return { actor, canisterId, wasm, idlFactory };
}

/** A second actor on the same canister, calling as `caller`. */
export function actorAs<T>(pic: Replica, deployed: Deployed<T>, caller: Principal): Actor<T> {
  const actor = pic.createActor<T>(deployed.idlFactory, deployed.canisterId);
  actor.setPrincipal(caller);
  return actor;
}

/** The variant tag of a canister error (`invalidArgument`, `rateLimited`, …) and its text. */
export function errorOf(result: { ok: unknown } | { err: object }): { kind: string; text: string } {
  if (!('err' in result)) throw new Error(`expected an error, got ok: ${JSON.stringify(result.ok, bigintSafe)}`);
  const [kind, detail] = Object.entries(result.err)[0] as [string, unknown];
  const text = typeof detail === 'string' ? detail : JSON.stringify(detail, bigintSafe);
  return { kind, text };
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
