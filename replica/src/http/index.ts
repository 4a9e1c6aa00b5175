// The package's `@scaling-wg/replica/http` entry: the IC's HTTP interface without a transport, as
// the site's page worker runs it in a browser over the engine (`schedulerEngine`). Portable: the
// Node server and node:crypto are reached through `@scaling-wg/replica/network` instead.
export { HttpInterface, type HttpInterfaceOptions, type HttpResponse, type CallLogEntry } from './interface.ts';
export { schedulerEngine } from './engine-adapter.ts';
export type { EnginePort } from './engine-port.ts';
export { portableCrypto, type HttpCrypto, type SignatureVerifiers } from './crypto.ts';
export { verifySignature, AuthenticationError } from './authentication.ts';
