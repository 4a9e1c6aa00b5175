// The subnet's secret keys on disk (<state-dir>/keys.json), so a restart serves the same root key
// and clients that cached it keep verifying. Written atomically (temp file + rename), mode 0600.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../ic/bytes.ts';
import { randomSecret, subnetKeys, type SubnetKeys } from '../certification/keys.ts';

const FILE = 'keys.json';

export function loadOrCreateKeys(stateDir: string | undefined): SubnetKeys {
  if (!stateDir) return subnetKeys();
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, FILE);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    let stored: { rootSecretKey?: string; nodeSecretKey?: string };
    try {
      stored = JSON.parse(text);
    } catch {
      throw new Error(`${path} is not valid JSON; restore it from a backup or delete the state directory to start fresh`);
    }
    if (!stored.rootSecretKey || !stored.nodeSecretKey) throw new Error(`${path} lacks rootSecretKey or nodeSecretKey`);
    return subnetKeys(fromHex(stored.rootSecretKey), fromHex(stored.nodeSecretKey));
  }
  const keys = subnetKeys(randomSecret(), randomSecret());
  const temp = `${path}.tmp`;
  writeFileSync(temp, JSON.stringify({ rootSecretKey: toHex(keys.rootSecretKey), nodeSecretKey: toHex(keys.nodeSecretKey) }, null, 2) + '\n', { mode: 0o600 });
  renameSync(temp, path);
  return keys;
}
