// Cycles fees, the freezing threshold, resource limits and System API instruction costs, against
// numbers worked out by hand from the IC's fee table (replica/src/cycles/fees.ts cites it).
import { describe, expect, it } from 'vitest';
import {
  chargeForResources,
  freezingThresholdCycles,
  idleCyclesBurnedPerDay,
  isFrozen,
  OutOfCyclesError,
  prepayExecution,
  withdrawCycles,
  type CyclesState,
} from '../src/cycles/account.ts';
import { applicationSubnetCosts as costs, CyclesCosts } from '../src/cycles/fees.ts';
import {
  DEFAULT_LIMITS,
  instructionLimit,
  maxReplyBytes,
  parseLimitAssignments,
  replyTooLarge,
  resolveLimits,
  stableMemoryAccessLimits,
} from '../src/limits.ts';
import { chargeSystemApiCall, InstructionMeter, meteredSystemApi, OutOfInstructionsError, systemApiCost } from '../src/metering/system-api-costs.ts';

const GiB = 1024n ** 3n;
const DAY = 86_400n;

describe('cycles fees of a 13-node application subnet', () => {
  it('charges execution as 5M per message plus 1 cycle per instruction (2 in wasm64)', () => {
    expect(costs.execution(1_000_000_000n)).toBe(1_005_000_000n);
    expect(costs.execution(1_000_000_000n, true)).toBe(2_005_000_000n);
    // Prepaying the 40B update limit and using 1M refunds the variable part of the rest.
    expect(costs.executionRefund(40_000_000_000n, 1_000_000n)).toBe(39_999_000_000n);
  });

  it('charges ingress 1.2M plus 2,000 per byte, storage 127,000 per GiB-second', () => {
    expect(costs.ingressInduction(100)).toBe(1_400_000n);
    expect(costs.memory(GiB, DAY)).toBe(127_000n * DAY);
    expect(costs.canisterCreation()).toBe(500_000_000_000n);
  });

  it('prepays a call for its bytes, a maximal response and the callback, and refunds the unused response bytes', () => {
    const { transmission, execution } = costs.callPrepayment(1_000, 40_000_000_000n);
    expect(transmission).toBe(260_000n + 1_000n * 1_000n + 1_000n * 2n * 1024n * 1024n);
    expect(execution).toBe(5_000_000n + 40_000_000_000n);
    expect(costs.responseTransmissionRefund(0)).toBe(1_000n * 2n * 1024n * 1024n);
  });

  it('scales every fee with the subnet size (fees are quoted for 13 nodes)', () => {
    const big = new CyclesCosts(undefined, 34);
    expect(big.execution(0n)).toBe((5_000_000n * 34n) / 13n);
    expect(() => new CyclesCosts(undefined, 0)).toThrow(/positive integer/);
  });
});

