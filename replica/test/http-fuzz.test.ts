// Bad input never takes the replica down: thousands of mutated envelopes go through the HTTP
// interface and every answer is a 2xx or a 4xx with a sentence, never a 5xx or a throw.

import { describe, expect, it } from 'vitest';
import { encodeCbor, type CborMap, type CborValue } from '../src/certification/cbor.ts';
import { subnetKeys } from '../src/certification/keys.ts';
import { canisterIdFromNumber, principalToText } from '../src/ic/principal.ts';
import type { EnginePort } from '../src/http/engine-port.ts';
import { HttpInterface } from '../src/http/interface.ts';

const id = canisterIdFromNumber(1);
const engine: EnginePort = {
  time: () => BigInt(Date.now()) * 1_000_000n,
  canisterRanges: () => [[canisterIdFromNumber(0), canisterIdFromNumber(0xfffff)]],
  listCanisters: () => [id],
  canisterInfo: () => ({ certifiedData: new Uint8Array(32), controllers: [], metadata: [] }),
  submitCall: async () => ({ status: 'replied', reply: new Uint8Array([1]) }),
  queryCall: async () => ({ status: 'replied', reply: new Uint8Array([1]) }),
};
const api = new HttpInterface({ engine, keys: subnetKeys() });

// A small deterministic PRNG so a failure can be reproduced from the seed in its name.
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

const oddValues = (r: () => number): CborValue[] => [
  null,
  true,
  -5,
  2n ** 70n,
  '',
  'x'.repeat(200),
  new Uint8Array(0),
  new Uint8Array(40).fill(255),
  [],
  [[[]]],
  {},
  { a: null },
  [new Uint8Array(1), 'text', 3],
  Math.floor(r() * 1e9),
  -(2n ** 65n),
];

function mutate(value: CborValue, r: () => number, depth = 0): CborValue {
  const odd = oddValues(r);
  if (r() < 0.15 || depth > 4) return odd[Math.floor(r() * odd.length)];
  if (Array.isArray(value)) return value.map((v) => mutate(v, r, depth + 1));
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: CborMap = {};
    for (const [k, v] of Object.entries(value)) if (r() > 0.1) out[r() < 0.05 ? k + '_' : k] = mutate(v, r, depth + 1);
    if (r() < 0.1) out.extra = odd[Math.floor(r() * odd.length)];
    return out;
  }
  return r() < 0.3 ? odd[Math.floor(r() * odd.length)] : value;
}

const expiry = () => BigInt(Date.now() + 60_000) * 1_000_000n;
const valid = (kind: string, r: () => number): CborMap => {
  const envelope = signed(kind);
  if (r() < 0.5) {
    // Anonymous: no authentication fields, so mutations reach the endpoint's own checks.
    delete envelope.sender_pubkey;
    delete envelope.sender_sig;
    delete envelope.sender_delegation;
  } else (envelope.content as CborMap).sender = new Uint8Array(29).fill(3);
  return envelope;
};
const signed = (kind: string): CborMap => ({
  content:
    kind === 'read_state'
      ? { request_type: kind, sender: Uint8Array.of(4), ingress_expiry: expiry(), paths: [[new TextEncoder().encode('time')]] }
      : {
          request_type: kind,
          sender: Uint8Array.of(4),
          ingress_expiry: expiry(),
          canister_id: id,
          method_name: 'm',
          arg: new Uint8Array(),
          nonce: new Uint8Array(4),
        },
  sender_pubkey: new Uint8Array(44),
  sender_sig: new Uint8Array(64),
  sender_delegation: [{ delegation: { pubkey: new Uint8Array(44), expiration: expiry() }, signature: new Uint8Array(64) }],
});

describe('mutated envelopes', () => {
  for (const [kind, endpoint] of [
    ['query', 'v3/canister/X/query'],
    ['call', 'v4/canister/X/call'],
    ['call', 'v2/canister/X/call'],
    ['read_state', 'v3/canister/X/read_state'],
  ]) {
    it(`${endpoint}: 600 mutations answered with 2xx/4xx`, async () => {
      const r = rng(endpoint.length * 7919);
      const path = `/api/${endpoint.replace('X', principalToText(id))}`;
      const statuses = new Map<number, number>();
      for (let i = 0; i < 600; i++) {
        let body: Uint8Array;
        if (i % 10 === 0) body = crypto.getRandomValues(new Uint8Array(Math.floor(r() * 300)));
        else {
          body = encodeCbor(r() < 0.1 ? valid(kind, r) : mutate(valid(kind, r), r));
          if (i % 7 === 0) body = body.slice(0, Math.floor(r() * body.length));
        }
        const response = await api.handle('POST', path, 'application/cbor', body);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) throw new Error(`mutation ${i} got ${response.status}: ${String(response.body)}`);
        if (response.status >= 400) expect(String(response.body).length).toBeGreaterThan(10);
      }
      expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
      // The mix reached both the refusals and the happy path.
      expect([...statuses.keys()].some((s) => s === 200 || s === 202)).toBe(true);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    });
  }
});
