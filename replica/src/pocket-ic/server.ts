// PocketIC's REST API (dfinity/ic rs/pocket_ic_server/src/state_api/routes.rs and main.rs, JSON
// types in packages/pocket-ic/src/common/rest.rs; read 2026-12-04) served from our replica, so
// that PicJS, the Python `pocket-ic` package and the Rust client run unchanged against it.
//
// Where we answer differently from PocketIC, on purpose:
// - Every operation completes in the request that asked for it: we never answer 202 "Started"
//   or 409 "Busy", so clients never poll `/read_graph` (they still may; it says "not found").
// - Unknown paths get 404 with a JSON `{"message"}` naming the path (PocketIC: empty body), and
//   malformed JSON gets 400 with the same body shape (axum: plain text), so every client shows why.
// - Features we do not have (ICP features, HTTPS outcalls, subnet state from a path, …) are
//   refused with 400 naming the feature, instead of being ignored.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { SubnetKind, SubnetSpec } from '../topology/topology.ts';
import type { PocketIcInstance, CallResult } from './instance.ts';
import { dashboardHtml, handleUnderscore, topologyJson } from './underscore.ts';
import { toHex } from '../ic/bytes.ts';
import {
  ApiError,
  b64,
  badRequest,
  bytesField,
  effectivePrincipal,
  effectivePrincipalJson,
  natField,
  object,
  parseJson,
  principalField,
  stringField,
  toJson,
  unsupported,
} from './wire.ts';
import type { LogSink } from '../log.ts';

/** Largest request body (PocketIC sets no limit: `DefaultBodyLimit::disable()`); ours bounds memory. */
const MAX_BODY_BYTES = 512 * 1024 * 1024;

export interface PocketIcServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Seconds without any request after which the server stops (PocketIC's --ttl, default 60). */
  ttlSeconds?: number;
  /** Called once the server stopped on its own (TTL). */
  onIdleStop?: () => void;
  /** Canister logs (debug_print, traps) of every instance; PocketIC prints them on stderr. */
  onCanisterLog?: LogSink;
  /** One line per request, for `--log-levels` with debug. */
  onRequest?: (line: string) => void;
}

interface Blob {
  data: Uint8Array;
  gzip: boolean;
}

interface Gateway {
  id: number;
  port: number;
  instanceId: number;
  close(): Promise<void>;
}

type Json = unknown;
type Handler = (req: RequestInfo) => Promise<Reply> | Reply;
interface RequestInfo {
  method: string;
  params: string[];
  body: Uint8Array;
  headers: IncomingMessage['headers'];
  json(): Json;
}
interface Reply {
  status?: number;
  json?: Json;
  text?: string;
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

const ok = (json: Json): Reply => ({ status: 200, json });

export class PocketIcServer {
  readonly instances: (PocketIcInstance | undefined)[] = [];
  readonly #blobs = new Map<string, Blob>();
  readonly #gateways = new Map<number, Gateway>();
  #nextGateway = 0;
  #server?: Server;
  #host = '127.0.0.1';
  #lastRequest = Date.now();
  #pending = 0;
  #ttlTimer?: ReturnType<typeof setInterval>;
  #options: PocketIcServerOptions;
  #routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  #stopping?: Promise<void>;
  port = 0;

  constructor(options: PocketIcServerOptions = {}) {
    this.#options = options;
    this.#defineRoutes();
  }

  get url(): string {
    return `http://${this.#host}:${this.port}`;
  }

