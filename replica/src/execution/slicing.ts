// Deterministic time slicing, the execution side (the IC: rs/embedders wasmtime_embedder's
// out_of_instructions handler and rs/execution_environment's paused executions). An instrumented
// module calls entry 0 of its `__ic_out_of_instructions` table when its instruction counter goes
// negative (metering/instrument.ts). For a message that may be sliced the host puts there a
// function that suspends the running Wasm with JavaScript-Promise Integration
// (`WebAssembly.Suspending` / `WebAssembly.promising`): the message's stack stays as it is, the
// event loop goes on serving queries and other canisters, and a later round resumes it with the
// next slice's instructions in the counter. Where JSPI is missing, messages run in one go.

/** Whether this JavaScript engine can suspend Wasm (JSPI). */
export const canSuspendWasm: boolean =
  typeof (WebAssembly as { Suspending?: unknown }).Suspending === 'function' && typeof (WebAssembly as { promising?: unknown }).promising === 'function';

interface Jspi {
  Suspending: new (fn: () => unknown) => object;
  promising: <F extends (...args: never[]) => unknown>(fn: F) => (...args: Parameters<F>) => Promise<unknown>;
}
const jspi = WebAssembly as unknown as Jspi;

// (module (import "h" "f" (func)) (export "f" (func 0))): turns a host import into a Wasm
// function that can sit in another module's table (a Suspending import only works as an import).
const TRAMPOLINE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, 0x07, 0x01, 0x01, 0x68, 0x01, 0x66, 0x00, 0x00, 0x07, 0x05, 0x01,
  0x01, 0x66, 0x00, 0x00,
]);
let trampolineModule: WebAssembly.Module | undefined;

/** A Wasm function `() -> ()` that calls `handler` and suspends the calling Wasm while the promise it returns is pending. */
export function suspendingFunction(handler: () => Promise<void>): WebAssembly.ExportValue {
  trampolineModule ??= new WebAssembly.Module(TRAMPOLINE);
  const instance = new WebAssembly.Instance(trampolineModule, { h: { f: new jspi.Suspending(handler) } } as unknown as WebAssembly.Imports);
  return instance.exports.f;
}

/**
 * What a paused execution's pending slice rejects with when the scheduler aborts it (the IC
 * aborts paused executions beyond its cap at the end of a round): the suspended Wasm unwinds,
 * its changes are rolled back and the message runs again from the start later.
 */
export class ExecutionAborted extends Error {
  constructor() {
    super('execution aborted');
    this.name = 'ExecutionAborted';
  }
}

/** Calls a Wasm export so that it may suspend: a promise for its end (its result, or its trap as a rejection). */
export function callPromising(fn: WebAssembly.ExportValue, args: unknown[]): Promise<unknown> {
  return jspi.promising(fn as (...args: never[]) => unknown)(...(args as never[]));
}
