// Conformance: executing messages (interface spec, "Abstract behaviour" and "System API"),
// against Motoko in both persistence modes and a hand-written probe canister.
import { beforeAll, describe, expect, it } from 'vitest';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { Replica, CanisterRejectError, RejectCode, ErrorCode } from '../src/index.ts';
import { createReplica, motokoFixture, watFixture, type Fixture } from './fixtures/build.ts';
import { canisterSettings, rejection } from './replica-support.ts';

type CounterService = {
  inc(): Promise<bigint>;
  get(): Promise<bigint>;
  getHeapOnly(): Promise<bigint>;
  bumpInQuery(): Promise<bigint>;
  writeStable(v: bigint): Promise<void>;
  readStable(): Promise<bigint>;
  stablePages(): Promise<bigint>;
  incThenTrap(): Promise<void>;
  print(t: string): Promise<void>;
  now(): Promise<bigint>;
};

const u32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

describe.each(['eop', 'classic'] as const)('Motoko canister (%s)', (mode) => {
  let counter: Fixture;
  let refusesUpgrade: Fixture;
  beforeAll(async () => {
    counter = await motokoFixture('counter', mode);
    refusesUpgrade = await motokoFixture('refuses-upgrade', mode);
  });

  async function setup(options: { time?: number } = {}) {
    const lines: string[] = [];
    const pic = await createReplica({ time: options.time ?? Date.UTC(2026, 0, 1), onLog: (l) => lines.push(l) });
    const { actor, canisterId } = await pic.setupCanister<CounterService>({
      idlFactory: counter.idlFactory,
      wasm: counter.wasm,
      arg: counter.encodeInit(5n),
      name: 'counter',
    });
    return { pic, actor, canisterId, lines };
  }

  it('init argument reaches canister_init', async () => {
    const { actor } = await setup();
    expect(await actor.get()).toBe(5n);
  });

  it('update persists and query reads it', async () => {
    const { actor } = await setup();
    expect(await actor.inc()).toBe(6n);
    expect(await actor.inc()).toBe(7n);
    expect(await actor.get()).toBe(7n);
  });

  it('query never persists heap or stable memory', async () => {
    const { actor } = await setup();
    expect(await actor.bumpInQuery()).toBe(6n);
    expect(await actor.get()).toBe(5n);
    expect(await actor.readStable()).toBe(0n);
  });

  it('trap in update rolls back heap and transient state', async () => {
    const { actor } = await setup();
    await actor.inc();
    const e = await rejection(actor.incThenTrap());
    expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    expect(e.errorCode).toBe(ErrorCode.CanisterCalledTrap);
    expect(e.message).toContain('deliberate trap after writing');
    expect(await actor.get()).toBe(6n);
    expect(await actor.getHeapOnly()).toBe(1n);
  });

  it('trap in update rolls back stable memory', async () => {
    const { actor } = await setup();
    await actor.writeStable(7n);
    await rejection(actor.incThenTrap());
    expect(await actor.readStable()).toBe(7n);
    expect(await actor.stablePages()).toBe(1n);
  });

  it('canister keeps working after many trapped messages', async () => {
    const { actor } = await setup();
    for (let i = 0; i < 5; i++) await rejection(actor.incThenTrap());
    expect(await actor.inc()).toBe(6n);
  });

  it('upgrade keeps stable memory and drops transient heap state', async () => {
    const { pic, actor, canisterId } = await setup();
    await actor.inc();
    await actor.writeStable(1234n);
    await pic.upgradeCanister({ canisterId, wasm: counter.wasm, arg: counter.encodeInit(0n) });
    expect(await actor.get()).toBe(6n);
    expect(await actor.readStable()).toBe(1234n);
    expect(await actor.getHeapOnly()).toBe(0n);
  });

  it('failed upgrade leaves the canister as it was', async () => {
    const { pic, actor, canisterId } = await setup();
    await actor.inc();
    await actor.writeStable(77n);
    const e = await rejection(pic.upgradeCanister({ canisterId, wasm: refusesUpgrade.wasm, arg: refusesUpgrade.encodeInit(0n) }));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    expect(await actor.get()).toBe(6n);
    expect(await actor.getHeapOnly()).toBe(1n);
    expect(await actor.readStable()).toBe(77n);
    expect(await actor.inc()).toBe(7n);
  });

  it('reinstall wipes heap and stable memory and runs init', async () => {
    const { pic, actor, canisterId } = await setup();
    await actor.inc();
    await actor.writeStable(5n);
    await pic.reinstallCode({ canisterId, wasm: counter.wasm, arg: counter.encodeInit(40n) });
    expect(await actor.get()).toBe(40n);
    expect(await actor.readStable()).toBe(0n);
  });

  it('debug_print lines are prefixed with the canister name', async () => {
    const { actor, lines } = await setup();
    await actor.print('hello replica');
    expect(lines).toContain('[counter] hello replica');
  });

  it('each user message is logged with method, caller, outcome and duration', async () => {
    const { actor, lines } = await setup();
    await actor.inc();
    expect(lines.some((l) => /^counter\.inc \(anonymous\) -> replied \(\d+ bytes\) [\d.]+ ms/.test(l))).toBe(true);
  });

  it('ic0.time is the replica time and moves with advanceTime', async () => {
    const start = Date.UTC(2030, 5, 1);
    const { pic, actor } = await setup({ time: start });
    expect(await actor.now()).toBe(BigInt(start) * 1_000_000n);
    await pic.advanceTime(1500);
    expect(await actor.now()).toBe(BigInt(start + 1500) * 1_000_000n);
    expect(pic.getTime()).toBe(start + 1500);
  });

  it('garbage Candid arguments trap in the canister and leave it working', async () => {
    const { pic, actor, canisterId } = await setup();
    for (const arg of [new Uint8Array(), new Uint8Array([1, 2, 3]), new TextEncoder().encode('DIDL\x00\x01\x71\xff\xff\xff')]) {
      const e = await rejection(pic.updateCall({ canisterId, method: 'writeStable', arg }));
      expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    }
    expect(await actor.inc()).toBe(6n);
  });

  it('missing method is rejected with code 5 naming canister and method', async () => {
    const { pic, canisterId } = await setup();
    const e = await rejection(pic.updateCall({ canisterId, method: 'no_such_method' }));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    expect(e.errorCode).toBe(ErrorCode.CanisterMethodNotFound);
    expect(e.message).toContain(canisterId.toText());
    expect(e.message).toContain('no_such_method');
  });

  it('query call to an update method is rejected', async () => {
    const { pic, canisterId } = await setup();
    const e = await rejection(pic.queryCall({ canisterId, method: 'inc' }));
    expect(e.errorCode).toBe(ErrorCode.CanisterMethodNotFound);
    expect(e.rejectMessage).toContain(`Error from Canister ${canisterId.toText()}: Canister has no query method 'inc'..`);
  });

  it('stopped canister rejects calls with code 5', async () => {
    const { pic, actor, canisterId } = await setup();
    await pic.stopCanister({ canisterId });
    const e = await rejection(actor.inc());
    expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    expect(e.errorCode).toBe(ErrorCode.CanisterStopped);
    expect(e.message).toContain(canisterId.toText());
    await pic.startCanister({ canisterId });
    expect(await actor.inc()).toBe(6n);
  });

  it('deleted canister rejects calls with code 3', async () => {
    const { pic, actor, canisterId } = await setup();
    await pic.stopCanister({ canisterId });
    await pic.deleteCanister({ canisterId });
    const e = await rejection(actor.get());
    expect(e.rejectCode).toBe(RejectCode.DESTINATION_INVALID);
    expect(e.errorCode).toBe(ErrorCode.CanisterNotFound);
    expect(e.message).toContain(canisterId.toText());
  });
});