  async listen(): Promise<void> {
    this.#host = this.#options.host ?? '127.0.0.1';
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(this.#options.port ?? 0, this.#host, () => {
        this.#server!.off('error', reject);
        resolve();
      });
    });
    this.port = (this.#server.address() as AddressInfo).port;
    // The engine loads while the client reads the port file: the first instance comes sooner.
    void import('./instance.ts');
    const ttl = this.#options.ttlSeconds;
    if (ttl !== undefined) {
      this.#ttlTimer = setInterval(() => {
        if (this.#pending === 0 && Date.now() - this.#lastRequest > ttl * 1000) {
          void this.stop().then(() => this.#options.onIdleStop?.());
        }
      }, 1000);
      this.#ttlTimer.unref();
    }
  }

  /** Stops HTTP gateways, deletes every instance (saving those with a state_dir) and closes the port. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#ttlTimer) clearInterval(this.#ttlTimer);
      await Promise.all([...this.#gateways.values()].map((g) => g.close()));
      this.#gateways.clear();
      await Promise.all(this.instances.map((i) => i?.delete()));
      await new Promise<void>((resolve) => {
        if (!this.#server) return resolve();
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
    })();
    return this.#stopping;
  }

  // ------------------------------------------------------------------------------ plumbing

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#pending++;
    const started = performance.now();
    let reply: Reply;
    try {
      reply = await this.#dispatch(req);
    } catch (error) {
      reply =
        error instanceof ApiError
          ? { status: error.status, json: { message: error.message } }
          : { status: 500, json: { message: `internal error of the PocketIC-compatible server: ${(error as Error).message}` } };
    }
    this.#lastRequest = Date.now();
    this.#pending--;
    this.#options.onRequest?.(`${req.method} ${req.url} -> ${reply.status ?? 200} ${(performance.now() - started).toFixed(1)} ms`);
    if (res.headersSent || res.destroyed) return;
    let body: Buffer;
    const headers: Record<string, string | number> = { ...reply.headers };
    if (reply.bytes) {
      body = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
      headers['content-type'] ??= 'application/octet-stream';
    } else if (reply.text !== undefined) {
      body = Buffer.from(reply.text);
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else if (reply.json !== undefined) {
      body = Buffer.from(toJson(reply.json));
      headers['content-type'] = 'application/json';
    } else body = Buffer.alloc(0);
    headers['content-length'] = body.length;
    res.writeHead(reply.status ?? 200, headers);
    res.end(body);
  }

  async #dispatch(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://pocket-ic');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    // The IC's HTTP interface of an instance, for agents: /instances/<id>/api/v2|v3|v4/…
    const api = /^\/instances\/(\d+)\/(api\/.*)$/.exec(url.pathname);
    if (api) {
      const instance = this.#instance(api[1]);
      const body = await readBody(req);
      const answer = await (await instance.httpInterface()).handle(method, `/${api[2]}`, req.headers['content-type'], body);
      const bytes = answer.body === undefined ? undefined : typeof answer.body === 'string' ? new TextEncoder().encode(answer.body + '\n') : answer.body;
      return { status: answer.status, bytes: bytes ?? new Uint8Array(), headers: answer.contentType ? { 'content-type': answer.contentType } : {} };
    }
    let methodMismatch = false;
    for (const route of this.#routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      const body = await readBody(req);
      let parsed: { value: Json } | undefined;
      return route.handler({
        method,
        params: match.slice(1),
        body,
        headers: req.headers,
        json: () => (parsed ??= { value: parseJson(body) }).value,
      });
    }
    if (methodMismatch) throw new ApiError(405, `${path} does not answer ${method}`);
    throw new ApiError(404, `No such endpoint: ${method} ${path} (this server implements the PocketIC REST API that PicJS 0.23 uses; see replica/README.md)`);
  }

  #instance(idText: string): PocketIcInstance {
    const id = Number(idText);
    const instance = Number.isSafeInteger(id) ? this.instances[id] : undefined;
    if (!instance) {
      throw new ApiError(404, id < this.instances.length ? `Instance with ID ${idText} was deleted.` : `Instance with ID ${idText} not found.`);
    }
    return instance;
  }

  #route(method: string, path: string, handler: Handler): void {
    // `:id` segments: digits; other `:name` segments: anything but a slash.
    const pattern = new RegExp(`^${path.replace(/:id\b/g, '(\\d+)').replace(/:[a-z_]+/g, '([^/]+)')}$`);
    this.#routes.push({ method, pattern, handler });
  }

  /** An instance route: `fn` gets the instance and the parsed JSON body. */
  #on(method: string, path: string, fn: (instance: PocketIcInstance, body: Json, req: RequestInfo) => Promise<Reply> | Reply): void {
    this.#route(method, `/instances/:id${path}`, (req) => {
      const instance = this.#instance(req.params[0]);
      return fn(instance, method === 'POST' ? req.json() : undefined, req);
    });
  }

  // ------------------------------------------------------------------------------ routes

  #defineRoutes(): void {
    this.#route('GET', '/status', () => ({ status: 200 }));
    this.#route('GET', '/instances', () => ok(this.instances.map((i) => (i ? 'Available' : 'Deleted'))));
    // An empty body (the first clients sent none) asks for the default: one application subnet.
    this.#route('POST', '/instances', (req) => this.#createInstance(req.body.length === 0 ? { subnet_config_set: { application: [{}] } } : req.json()));
    this.#route('DELETE', '/instances/:id', async (req) => {
      const instance = this.#instance(req.params[0]);
      this.instances[instance.id] = undefined;
      for (const g of [...this.#gateways.values()].filter((g) => g.instanceId === instance.id)) await this.#stopGateway(g.id);
      await instance.delete();
      return { status: 200 };
    });

    // Blobs (main.rs `set_blob_store_entry` / `get_blob_store_entry`): the id is the SHA-256 of the bytes, in hex.
    this.#route('POST', '/blobstore', (req) => {
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'gzip') return { status: 400, text: "Bad encoding: Only 'gzip' content encoding is supported" };
      const id = createHash('sha256').update(req.body).digest('hex');
      this.#blobs.set(id, { data: req.body, gzip: encoding === 'gzip' });
      return { status: 200, text: id };
    });
    this.#route('GET', '/blobstore/:blob', (req): Reply => {
      if (!/^([0-9a-f]{2})*$/i.test(req.params[0])) return { status: 400 };
      const blob = this.#blobs.get(req.params[0].toLowerCase());
      if (!blob) return { status: 404 };
      const headers: Record<string, string> = blob.gzip ? { 'content-encoding': 'gzip' } : {};
      return { status: 200, bytes: blob.data, headers };
    });
    this.#route('POST', '/verify_signature', async (req) => {
      const o = object(req.json(), 'body');
      const { verifyCanisterSignature } = await import('./canister-signature.ts');
      const result = verifyCanisterSignature(bytesField(o, 'msg'), bytesField(o, 'sig'), bytesField(o, 'pubkey'), bytesField(o, 'root_pubkey'));
      return { status: result.status, json: result.body };
    });
    this.#route('GET', '/read_graph/:label/:op', (req) => ({
      status: 404,
      json: {
        message: `state_label / op_id not found: ${req.params[0]} / ${req.params[1]} (this server completes every operation in its own request and never answers "Started")`,
      },
    }));
    this.#route('DELETE', '/prune_graph/:label/:op', () => ({ status: 200 }));
    this.#route('GET', '/api.json', () =>
      ok({
        openapi: '3.0.0',
        info: {
          title: 'PocketIC-compatible server API (subset)',
          version: '0.1.0',
          description: 'See replica/README.md for the endpoints this server implements.',
        },
        paths: {},
      }),
    );

    // ---------------------------------------------------------------- instance: read
    this.#on('GET', '/_/topology', (i) => ok(topologyJson(i.underscore)));
    this.#on('GET', '/read/topology', (i) => ok(topologyJson(i.underscore)));
    this.#on('GET', '/_/dashboard', (i) => ({ status: 200, text: dashboardHtml(i.underscore), headers: { 'content-type': 'text/html; charset=utf-8' } }));
    this.#on('GET', '/read/get_time', (i) => ok({ nanos_since_epoch: i.timeNanos }));
    this.#on('POST', '/read/get_cycles', (i, body) => ok({ cycles: i.canister(principalField(object(body, 'body'), 'canister_id')).balance }));
    this.#on('POST', '/read/get_controllers', (i, body) =>
      ok(i.canister(principalField(object(body, 'body'), 'canister_id')).settings.controllers.map((p) => ({ principal_id: b64(p.toUint8Array()) }))),
    );
    this.#on('POST', '/read/get_stable_memory', async (i, body) => {
      const id = principalField(object(body, 'body'), 'canister_id');
      i.canister(id);
      return ok({ blob: b64(await i.replica.getStableMemory(id)) });
    });
    this.#on('POST', '/read/get_subnet', (i, body) => {
      const id = principalField(object(body, 'body'), 'canister_id');
      // Only for canisters that exist (PocketIC 2.0.1).
      const subnet = i.replica.scheduler.canister(id) ? i.topology.subnetOf(id) : undefined;
      return ok(subnet ? { subnet_id: b64(subnet.id.toUint8Array()) } : null);
    });
    this.#on('POST', '/read/pub_key', (i, body) => {
      const subnetId = principalField(object(body, 'body'), 'subnet_id');
      if (!i.topology.subnetById(subnetId)) throw badRequest(`SubnetNotFound(${subnetId.toText()})`);
      // One key signs for every subnet of an instance (instance.ts), so every subnet answers the root key.
      return ok([...i.keys.rootKeyDer]);
    });
    this.#on('POST', '/read/query', (i, body) => {
      const call = canisterCall(body);
      return ok(resultJson(i.query(call.sender, call.canisterId, call.method, call.payload, call.effective)));
    });
    this.#on('POST', '/read/ingress_status', (i, body) => {
      const o = object(body, 'body');
      const raw = object(o.raw_message_id, 'raw_message_id');
      const caller = o.raw_caller === undefined || o.raw_caller === null ? undefined : principalField(object(o.raw_caller, 'raw_caller'), 'principal_id');
      const result = i.ingressStatus(bytesField(raw, 'message_id'), caller);
      return ok(result ? resultJson(result) : null);
    });
    this.#on('GET', '/read/get_canister_http', () => ok([])); // the replica makes no HTTPS outcalls: none is ever pending
    this.#on('POST', '/update/mock_canister_http', (_i, body) => {
      const o = object(body, 'body');
      throw badRequest(
        `InvalidCanisterHttpRequestId((${String(o.request_id)})): no HTTPS outcall is pending; the replica does not implement the management canister's http_request, so canisters cannot make outcalls here`,
      );
    });

    // ---------------------------------------------------------------- instance: update
    this.#on('POST', '/update/submit_ingress_message', async (i, body) => {
      const call = canisterCall(body);
      const submitted = await i.submit(call.sender, call.canisterId, call.method, call.payload, call.effective);
      if ('err' in submitted) return ok({ Err: submitted.err });
      return ok({ Ok: { effective_principal: effectivePrincipalJson({ kind: 'subnet', id: submitted.subnet.id }), message_id: b64(submitted.messageId) } });
    });
    this.#on('POST', '/update/await_ingress_message', async (i, body) => {
      const o = object(body, 'body');
      effectivePrincipal(o.effective_principal);
      return ok(resultJson(await i.awaitMessage(bytesField(o, 'message_id'))));
    });
    // Removed from PocketIC in 8.0.0; older Python and Rust clients still call it.
    this.#on('POST', '/update/execute_ingress_message', async (i, body) => {
      const call = canisterCall(body);
      const submitted = await i.submit(call.sender, call.canisterId, call.method, call.payload, call.effective);
      if ('err' in submitted) return ok({ Err: submitted.err });
      return ok(resultJson(await i.awaitMessage(submitted.messageId)));
    });
    this.#on('POST', '/update/set_time', async (i, body) => {
      await i.setTime(natField(object(body, 'body'), 'nanos_since_epoch'));
      return ok(null);
    });
    // One time for execution and certification here: setting either sets both.
    this.#on('POST', '/update/set_certified_time', async (i, body) => {
      await i.setTime(natField(object(body, 'body'), 'nanos_since_epoch'));
      return ok(null);
    });
    this.#on('POST', '/update/tick', async (i, body) => {
      if (body !== null && body !== undefined) {
        const o = object(body, 'body');
        if (Array.isArray(o.blockmakers) && o.blockmakers.length > 0) throw unsupported('Tick configs with blockmakers (node_metrics_history)');
      }
      await i.tick();
      return ok(null);
    });
    this.#on('POST', '/update/add_cycles', (i, body) => {
      const o = object(body, 'body');
      const canister = i.canister(principalField(o, 'canister_id'));
      canister.balance += natField(o, 'amount');
      return ok({ cycles: canister.balance });
    });
    this.#on('POST', '/update/set_stable_memory', async (i, body) => {
      const o = object(body, 'body');
      const id = principalField(o, 'canister_id');
      i.canister(id);
      const blobId = toHex(bytesField(o, 'blob_id'));
      const blob = this.#blobs.get(blobId);
      if (!blob) throw badRequest(`BlobNotFound(${blobId}): upload the bytes to /blobstore first`);
      await i.replica.setStableMemory(id, blob.gzip ? new Uint8Array(gunzipSync(blob.data)) : blob.data);
      return ok(null);
    });
    this.#on('POST', '/auto_progress', (i, body) => {
      const o = body === null || body === undefined ? {} : object(body, 'body');
      const delay = o.artificial_delay_ms === undefined || o.artificial_delay_ms === null ? 0 : Number(natField(o, 'artificial_delay_ms'));
      i.startAutoProgress(delay);
      return ok(null);
    });
    this.#on('GET', '/auto_progress', (i) => ok(i.autoProgress));
    this.#on('POST', '/stop_progress', (i) => {
      i.stopAutoProgress();
      return ok(null);
    });

    // ---------------------------------------------------------------- HTTP gateways
    this.#route('GET', '/http_gateway', () =>
      ok(
        [...this.#gateways.values()].map((g) => ({
          instance_id: g.id,
          port: g.port,
          forward_to: { PocketIcInstance: g.instanceId },
          domains: null,
          https_config: null,
        })),
      ),
    );
    this.#route('POST', '/http_gateway', async (req) => {
      const o = object(req.json(), 'body');
      try {
        const info = await this.#startGateway(o);
        return { status: 201, json: { Created: info } };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return { status: error.status, json: { Error: { message: error.message } } };
      }
    });
    this.#route('POST', '/http_gateway/:id/stop', async (req) => {
      await this.#stopGateway(Number(req.params[0]));
      return ok(null);
    });
  }

  // ------------------------------------------------------------------------------ instances

  async #createInstance(body: Json): Promise<Reply> {
    try {
      const config = instanceConfig(object(body, 'body'));
      const id = this.instances.length;
      this.instances.push(undefined);
      const { PocketIcInstance } = await import('./instance.ts');
      const instance = await PocketIcInstance.create({
        id,
        subnets: config.subnets,
        timeNanos: config.timeNanos,
        stateDir: config.stateDir,
        onLog: this.#options.onCanisterLog,
      });
      this.instances[id] = instance;
      if (config.autoProgress !== undefined) instance.startAutoProgress(config.autoProgress);
      let http_gateway_info: unknown = null;
      if (config.gateway) http_gateway_info = await this.#startGateway({ ...config.gateway, forward_to: { PocketIcInstance: id } });
      return {
        status: 201,
        json: {
          Created: {
            instance_id: id,
            topology: topologyJson(instance.underscore),
            http_gateway_info,
          },
        },
      };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return { status: error.status, json: { Error: { message: error.message } } };
    }
  }

  async #startGateway(o: Record<string, unknown>): Promise<{ instance_id: number; port: number }> {
    const forward = object(o.forward_to, 'forward_to');
    if ('Replica' in forward) throw unsupported('An HTTP gateway forwarding to a replica URL (forward_to.Replica)', 'forward to a PocketIcInstance');
    if (!('PocketIcInstance' in forward)) throw badRequest('forward_to must be {"PocketIcInstance": <instance id>}');
    if (o.https_config !== undefined && o.https_config !== null) throw unsupported('HTTPS for the HTTP gateway (https_config)');
    const instance = this.#instance(String(forward.PocketIcInstance));
    const port = o.port === undefined || o.port === null ? 0 : Number(o.port);
    const host = typeof o.ip_addr === 'string' ? o.ip_addr : '127.0.0.1';
    // Loaded on first use: the gateway and the Node HTTP front end are heavy and most suites never start one.
    const [{ startServer }, { gatewayFallback }] = await Promise.all([import('../http/server.ts'), import('../gateway/index.ts')]);
    const http = await instance.httpInterface();
    const gateway = gatewayFallback(http);
    const underscore = instance.underscore;
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        httpInterface: http,
        host,
        port,
        fallback: (req, res) => void (handleUnderscore(underscore, req, res) || gateway(req, res)),
      });
    } catch (error) {
      throw new ApiError(502, `cannot start the HTTP gateway on ${host}:${port}: ${(error as Error).message}`);
    }
    const id = this.#nextGateway++;
    const actualPort = Number(new URL(server.url).port);
    this.#gateways.set(id, { id, port: actualPort, instanceId: instance.id, close: () => server.close() });
    return { instance_id: id, port: actualPort };
  }

  async #stopGateway(id: number): Promise<void> {
    const g = this.#gateways.get(id);
    if (!g) return;
    this.#gateways.delete(id);
    await g.close();
  }
}

