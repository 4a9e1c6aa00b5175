// The committed interfaces and bindings are what the sources produce: the site build and the
// demos import src/declarations without compiling Motoko, so a stale file would ship silently.
import { describe, expect, it } from 'vitest';
import { buildCanisters, StaleOutputError } from '../scripts/build-canisters.ts';
import { canisters } from './canisters.ts';

describe('canister build', () => {
  it('committed .did files and bindings match the Motoko sources', { timeout: 900_000 }, async () => {
    const lines: string[] = [];
    try {
      await buildCanisters({ check: true, log: (line) => lines.push(line) });
    } catch (error) {
      if (error instanceof StaleOutputError) expect.fail(error.message);
      throw error;
    }
    expect(lines).toHaveLength(canisters.length);
  });
});