describe('enhanced orthogonal persistence', () => {
  let counter: Fixture;
  beforeAll(async () => {
    counter = await motokoFixture('counter', 'eop');
  });

  it('EOP upgrade keeps main memory', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<CounterService>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(1n) });
    await actor.inc();
    await pic.upgradeCanister({ canisterId, wasm: counter.wasm, arg: counter.encodeInit(0n), upgradeModeOptions: { wasm_memory_persistence: 'keep' } });
    expect(await actor.get()).toBe(2n);
    expect(await actor.getHeapOnly()).toBe(0n);
  });

  it('EOP upgrade without wasm_memory_persistence is refused and changes nothing', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<CounterService>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(1n) });
    await actor.inc();
    const e = await rejection(
      pic.callManagement('install_code', {
        mode: { upgrade: [] },
        canister_id: canisterId,
        wasm_module: counter.wasm,
        arg: counter.encodeInit(0n),
        sender_canister_version: [],
      }),
    );
    expect(e.message).toContain('wasm_memory_persistence');
    expect(await actor.get()).toBe(2n);
  });

  it('EOP upgrade with wasm_memory_persistence replace discards main memory', async () => {
    // Motoko's EOP runtime keeps stable variables in main memory, not in stable memory, so
    // replacing main memory loses them: the canister starts over from its init argument.
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<CounterService>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(1n) });
    await actor.inc();
    await pic.upgradeCanister({ canisterId, wasm: counter.wasm, arg: counter.encodeInit(30n), upgradeModeOptions: { wasm_memory_persistence: 'replace' } });
    expect(await actor.get()).toBe(30n);
  });
});

