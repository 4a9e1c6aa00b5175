// The Node edge: node:http in front of HttpInterface. Reads bodies with a size limit, answers CORS
// preflights (browser pages on other origins call the replica), and never lets one bad request
// take the process down.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_REQUEST_BYTES } from './constants.ts';
import type { HttpInterface, HttpResponse } from './interface.ts';

export interface ReplicaServerOptions {
  httpInterface: HttpInterface;
  host?: string;
  port?: number;
  maxRequestBytes?: number;
  /** Requests outside /api/ (e.g. the HTTP gateway) go here; 404 when absent. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Told about every 4xx/5xx answer, so the replica's log says why a client was refused. */
  onRefusal?: (method: string, path: string, status: number, message: string) => void;
  /** GET /_/metrics answers this text (the Prometheus text format), beside dfx's other /_/ endpoints. */
  metrics?: () => string;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, HEAD, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Authorization',
  'access-control-max-age': '86400',
};

function send(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { ...CORS_HEADERS };
  let body: Buffer | undefined;
  if (response.body !== undefined) {
    body =
      typeof response.body === 'string'
        ? Buffer.from(response.body + '\n', 'utf8')
        : Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
    headers['content-type'] = response.contentType ?? 'application/octet-stream';
  }
  headers['content-length'] = body?.length ?? 0;
  res.writeHead(response.status, headers);
  res.end(body);
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve('too-large');
      req.resume(); // drain without storing
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export async function startServer(options: ReplicaServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const limit = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const api = options.httpInterface;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const path = req.url ?? '/';
      if (options.metrics && (path === '/_/metrics' || path.startsWith('/_/metrics?')) && (req.method === 'GET' || req.method === 'HEAD')) {
        return send(res, { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: options.metrics().replace(/\n$/, '') });
      }
      // Outside /api/ every request, preflights included, is the gateway's (a canister answers its own CORS).
      if (!path.startsWith('/api/') && options.fallback) return options.fallback(req, res);
      if (req.method === 'OPTIONS') return send(res, { status: 204 });
      const body = await readBody(req, limit);
      const response: HttpResponse =
        body === 'too-large'
          ? {
              status: 413,
              contentType: 'text/plain; charset=utf-8',
              body: `the request body is larger than the ingress limit of ${limit} bytes; upload large Wasm in chunks (upload_chunk + install_chunked_code)`,
            }
          : await api.handle(req.method ?? 'GET', path, req.headers['content-type'], body);
      if (response.status >= 400) options.onRefusal?.(req.method ?? 'GET', path, response.status, String(response.body ?? ''));
      send(res, response);
    } catch (error) {
      send(res, { status: 500, contentType: 'text/plain; charset=utf-8', body: `internal error: ${(error as Error).message}` });
    }
  };
  // handle() answers every failure itself (500), so its promise never rejects.
  const server = createServer((req, res) => void handle(req, res));
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nmalformed HTTP request\n');
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4943, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