// ------------------------------------------------------------------------------ request types

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** `RawCanisterCall`. */
function canisterCall(body: Json) {
  const o = object(body, 'body');
  return {
    sender: principalField(o, 'sender'),
    canisterId: principalField(o, 'canister_id'),
    method: stringField(o, 'method'),
    payload: bytesField(o, 'payload'),
    effective: effectivePrincipal(o.effective_principal),
  };
}

/** `RawCanisterResult`: {"Ok": base64} | {"Err": RejectResponse}. */
function resultJson(result: CallResult): Json {
  return 'ok' in result ? { Ok: b64(result.ok) } : { Err: result.err };
}

const NAMED: [string, SubnetKind][] = [
  ['nns', 'NNS'],
  ['sns', 'SNS'],
  ['ii', 'II'],
  ['fiduciary', 'Fiduciary'],
  ['bitcoin', 'Bitcoin'],
];
const LISTS: [string, SubnetKind][] = [
  ['system', 'System'],
  ['application', 'Application'],
  ['verified_application', 'VerifiedApplication'],
];
const FEATURES = [
  'registry',
  'cycles_minting',
  'icp_token',
  'cycles_token',
  'nns_governance',
  'sns',
  'ii',
  'nns_ui',
  'bitcoin',
  'dogecoin',
  'canister_migration',
];

