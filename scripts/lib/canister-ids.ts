// The one place canister ids are recorded, in dfx's canister_ids.json format:
// { "<name>": { "<network>": "<id>" } }. `npm start` and `npm run deploy -- --network local` share
// .replica-state/canister_ids.json, each owning only some names (start: the demos; deploy: the
// demos and the site), so every write merges into what is there instead of replacing the file.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type CanisterIdsFile = Record<string, Record<string, string>>;

export function readCanisterIdsFile(path: string): CanisterIdsFile {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CanisterIdsFile;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); fix or delete it (its ids are then created anew)`);
  }
}

/** The ids recorded for one network, by canister name. */
export function readCanisterIds(path: string, network: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(readCanisterIdsFile(path)).flatMap(([name, byNetwork]) => (byNetwork?.[network] ? [[name, byNetwork[network]]] : [])),
  );
}

/**
 * Records `ids` for `network`, keeping every other name and network in the file. Written to a
 * temporary file and renamed over the old one, so a reader (or a crash) never sees half a file.
 */
export function recordCanisterIds(path: string, network: string, ids: Record<string, string>): void {
  const file = readCanisterIdsFile(path);
  for (const [name, id] of Object.entries(ids)) file[name] = { ...(file[name] ?? {}), [network]: id };
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(temporary, path);
}
