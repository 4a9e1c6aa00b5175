// Stack headroom (src/stack.ts): canister code gets the IC's 5 MiB Wasm stack, so a Motoko
// canister with classic persistence upgrades with a stable structure deep enough to overflow
// Node's default stack in pre_upgrade's recursive serialization.
import { describe, expect, it } from 'vitest';
import { NODE_STACK_FLAGS } from '../src/stack.ts';
import { createReplica, motokoFixture } from './fixtures/build.ts';

type Deep = { build(n: bigint): Promise<void>; length(): Promise<bigint> };

describe('stack headroom', () => {
  it("tests run with the IC's Wasm stack headroom", () => {
    for (const flag of NODE_STACK_FLAGS) expect(process.execArgv).toContain(flag);
  });

  it("a classic-persistence Motoko canister upgrades with a 20,000-deep stable list (Node's default stack stops near 3,400)", async () => {
    const fx = await motokoFixture('deep', 'classic');
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<Deep>({ idlFactory: fx.idlFactory, wasm: fx.wasm });
    await actor.build(20_000n);
    await pic.upgradeCanister({ canisterId, wasm: fx.wasm });
    expect(await actor.length()).toBe(20_000n);
  });

  it("unbounded recursion still ends in the IC's stack-overflow trap", async () => {
    const fx = await motokoFixture('deep', 'classic');
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<Deep>({ idlFactory: fx.idlFactory, wasm: fx.wasm });
    await actor.build(400_000n);
    const e = await pic.upgradeCanister({ canisterId, wasm: fx.wasm }).catch((x: { rejectMessage?: string; errorCode?: string }) => x);
    expect(e).toMatchObject({ errorCode: 'IC0502' });
    expect((e as { rejectMessage: string }).rejectMessage).toMatch(/^Error from Canister [a-z0-9-]+: Canister trapped: stack overflow/);
    expect(await actor.length()).toBe(400_000n); // the failed upgrade left the canister as it was
  });
});
