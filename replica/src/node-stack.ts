// Node only: gives this process the IC's Wasm stack headroom (stack.ts) by replacing it with
// the same command run under `--stack-size` (and the same size for JSPI's secondary stacks), keeping its process id (process.execve, Node 23.11+),
// so whoever started it (npm run replica, a test, a deploy) still holds the right process.
// Imported first by the command-line entry points, before they print or open anything.
import { NODE_STACK_FLAGS } from './stack.ts';

const hasStackSize = process.execArgv.some((a) => a.startsWith('--stack-size'));
if (!hasStackSize && process.env.WG_REPLICA_DEFAULT_STACK === undefined && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...NODE_STACK_FLAGS, ...process.execArgv, ...process.argv.slice(1)], process.env);
}
