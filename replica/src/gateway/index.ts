// The HTTP gateway in front of the replica's canisters: `http://<id>.localhost:<port>/…` and
// `http://127.0.0.1:<port>/…?canisterId=<id>` serve the canister's certified `http_request`.
// The replica's HTTP server mounts `gatewayFallback(httpInterface)` as its `fallback` (every
// request outside /api/); see ../http/README.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpAgent } from '@dfinity/agent';
import type { HttpInterface } from '../http/interface.ts';
import { canisterAddress, canisterUrl, checkRequestTarget, type CanisterAddress } from './canister-id.ts';
import { GatewayError } from './errors.ts';
import { HttpGateway, type GatewayOptions, type GatewayResponse } from './gateway.ts';

export { HttpGateway, type GatewayOptions, type GatewayRequest, type GatewayResponse } from './gateway.ts';
export { GatewayError, type GatewayErrorCode } from './errors.ts';
export { canisterAddress, canisterUrl, checkRequestTarget, type CanisterAddress } from './canister-id.ts';

const MAX_REQUEST_BODY = 2 * 1024 * 1024;
// Never forwarded to the browser: Node sets these for the body it actually sends.
const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * An agent whose requests go straight to the replica's HttpInterface in this process, through the
 * same query/call/read_state code a remote agent reaches over HTTP.
 */
export function inProcessAgent(httpInterface: HttpInterface): HttpAgent {
  const fetchInProcess = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const raw = init?.body;
    const body = raw instanceof Uint8Array ? raw : raw instanceof ArrayBuffer ? new Uint8Array(raw) : new Uint8Array();
    const contentType = new Headers(init?.headers).get('content-type') ?? undefined;
    const answer = await httpInterface.handle(init?.method ?? 'GET', url.pathname, contentType, body);
    const payload = answer.body === undefined ? null : typeof answer.body === 'string' ? answer.body : new Uint8Array(answer.body);
    return new Response(answer.status === 204 ? null : payload, {
      status: answer.status,
      headers: answer.contentType ? { 'content-type': answer.contentType } : {},
    });
  };
  return HttpAgent.createSync({
    host: 'http://replica.in-process',
    fetch: fetchInProcess as typeof fetch,
    rootKey: httpInterface.keys.rootKeyDer,
    // The gateway checks the certification of what it serves; node signatures on queries that
    // never left this process add nothing.
    verifyQuerySignatures: false,
    retryTimes: 0,
  });
}

export interface GatewayHandlerOptions extends GatewayOptions {
  /** Called after each request (for the replica's log). */
  onRequest?: (entry: { canisterId: string; method: string; url: string; status: number; ms: number; calls: number; error?: string }) => void;
}

export interface GatewayHandler {
  gateway: HttpGateway;
  /** The canister a request addresses, if any. */
  address(req: IncomingMessage): CanisterAddress | undefined;
  /** Serves one request; never throws. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Uint8Array | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_REQUEST_BODY ? 'too-large' : new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function sendText(res: ServerResponse, status: number, text: string, code?: string): void {
  if (res.headersSent) return void res.end();
  const body = Buffer.from(`${text}\n`, 'utf8');
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...(code ? { 'x-gateway-error': code } : {}) });
  res.end(body);
}

export function createGatewayHandler(options: GatewayHandlerOptions): GatewayHandler {
  const gateway = new HttpGateway(options);
  const address = (req: IncomingMessage) => canisterAddress({ host: req.headers.host, referer: req.headers.referer }, req.url ?? '/');
  return {
    gateway,
    address,
    async handle(req, res) {
      const started = performance.now();
      let target: CanisterAddress | undefined;
      try {
        target = address(req);
        checkRequestTarget(req.url ?? '/');
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        options.onRequest?.({
          canisterId: target?.canisterId ?? '-',
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          status: error.status,
          ms: performance.now() - started,
          calls: 0,
          error: error.code,
        });
        req.resume();
        return sendText(res, error.status, error.message, error.code);
      }
      if (!target) {
        return sendText(
          res,
          400,
          "This is the replica's HTTP gateway. Name a canister: http://<canister-id>.localhost:<port>/ or http://127.0.0.1:<port>/?canisterId=<canister-id>",
          'ERR_NO_CANISTER',
        );
      }
      let status = 500;
      let calls = 0;
      let errorCode: string | undefined;
      try {
        const body = await readBody(req);
        if (body === 'too-large') {
          status = 413;
          return sendText(res, 413, `the request body is larger than the gateway's limit of ${MAX_REQUEST_BODY} bytes`);
        }
        const headers: [string, string][] = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
        const url = canisterUrl(req.url ?? '/');
        const response: GatewayResponse = await gateway.fetch(target.canisterId, { method: req.method ?? 'GET', url, headers, body });
        status = response.status;
        calls = response.canisterCalls;
        const out: [string, string][] = response.headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
        out.push(['content-length', String(response.body.length)]);
        res.writeHead(response.status, out.flat());
        res.end(req.method === 'HEAD' ? undefined : response.body);
      } catch (error) {
        if (error instanceof GatewayError) {
          status = error.status;
          errorCode = error.code;
          return sendText(res, error.status, error.message, error.code);
        }
        errorCode = 'internal';
        return sendText(res, 500, `the gateway failed: ${(error as Error).message}`);
      } finally {
        options.onRequest?.({
          canisterId: target.canisterId,
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          status,
          ms: performance.now() - started,
          calls,
          error: errorCode,
        });
      }
    },
  };
}

/**
 * What the replica's HTTP server mounts as `fallback`: a gateway over its own HttpInterface,
 * verifying against its root key at the replica's time.
 * @example
 * await startServer({ httpInterface, port: 4943, fallback: gatewayFallback(httpInterface) });
 */
export function gatewayFallback(
  httpInterface: HttpInterface,
  options: Partial<GatewayHandlerOptions> = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const handler = createGatewayHandler({
    agent: inProcessAgent(httpInterface),
    rootKey: httpInterface.keys.rootKeyDer,
    now: () => httpInterface.engine.time(),
    ...options,
  });
  return (req, res) => void handler.handle(req, res);
}