/** `InstanceConfig` → our subnets, refusing (by name) what we cannot do. */
function instanceConfig(o: Record<string, unknown>) {
  const set = object(o.subnet_config_set, 'subnet_config_set');
  const subnets: SubnetSpec[] = [];
  const spec = (value: unknown, kind: SubnetKind, where: string): SubnetSpec => {
    const s = object(value, where);
    const state = s.state_config ?? 'New';
    if (state !== 'New') {
      const variant = typeof state === 'object' && state ? Object.keys(state)[0] : String(state);
      throw unsupported(
        `SubnetStateConfig::${variant} (${where}: loading a subnet's state from ${variant === 'FromPath' ? 'a directory' : 'the blob store'})`,
        'pass the instance-wide `state_dir` to keep state across instances',
      );
    }
    const instructions = s.instruction_config ?? 'Production';
    if (instructions !== 'Production' && instructions !== 'Benchmarking') {
      throw badRequest(`${where}.instruction_config must be "Production" or "Benchmarking", got ${JSON.stringify(instructions)}`);
    }
    if (s.subnet_id !== undefined && s.subnet_id !== null) throw unsupported(`A specified subnet_id (${where})`);
    const cost = s.cost_schedule;
    if (cost !== undefined && cost !== null && cost !== 'Normal' && cost !== 'Free')
      throw badRequest(`${where}.cost_schedule must be "Normal" or "Free", got ${JSON.stringify(cost)}`);
    return { kind, ...(cost === 'Free' ? { costSchedule: 'Free' as const } : {}), ...(instructions === 'Benchmarking' ? { benchmarking: true } : {}) };
  };
  for (const [field, kind] of NAMED) {
    if (set[field] !== undefined && set[field] !== null) subnets.push(spec(set[field], kind, `subnet_config_set.${field}`));
  }
  for (const [field, kind] of LISTS) {
    const list = set[field] ?? [];
    if (!Array.isArray(list)) throw badRequest(`subnet_config_set.${field} must be a list of subnet specs`);
    list.forEach((v, n) => subnets.push(spec(v, kind, `subnet_config_set.${field}[${n}]`)));
  }
  if (Array.isArray(set.cloud_engine) && set.cloud_engine.length > 0) throw unsupported('CloudEngine subnets (subnet_config_set.cloud_engine)');
  const stateDir = typeof o.state_dir === 'string' ? o.state_dir : undefined;
  if (subnets.length === 0 && !stateDir) throw badRequest('ExtendedSubnetConfigSet must contain at least one subnet');
  if (o.icp_features !== undefined && o.icp_features !== null) {
    const f = object(o.icp_features, 'icp_features');
    const asked = FEATURES.filter((k) => f[k] !== undefined && f[k] !== null);
    if (asked.length > 0)
      throw unsupported(
        `The ICP feature${asked.length > 1 ? 's' : ''} ${asked.map((k) => `\`${k}\``).join(', ')}`,
        'the replica deploys no NNS, ledger, II or other system canisters; install the Wasm you need yourself',
      );
  }
  for (const field of ['bitcoind_addr', 'dogecoind_addr']) {
    const v = o[field];
    if (Array.isArray(v) && v.length > 0) throw unsupported(`${field} (a bitcoind/dogecoind node for the Bitcoin API)`);
  }
  // icp_config (beta features, backtraces, name-length limits, rate limiting), log_level,
  // incomplete_state and disable_ingress_validation change nothing here: the REST calls carry no
  // signatures, and the replica's behaviour is the mainnet one.
  let timeNanos: bigint | undefined;
  let autoProgress: number | undefined;
  if (o.initial_time !== undefined && o.initial_time !== null) {
    const t = object(o.initial_time, 'initial_time');
    if ('Timestamp' in t) timeNanos = natField(object(t.Timestamp, 'initial_time.Timestamp'), 'nanos_since_epoch');
    else if ('AutoProgress' in t) {
      const a = object(t.AutoProgress ?? {}, 'initial_time.AutoProgress');
      autoProgress = a.artificial_delay_ms === undefined || a.artificial_delay_ms === null ? 0 : Number(natField(a, 'artificial_delay_ms'));
      timeNanos = BigInt(Date.now()) * 1_000_000n;
    } else throw badRequest('initial_time must be {"Timestamp": …} or {"AutoProgress": …}');
  }
  const gateway = o.http_gateway_config === undefined || o.http_gateway_config === null ? undefined : object(o.http_gateway_config, 'http_gateway_config');
  return { subnets, stateDir, timeNanos, autoProgress, gateway };
}
