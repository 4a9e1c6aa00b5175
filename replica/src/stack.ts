// How much stack Wasm execution gets. The IC runs canister code with a Wasm stack of
// MAX_WASM_STACK_SIZE = 5 MiB (dfinity/ic rs/embedders/src/wasm_executor.rs). V8 runs Wasm on
// the thread's native stack and stops at its `--stack-size` limit, which Node sets to ~984 KiB:
// a Motoko canister with classic persistence then fails to upgrade once a stable linked list is
// about 3,400 elements deep, because pre_upgrade serializes it recursively. With the IC's 5 MiB
// plus 1 MiB for the host frames beneath the canister's, the same upgrade gets through about
// 29,000 elements (measured with replica/test/fixtures/motoko/deep.mo, see replica/README.md).

/** The IC's Wasm stack (MAX_WASM_STACK_SIZE). */
export const IC_WASM_STACK_BYTES = 5 * 1024 * 1024;

/** V8's stack limit that gives canister code the IC's headroom: 5 MiB plus 1 MiB for the host. */
export const NODE_STACK_SIZE_KIB = 6 * 1024;

/** The Node flag for it. A thread needs a native stack larger than this (Linux's main thread has 8 MiB). */
export const NODE_STACK_SIZE_FLAG = `--stack-size=${NODE_STACK_SIZE_KIB}`;

/**
 * The Node flag for the stacks V8 runs a suspendable Wasm call on. A message that may be paused
 * between rounds (deterministic time slicing, JSPI) runs on a secondary stack whose size is its
 * own V8 flag (984 KiB by default), not `--stack-size`: the same headroom for it.
 */
export const NODE_WASM_STACK_SWITCHING_FLAG = `--wasm-stack-switching-stack-size=${NODE_STACK_SIZE_KIB}`;

/** Both flags, for a Node process that runs canisters. */
export const NODE_STACK_FLAGS = [NODE_STACK_SIZE_FLAG, NODE_WASM_STACK_SWITCHING_FLAG];

/** For a Worker running the engine: `new Worker(url, { resourceLimits: { stackSizeMb } })`. */
export const WORKER_STACK_SIZE_MB = 8;
