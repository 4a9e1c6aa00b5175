// The serialization-formats demo on the local replica: the same records written and read back in
// three encodings, every read checked against what was written, sizes and costs ordered as the
// formats' designs say they must be.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Replica } from '@scaling-wg/replica';
import type { _SERVICE as FormatsService, FormatResult } from '../src/declarations/serialization-formats/serialization-formats.did.ts';
import { deploy, errorOf, startReplica, type Deployed } from './test-support.ts';

let pic: Replica;
let formats: Deployed<FormatsService>;

beforeAll(async () => {
  pic = await startReplica();
  formats = await deploy<FormatsService>(pic, 'serialization-formats');
});

afterAll(async () => {
  await pic?.tearDown();
});

function byFormat(results: FormatResult[]): Record<string, FormatResult> {
  return Object.fromEntries(results.map((r) => [r.format, r]));
}

describe('serialization-formats', () => {
  it('round-trips the same records in Candid, a binary layout and JSON, and measures each', async () => {
    const result = await formats.actor.measure(500n);
    if (!('ok' in result)) throw new Error(JSON.stringify(errorOf(result)));
    expect(result.ok.records).toBe(500n);
    const f = byFormat(result.ok.formats);
    expect(Object.keys(f).sort()).toEqual(['binary', 'candid', 'json']);
    for (const r of result.ok.formats) {
      expect(r.roundTrip, `${r.format} reads back what it wrote`).toBe(true);
      expect(r.writeInstructions).toBeGreaterThan(0n);
      expect(r.readInstructions).toBeGreaterThan(0n);
    }
    // JSON spells out every key and quotes every string: the largest of the three.
    expect(f.json.bytes).toBeGreaterThan(f.candid.bytes);
    expect(f.json.bytes).toBeGreaterThan(f.binary.bytes);
    // Parsing text character by character costs more than reading fixed fields.
    expect(f.json.readInstructions).toBeGreaterThan(f.binary.readInstructions);
  });

  it('grows with the record count', async () => {
    const [small, large] = await Promise.all([formats.actor.measure(100n), formats.actor.measure(1_000n)]);
    if (!('ok' in small) || !('ok' in large)) throw new Error('measure refused');
    const s = byFormat(small.ok.formats);
    const l = byFormat(large.ok.formats);
    for (const name of ['candid', 'binary', 'json']) {
      expect(l[name].bytes).toBeGreaterThan(5n * s[name].bytes);
      expect(l[name].writeInstructions).toBeGreaterThan(s[name].writeInstructions);
    }
  });

  it('refuses record counts outside its limits', async () => {
    expect(errorOf(await formats.actor.measure(0n)).kind).toBe('invalidArgument');
    expect(errorOf(await formats.actor.measure(5_001n))).toEqual({ kind: 'invalidArgument', text: 'count must be between 1 and 5000 records' });
  });
});
