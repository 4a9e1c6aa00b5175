// dfx.json deploys what the tests test: every demo canister is `type: custom`, built by the
// project's one Motoko build (npm run build:canisters, the pinned motoko compiler and core library)
// into the Wasm and .did that icp.yaml hands icp-cli, and the file conforms to dfx's published
// JSON Schema (scripts/schemas/dfx-json-schema.json, vendored; see scripts/schemas/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { deployedCanisters } from '../../canisters/canisters.ts';
import { validate } from '../../scripts/lib/json-schema.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const dfx = JSON.parse(read('dfx.json'));
const schema = JSON.parse(read('scripts/schemas/dfx-json-schema.json'));

describe('dfx.json', () => {
  test("conforms to dfx's JSON Schema", () => {
    expect(validate(schema, dfx)).toEqual([]);
  });

  test('the validator is not a rubber stamp', () => {
    const motoko = { ...dfx, canisters: { x: { type: 'motoko', main: 7 } } };
    expect(validate(schema, motoko)).toEqual([expect.stringContaining('$.canisters.x')]);
    const custom = { canisters: { x: { type: 'custom', build: 'b' } } };
    expect(validate(schema, custom).join('\n')).toMatch(/lacks required "wasm"|matches 0 of oneOf/);
    expect(() => validate({ type: 'object', if: {} }, {})).toThrow(/does not implement/);
  });

  test('every demo canister is built by the project build, as icp.yaml builds it', () => {
    const icp = read('icp.yaml');
    const names = deployedCanisters.map((c) => c.name).sort();
    expect(
      Object.keys(dfx.canisters)
        .filter((n) => n !== 'site')
        .sort(),
    ).toEqual(names);
    for (const name of names) {
      const entry = dfx.canisters[name];
      expect(entry.type, name).toBe('custom');
      const build = `npm run --silent build:canisters -- --only ${name}`;
      expect(entry.build, name).toEqual([build]);
      expect(entry.wasm, name).toBe(`.cache/canisters/${name}.wasm`);
      expect(entry.candid, name).toBe(`canisters/${name}/${name}.did`);
      expect(existsSync(new URL(`../../${entry.candid}`, import.meta.url)), entry.candid).toBe(true);
      // icp.yaml runs the same build and takes the same module.
      expect(icp, name).toContain(`- ${build}\n            - cp ${entry.wasm} "$ICP_WASM_OUTPUT_PATH"`);
    }
  });
});
