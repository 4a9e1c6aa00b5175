import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCanisterIds, recordCanisterIds } from './canister-ids.ts';

describe('canister_ids.json', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the site id deploy recorded when start records the demos', () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-'));
    const path = join(dir, 'state', 'canister_ids.json');
    // npm run deploy -- --network local: demos, then the site
    recordCanisterIds(path, 'local', { lab: 'rrkah-fqaaa-aaaaa-aaaaq-cai' });
    recordCanisterIds(path, 'local', { site: 'ryjl3-tyaaa-aaaaa-aaaba-cai' });
    // npm start: the demos only, one of them re-created under another id
    recordCanisterIds(path, 'local', { lab: 'r7inp-6aaaa-aaaaa-aaabq-cai' });
    expect(readCanisterIds(path, 'local')).toEqual({ lab: 'r7inp-6aaaa-aaaaa-aaabq-cai', site: 'ryjl3-tyaaa-aaaaa-aaaba-cai' });
    // no temporary file left behind
    expect(readdirSync(join(dir, 'state'))).toEqual(['canister_ids.json']);
  });

  it('keeps other networks and reads only the one asked for', () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-'));
    const path = join(dir, 'canister_ids.json');
    writeFileSync(path, JSON.stringify({ site: { ic: 'aaaaa-aa' } }));
    recordCanisterIds(path, 'local', { site: 'ryjl3-tyaaa-aaaaa-aaaba-cai' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ site: { ic: 'aaaaa-aa', local: 'ryjl3-tyaaa-aaaaa-aaaba-cai' } });
    expect(readCanisterIds(path, 'ic')).toEqual({ site: 'aaaaa-aa' });
    expect(readCanisterIds(join(dir, 'missing.json'), 'local')).toEqual({});
  });

  it('names the file when it is not JSON', () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-'));
    const path = join(dir, 'canister_ids.json');
    writeFileSync(path, '{ half');
    expect(() => readCanisterIds(path, 'local')).toThrow(/canister_ids\.json is not valid JSON/);
  });
});