describe('System API probes (hand-written Wasm)', () => {
  let probe: Uint8Array;
  let pic: Replica;
  let canisterId: Principal;
  const lines: string[] = [];
  beforeAll(async () => {
    probe = await watFixture('probe');
    pic = await createReplica({ onLog: (l) => lines.push(l) });
    canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: probe });
  });
  const call = (method: string) => pic.updateCall({ canisterId, method, arg: new Uint8Array() });
  const query = (method: string) => pic.queryCall({ canisterId, method, arg: new Uint8Array() });

  it('reply twice traps', async () => {
    const e = await rejection(call('reply_twice'));
    expect(e.errorCode).toBe(ErrorCode.CanisterContractViolation);
    expect(e.rejectMessage).toContain('Canister violated contract: ic0.msg_reply: the call is already replied.');
  });

  it('out-of-bounds heap access in the System API traps with offset and size', async () => {
    const e = await rejection(call('reply_oob'));
    expect(e.errorCode).toBe(ErrorCode.CanisterContractViolation);
    expect(e.rejectMessage).toContain('src=65500 + length=1000 exceeds the slice size=65536');
  });

  it('call API used in a query traps', async () => {
    const e = await rejection(query('call_in_query'));
    expect(e.rejectMessage).toContain('Canister violated contract: "ic0_call_new" cannot be executed in non replicated query mode.\n');
  });

  it('cycles API used in a query traps', async () => {
    const e = await rejection(query('accept_in_query'));
    expect(e.rejectMessage).toContain('"ic0_msg_cycles_accept128" cannot be executed in non replicated query mode');
  });

  it('trap rolls back mutable globals, memory growth and stable memory', async () => {
    expect(u32(await call('bump'))).toBe(1);
    const before = u32(await query('pages'));
    await rejection(call('bump_then_trap'));
    expect(u32(await query('counter'))).toBe(1);
    expect(u32(await query('pages'))).toBe(before);
    expect(u32(await call('bump'))).toBe(2);
  });

  it('method that neither replies nor calls is rejected as did-not-reply', async () => {
    const e = await rejection(call('no_reply'));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    expect(e.errorCode).toBe(ErrorCode.CanisterDidNotReply);
  });

  it('msg_reject is delivered with code 4 and the canister message', async () => {
    const e = await rejection(call('reject'));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_REJECT);
    expect(e.rejectMessage).toBe('nope');
  });

  it('trapping pre_upgrade blocks the upgrade unless skip_pre_upgrade is set', async () => {
    await call('write_stable');
    const before = u32(await query('counter'));
    const e = await rejection(pic.upgradeCanister({ canisterId, wasm: probe }));
    expect(e.rejectMessage).toMatch(/^Error from Canister [a-z0-9-]+: Canister trapped: unreachable\n/);
    expect(u32(await query('counter'))).toBe(before);
    await pic.upgradeCanister({ canisterId, wasm: probe, upgradeModeOptions: { skip_pre_upgrade: true } });
    expect(u32(await query('counter'))).toBe(0); // fresh instance: globals start over
    expect(u32(await query('pages')) % 1000).toBe(1); // stable memory kept
  });

  it('callback at a table index that does not exist traps instead of crashing', async () => {
    const e = await rejection(call('bad_callback'));
    expect(e.errorCode).toBe(ErrorCode.CanisterFunctionNotFound);
    expect(e.rejectMessage).toContain('Canister requested to invoke a non-existent Wasm function 999 from table 0.\n');
    expect(u32(await call('bump'))).toBeGreaterThan(0);
  });

  it('unbounded recursion traps as a stack overflow and the canister keeps working', async () => {
    const e = await rejection(call('recurse'));
    expect(e.errorCode).toBe(ErrorCode.CanisterTrapped);
    expect(e.message).toMatch(/stack overflow|call stack/i);
    expect(u32(await call('bump'))).toBeGreaterThan(0);
  });

  it('trap names the Wasm functions from the name section', async () => {
    const e = await rejection(call('trap_deep'));
    // The caller controls the canister, so it sees the IC's backtrace of the trap.
    expect(e.rejectMessage).toMatch(/: Canister trapped: unreachable\nCanister Backtrace:\ndeep\ndeep\ndeep\n/);
    expect(lines.some((l) => l.includes('trapped in `deep ← deep ← deep`'))).toBe(true);
  });
});