describe('freezing threshold', () => {
  const canister = (balance: bigint): CyclesState => ({ balance, memoryBytes: GiB, freezingThresholdSeconds: 30n * DAY });

  it('is the idle burn over the threshold period, less reserved cycles', () => {
    expect(idleCyclesBurnedPerDay(canister(0n))).toBe(127_000n * DAY);
    expect(freezingThresholdCycles(canister(0n))).toBe(127_000n * DAY * 30n);
    expect(freezingThresholdCycles({ ...canister(0n), reservedBalance: 127_000n * DAY })).toBe(127_000n * DAY * 29n);
    // A memory allocation above usage is what is paid for.
    expect(idleCyclesBurnedPerDay({ ...canister(0n), memoryAllocationBytes: 2n * GiB })).toBe(2n * 127_000n * DAY);
  });

  it('freezes a canister whose balance is below it, and refuses withdrawals that would cross it', () => {
    const threshold = 127_000n * DAY * 30n;
    expect(isFrozen(canister(threshold - 1n))).toBe(true);
    expect(isFrozen(canister(threshold))).toBe(false);
    const poor = canister(threshold + 100n);
    expect(() => withdrawCycles(poor, 101n, 'rrkah-fqaaa-aaaaa-aaaaq-cai', { revealTopUp: true })).toThrow(
      'Canister rrkah-fqaaa-aaaaa-aaaaq-cai is out of cycles: please top up the canister with at least 1 additional cycles',
    );
    expect(() => withdrawCycles(poor, 101n, 'rrkah-fqaaa-aaaaa-aaaaq-cai')).toThrow(OutOfCyclesError);
    expect(poor.balance).toBe(threshold + 100n);
    expect(withdrawCycles(poor, 100n, 'rrkah-fqaaa-aaaaa-aaaaq-cai')).toBe(threshold);
  });

  it('prepays an update at its limit and settles to what it used', () => {
    const s: CyclesState = { balance: 100_000_000_000n, memoryBytes: 0n };
    const execution = prepayExecution(s, 'c', 40_000_000_000n);
    expect(s.balance).toBe(100_000_000_000n - 40_005_000_000n);
    const { charged } = execution.settle(2_000_000n);
    expect(charged).toBe(5_000_000n + 2_000_000n);
    expect(s.balance).toBe(100_000_000_000n - 7_000_000n);
    expect(() => execution.settle(1n)).toThrow(/already settled/);
    expect(() => prepayExecution({ balance: 1_000n, memoryBytes: 0n }, 'c', 40_000_000_000n)).toThrow(/is out of cycles/);
  });

  it('charges storage from reserved cycles first, down to zero but not below', () => {
    const s: CyclesState = { balance: 1_000n, reservedBalance: 500n, memoryBytes: GiB };
    const { charged, exhausted } = chargeForResources(s, 10n);
    expect(charged).toBe(1_500n);
    expect(exhausted).toBe(true);
    expect(s).toMatchObject({ balance: 0n, reservedBalance: 0n });
    const rich: CyclesState = { balance: 10n ** 12n, memoryBytes: GiB };
    expect(chargeForResources(rich, 10n)).toEqual({ charged: 1_270_000n, exhausted: false });
  });
});

describe('limits', () => {
  it('defaults to the IC and budgets each kind of execution', () => {
    expect(instructionLimit(DEFAULT_LIMITS, 'update')).toBe(40_000_000_000n);
    expect(instructionLimit(DEFAULT_LIMITS, 'timer')).toBe(40_000_000_000n);
    expect(instructionLimit(DEFAULT_LIMITS, 'query')).toBe(5_000_000_000n);
    expect(instructionLimit(DEFAULT_LIMITS, 'upgrade')).toBe(300_000_000_000n);
    expect(instructionLimit(DEFAULT_LIMITS, 'inspect')).toBe(200_000_000n);
    expect(maxReplyBytes(DEFAULT_LIMITS, 'query')).toBe(3 * 1024 * 1024);
    expect(maxReplyBytes(DEFAULT_LIMITS, 'update')).toBe(2 * 1024 * 1024);
    expect(stableMemoryAccessLimits(DEFAULT_LIMITS, 'upgrade').written).toBe(8 * 1024 ** 3);
    // Limits the replica does not enforce are not offered: --limit cannot claim to lower them.
    for (const name of ['stableMemoryBytes', 'wasm32HeapBytes', 'maxInterCanisterPayloadBytes', 'maxWasmModuleBytes', 'maxFunctions', 'maxGlobals']) {
      expect(() => parseLimitAssignments([`${name}=1`])).toThrow(`unknown limit "${name}"`);
    }
  });

  it('parses the CLI form, with units', () => {
    expect(parseLimitAssignments(['instructionsPerQuery=1e6', 'maxIngressBytes=64KiB', 'instructionsPerInstall=2B'])).toEqual({
      instructionsPerQuery: 1_000_000,
      maxIngressBytes: 65_536,
      instructionsPerInstall: 2_000_000_000,
    });
    expect(() => parseLimitAssignments(['instructionsPerQuery'])).toThrow(
      '--limit expects name=value (e.g. instructionsPerQuery=1e6), got "instructionsPerQuery"',
    );
    expect(() => parseLimitAssignments(['nope=1'])).toThrow(/unknown limit "nope"/);
    expect(() => parseLimitAssignments(['maxIngressBytes=0.5'])).toThrow(/positive integer/);
  });

  it('words an oversized reply as the IC does', () => {
    expect(replyTooLarge(3_000_000, 200_000, 3_145_728)).toBe('ic0.msg_reply_data_append: application payload size (3200000) cannot be larger than 3145728');
    expect(replyTooLarge(10, 10, 20)).toBeUndefined();
  });

  it('can be lowered, and says which value is wrong', () => {
    expect(resolveLimits({ instructionsPerInstall: 1_000_000 }).instructionsPerInstall).toBe(1_000_000);
    expect(() => resolveLimits({ instructionsPerQuery: -5 })).toThrow('limit instructionsPerQuery must be a positive integer, got -5');
    expect(() => resolveLimits({ bogus: 1 } as never)).toThrow(/unknown limit "bogus"/);
  });
});