describe('limits and cycles the engine enforces', () => {
  let probe: Uint8Array;
  let counter: Fixture;
  beforeAll(async () => {
    probe = await watFixture('probe');
    counter = await motokoFixture('counter', 'classic');
  });
  const probeOn = async (pic: Replica) => {
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: probe });
    return canisterId;
  };

  it('performance_counter counts the instructions of the message', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await probeOn(pic);
    const counted = new DataView((await pic.updateCall({ canisterId, method: 'spin', arg: new Uint8Array() })).buffer).getBigUint64(0, true);
    expect(counted).toBeGreaterThan(10_000n);
    expect(counted).toBeLessThan(1_000_000n);
  });

  it('call_perform fails once 500 calls wait for responses (the output queue capacity)', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await probeOn(pic);
    await pic.updateCall({ canisterId, method: 'set_self', arg: new Uint8Array() });
    expect(u32(await pic.updateCall({ canisterId, method: 'fan_out', arg: new Uint8Array() }))).toBe(500);
    await pic.tick();
    expect(u32(await pic.queryCall({ canisterId, method: 'counter', arg: new Uint8Array() }))).toBe(500);
    expect(pic.scheduler.canister(canisterId)!.outstandingCalls).toBe(0);
  });

  it('growing past wasm_memory_limit fails the message with IC0539 and rolls it back', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await probeOn(pic);
    await pic.callManagement('update_settings', {
      canister_id: canisterId,
      settings: canisterSettings({ wasm_memory_limit: [3n * 65536n] }),
      sender_canister_version: [],
    });
    const e = await rejection(pic.updateCall({ canisterId, method: 'grow_4', arg: new Uint8Array() }));
    expect(e.errorCode).toBe(ErrorCode.CanisterWasmMemoryLimitExceeded);
    expect(e.message).toContain('Wasm memory limit of 196608 bytes');
    expect(Math.floor(u32(await pic.queryCall({ canisterId, method: 'pages', arg: new Uint8Array() })) / 1000)).toBe(1);
  });

  it('an endless loop stops at the instruction limit (IC0522) and rolls back', async () => {
    const pic = await createReplica({ log: 'quiet', limits: { instructionsPerUpdate: 5_000_000 } });
    const canisterId = await probeOn(pic);
    const e = await rejection(pic.updateCall({ canisterId, method: 'loop_forever', arg: new Uint8Array() }));
    expect(e.errorCode).toBe(ErrorCode.CanisterInstructionLimitExceeded);
    expect(e.message).toContain('5000000 instructions');
    expect(u32(await pic.queryCall({ canisterId, method: 'counter', arg: new Uint8Array() }))).toBe(0);
  });

  it('performance_counter in post_upgrade counts the whole upgrade, pre_upgrade included', async () => {
    const upgrader = await watFixture('upgrader');
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: upgrader });
    const lastUpgrade = async () =>
      new DataView((await pic.queryCall({ canisterId, method: 'last_upgrade', arg: new Uint8Array() })).buffer).getBigUint64(0, true);
    await pic.upgradeCanister({ canisterId, wasm: upgrader });
    const withPreUpgrade = await lastUpgrade();
    await pic.upgradeCanister({ canisterId, wasm: upgrader, upgradeModeOptions: { skip_pre_upgrade: true } });
    const without = await lastUpgrade();
    expect(withPreUpgrade).toBeGreaterThan(200_000n); // 100,000 loop iterations
    expect(without).toBeLessThan(10_000n);
  });

  it('oversized reply is rejected as a contract violation (IC0504)', async () => {
    const pic = await createReplica({ log: 'quiet', limits: { maxQueryResponseBytes: 4 } });
    const { actor, canisterId } = await pic.setupCanister<CounterService>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(1n) });
    const e = await rejection(actor.get());
    expect(e.errorCode).toBe(ErrorCode.CanisterContractViolation);
    expect(e.rejectMessage).toContain(
      `Error from Canister ${canisterId.toText()}: Canister violated contract: ic0.msg_reply_data_append: application payload size (8) cannot be larger than 4..\n`,
    );
    expect(await actor.inc()).toBe(2n); // updates have the 2 MiB limit
  });

  it('stable memory written past the per-message limit traps with IC0524 and rolls back', async () => {
    const pic = await createReplica({ log: 'quiet', limits: { stableWrittenBytesPerMessage: 32 * 1024 } });
    const canisterId = await probeOn(pic);
    const e = await rejection(pic.updateCall({ canisterId, method: 'write_64k', arg: new Uint8Array() }));
    expect(e.errorCode).toBe(ErrorCode.CanisterMemoryAccessLimitExceeded);
    expect(u32(await pic.queryCall({ canisterId, method: 'pages', arg: new Uint8Array() })) % 1000).toBe(0);
  });

  it('frozen canister rejects calls with IC0207 until topped up', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const { actor, canisterId } = await pic.setupCanister<CounterService>({
      idlFactory: counter.idlFactory,
      wasm: counter.wasm,
      arg: counter.encodeInit(1n),
      cycles: 10n ** 12n,
    });
    await pic.callManagement('update_settings', {
      canister_id: canisterId,
      settings: canisterSettings({ freezing_threshold: [10n ** 12n] }),
      sender_canister_version: [],
    });
    const e = await rejection(actor.inc());
    expect(e.rejectCode).toBe(RejectCode.SYS_TRANSIENT);
    expect(e.errorCode).toBe(ErrorCode.CanisterOutOfCycles);
    expect((await rejection(actor.get())).message).toContain('frozen');
    await pic.callManagement('update_settings', {
      canister_id: canisterId,
      settings: canisterSettings({ freezing_threshold: [0n] }),
      sender_canister_version: [],
    });
    expect(await actor.inc()).toBe(2n);
  });

  it('memory is charged by time: a day costs idle_cycles_burned_per_day', async () => {
    const pic = await createReplica({ log: 'quiet', time: Date.UTC(2026, 0, 1) });
    const { canisterId } = await pic.setupCanister<CounterService>({ idlFactory: counter.idlFactory, wasm: counter.wasm, arg: counter.encodeInit(1n) });
    await pic.tick();
    const status = (await pic.callManagement('canister_status', { canister_id: canisterId })) as { idle_cycles_burned_per_day: bigint };
    const before = pic.getCyclesBalance(canisterId);
    await pic.advanceTime(86_400_000);
    await pic.tick();
    expect(status.idle_cycles_burned_per_day).toBeGreaterThan(0n);
    expect(before - pic.getCyclesBalance(canisterId)).toBe(status.idle_cycles_burned_per_day);
  });

  it('execution fees are charged to the canister and shown in the log', async () => {
    const lines: string[] = [];
    const pic = await createReplica({ onLog: (l) => lines.push(l) });
    const { actor, canisterId } = await pic.setupCanister<CounterService>({
      idlFactory: counter.idlFactory,
      wasm: counter.wasm,
      arg: counter.encodeInit(1n),
      name: 'fees',
    });
    const before = pic.getCyclesBalance(canisterId);
    await actor.inc();
    expect(pic.getCyclesBalance(canisterId)).toBeLessThan(before);
    expect(lines.some((l) => /^fees\.inc \(anonymous\) -> replied .* instr, [\d.]+M cycles$/.test(l))).toBe(true);
    const afterUpdate = pic.getCyclesBalance(canisterId);
    await actor.get();
    expect(pic.getCyclesBalance(canisterId)).toBe(afterUpdate); // queries are free
  });
});