describe('System API instruction costs', () => {
  it('charges the fixed overhead plus bytes, 50 per byte that leaves the canister', () => {
    expect(systemApiCost('msg_reply_data_append', [0, 100])).toBe(500n + 50n * 100n);
    expect(systemApiCost('msg_arg_data_copy', [0, 0, 100n])).toBe(600n);
    expect(systemApiCost('call_new', [0, 10, 0, 7, 0, 0, 0, 0])).toBe(1_500n + 17n);
    expect(systemApiCost('performance_counter', [0])).toBe(200n);
    expect(systemApiCost('time')).toBe(500n);
  });

  it('stops a message whose System API calls exceed its budget, and caps what it reports', () => {
    const counter = new WebAssembly.Global({ value: 'i64', mutable: true }, 0n);
    const meter = new InstructionMeter(counter, 1_000n);
    meter.begin();
    const ic0 = meteredSystemApi({ time: () => 42n }, () => meter);
    expect(ic0.time()).toBe(42n);
    expect(meter.used()).toBe(500n);
    expect(ic0.time()).toBe(42n);
    expect(() => ic0.time()).toThrow(OutOfInstructionsError);
    expect(meter.exceeded()).toBe(true);
    expect(meter.used()).toBe(1_000n);
  });

  it('charges on a bare counter global, leaving it negative when the budget runs out', () => {
    const counter = new WebAssembly.Global({ value: 'i64', mutable: true }, 600n);
    chargeSystemApiCall(counter, 'msg_arg_data_copy', [0, 0, 50]);
    expect(counter.value).toBe(50n);
    expect(() => chargeSystemApiCall(counter, 'msg_arg_data_copy', [0, 0, 51])).toThrow(OutOfInstructionsError);
    expect(counter.value).toBe(50n - 551n);
    expect(() => chargeSystemApiCall(counter, 'time', [])).toThrow(OutOfInstructionsError);
    expect(() => chargeSystemApiCall(undefined, 'time', [])).not.toThrow();
  });
});

describe('stable memory access limits', () => {
  it('counts 4 KiB pages, reports first-time dirty pages, and stops past the limit with IC0524', async () => {
    const { StableMemoryAccessMeter, MemoryAccessLimitError, formatCycles } = await import('../src/metering/stable-access.ts');
    const meter = new StableMemoryAccessMeter({ accessed: 16 * 4096, written: 8 * 4096 });
    expect(meter.write(4090, 10)).toBe(2); // straddles pages 0 and 1
    expect(meter.write(0, 4096)).toBe(0); // page 0 already dirty in this message
    meter.read(8 * 4096, 4096 * 8); // pages 8..15
    expect(meter.accessedPages).toBe(10);
    expect(() => meter.write(20 * 4096, 7 * 4096)).toThrow(MemoryAccessLimitError);
    expect(() => meter.write(2 * 4096, 7 * 4096)).toThrow(
      'Exceeded the limit for the number of modified pages in the stable memory in a single message execution: limit: 32 KB.',
    );
    expect(meter.dirtyPages).toBe(2); // refused writes are not recorded
    expect(formatCycles(5_007_000n)).toBe('5.0M cycles');
    expect(formatCycles(999n)).toBe('999 cycles');
  });
});

describe('Wasm memory limit', () => {
  it('applies to updates, timers, install and post_upgrade only, with the IC0539 text', async () => {
    const { wasmMemoryLimitApplies, wasmMemoryLimitExceeded, WASM64_HEAP_BYTES } = await import('../src/limits.ts');
    expect(['update', 'timer', 'heartbeat', 'install', 'post-upgrade'].every((k) => wasmMemoryLimitApplies(k as never))).toBe(true);
    expect(['query', 'pre-upgrade', 'callback', 'composite-query'].some((k) => wasmMemoryLimitApplies(k as never))).toBe(false);
    expect(wasmMemoryLimitExceeded(1024n, 2048n)).toMatch(
      /^Canister exceeded its current Wasm memory limit of 1024 bytes\. The peak Wasm memory usage was 2048 bytes\./,
    );
    expect(WASM64_HEAP_BYTES).toBe(6 * 1024 ** 3);
  });
});