describe('canister_inspect_message', () => {
  it('a message inspect_message does not accept is refused with IC0406 and not executed', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: await watFixture('refuser') });
    expect(await pic.updateCall({ canisterId, method: 'allowed', arg: new Uint8Array() })).toEqual(new Uint8Array());
    const e = await rejection(pic.updateCall({ canisterId, method: 'refused', arg: new Uint8Array() }));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_REJECT);
    expect(e.errorCode).toBe(ErrorCode.CanisterRejectedMessage);
    expect(e.message).toContain('refused');
    // queries are not inspected
    const q = await rejection(pic.queryCall({ canisterId, method: 'refused', arg: new Uint8Array() }));
    expect(q.errorCode).toBe(ErrorCode.CanisterMethodNotFound);
  });
});

describe('bad input never crashes the replica', () => {
  it('invalid module is rejected with IC0505 naming the canister', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    const e = await rejection(pic.installCode({ canisterId, wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99, 1, 2]) }));
    expect(e.rejectCode).toBe(RejectCode.CANISTER_ERROR);
    expect(e.errorCode).toBe(ErrorCode.CanisterInvalidWasm);
    expect(e.message).toContain(canisterId.toText());
    const notWasm = await rejection(pic.installCode({ canisterId, wasm: new TextEncoder().encode('hello') }));
    // Decoded once (wasm/module.ts); refused in the IC's words for a module that does not decode.
    expect(notWasm.message).toContain(
      `Error from Canister ${canisterId.toText()}: Canister's Wasm module is not valid: Failed to decode wasm module: not a WebAssembly module (bad magic number)`,
    );
    // still usable afterwards
    await pic.installCode({ canisterId, wasm: await watFixture('probe') });
  });

  it('randomly corrupted modules are installed or refused, never crash the replica', async () => {
    const probe = await watFixture('probe');
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const outcomes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const bytes = probe.slice();
      for (let k = 0; k < 3; k++) bytes[8 + Math.floor(random() * (bytes.length - 8))] = Math.floor(random() * 256);
      try {
        await pic.reinstallCode({ canisterId, wasm: bytes });
        outcomes.add('installed');
      } catch (e) {
        expect(e).toBeInstanceOf(CanisterRejectError);
        outcomes.add((e as CanisterRejectError).errorCode ?? 'reject');
      }
    }
    expect(outcomes.has(ErrorCode.CanisterInvalidWasm)).toBe(true);
    await pic.reinstallCode({ canisterId, wasm: probe });
    expect(u32(await pic.updateCall({ canisterId, method: 'bump', arg: new Uint8Array() }))).toBe(1);
  });

  it('module importing something other than ic0 is refused', async () => {
    const { default: binaryen } = await import('binaryen');
    const m = binaryen.parseText('(module (import "env" "f" (func)) (func (export "canister_update x")))');
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    const e = await rejection(pic.installCode({ canisterId, wasm: m.emitBinary() }));
    expect(e.rejectMessage).toContain("Module imports function 'f' from 'env' that is not exported by the runtime.");
  });

  it('call to an empty canister is rejected with IC0537', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    const e = await rejection(pic.updateCall({ canisterId, method: 'anything' }));
    expect(e.errorCode).toBe(ErrorCode.CanisterWasmModuleNotFound);
    expect(e.message).toContain(canisterId.toText());
  });

  it('call to a canister that never existed is rejected with code 3', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const e = await rejection(pic.updateCall({ canisterId: Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai'), method: 'x' }));
    expect(e.rejectCode).toBe(RejectCode.DESTINATION_INVALID);
    expect(e.message).toContain('ryjl3-tyaaa-aaaaa-aaaba-cai not found');
  });

  it('gzip-compressed module installs', async () => {
    const probe = await watFixture('probe');
    const gz = new Uint8Array(await new Response(new Blob([probe as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
    const pic = await createReplica({ log: 'quiet' });
    const canisterId = await pic.createCanister();
    await pic.installCode({ canisterId, wasm: gz });
    expect(u32(await pic.updateCall({ canisterId, method: 'bump', arg: new Uint8Array() }))).toBe(1);
  });

  it('malformed Candid to the management canister is rejected with IC0408', async () => {
    const pic = await createReplica({ log: 'quiet' });
    const e = await rejection(
      pic.updateCall({ canisterId: Principal.managementCanister(), method: 'install_code', arg: new Uint8Array(IDL.encode([IDL.Text], ['x'])) }),
    );
    expect(e.rejectCode).toBe(RejectCode.CANISTER_REJECT);
    expect(e.errorCode).toBe(ErrorCode.InvalidManagementPayload);
  });
});
