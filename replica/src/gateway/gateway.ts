// The HTTP gateway's behaviour, transport-free (http-gateway-protocol-spec.md): turn a browser
// request into the canister's `http_request` query, upgrade to `http_request_update` when the
// canister asks, assemble streamed bodies, and verify the certification of every query answer
// with DFINITY's own verifier (@dfinity/response-verification, the Rust code boundary nodes run,
// compiled to Wasm) against the replica's root key. A response that does not verify is refused,
// never passed on.
import { Actor, CanisterStatus, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { verifyRequestResponsePair, ResponseVerificationErrorCode } from '@dfinity/response-verification';
import { GatewayError } from './errors.ts';
import {
  HttpRequest,
  HttpResponse,
  HttpUpdateRequest,
  StreamingCallbackResult,
  StreamingCallbackResultPlain,
  StreamingToken,
  type CallbackResponse,
  type CanisterHttpResponse,
  type Token,
} from './http-interface-idl.ts';

export interface GatewayRequest {
  /** HTTP method as the browser sent it. */
  method: string;
  /** Path and query as the canister should see them (no host, no `canisterId`). */
  url: string;
  headers: [string, string][];
  body: Uint8Array;
}

export interface GatewayResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** 2 or 1: the certification version that verified; 0 for an upgraded (update-call) response. */
  certificationVersion: number;
  /** Query + callbacks + update calls made for this response. */
  canisterCalls: number;
}

export interface GatewayOptions {
  /** Speaks the IC's HTTP interface for the gateway (anonymous identity is right: gateways are). */
  agent: HttpAgent;
  /** DER-encoded BLS root key the certificates must chain to (the replica's; mainnet's on ic). */
  rootKey: Uint8Array;
  /** Current time in ns for the certificate freshness check. Default: the wall clock. */
  now?: () => bigint;
  /** How far a certificate's time may be from `now`. Default 5 minutes, as boundary nodes. */
  maxCertTimeOffsetNs?: bigint;
  /** Largest assembled body the gateway accepts. Default 64 MiB. */
  maxBodyBytes?: number;
}

const FIVE_MINUTES_NS = 300_000_000_000n;
const MAX_STREAMING_CALLS = 10_000;

interface RejectInfo {
  code?: number;
  message: string;
}

function rejectInfo(error: unknown): RejectInfo {
  const text = String((error as Error)?.message ?? error);
  const code = /reject code:?\s*"?(\d)/i.exec(text);
  const message = /reject message:?\s*"?([^\n"]+)/i.exec(text);
  return { code: code ? Number(code[1]) : undefined, message: message ? message[1] : text.split('\n')[0] };
}

export class HttpGateway {
  readonly #agent: HttpAgent;
  readonly #rootKey: Uint8Array;
  readonly #now: () => bigint;
  readonly #maxOffset: bigint;
  readonly #maxBody: number;

  constructor(options: GatewayOptions) {
    this.#agent = options.agent;
    this.#rootKey = options.rootKey;
    this.#now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    this.#maxOffset = options.maxCertTimeOffsetNs ?? FIVE_MINUTES_NS;
    this.#maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;
  }

  /** Fetches `request` from the canister and returns the verified response, or throws GatewayError. */
  async fetch(canisterId: string, request: GatewayRequest): Promise<GatewayResponse> {
    const method = request.method.toUpperCase();
    let calls = 1;
    const arg = IDL.encode([HttpRequest], [{ method, url: request.url, headers: request.headers, body: request.body, certificate_version: [2] }]);
    let response = await this.#call(canisterId, 'http_request', arg, 'query');
    let upgraded = false;
    if (response.upgrade[0] === true) {
      // The canister wants this request to go through consensus; the answer of an update call is
      // trusted as such (the spec ignores its `upgrade` field and needs no certification).
      calls += 1;
      const updateArg = IDL.encode([HttpUpdateRequest], [{ method, url: request.url, headers: request.headers, body: request.body }]);
      response = await this.#call(canisterId, 'http_request_update', updateArg, 'update');
      upgraded = true;
    }
    const { body, callbacks } = await this.#assemble(canisterId, request.url, response);
    calls += callbacks;
    if (upgraded) {
      return { status: response.status_code, headers: response.headers, body, certificationVersion: 0, canisterCalls: calls };
    }
    const verified = await this.#verify(canisterId, { method, url: request.url, headers: request.headers, body: request.body }, { ...response, body });
    return { ...verified, canisterCalls: calls };
  }

  async #call(canisterId: string, method: string, arg: Uint8Array, kind: 'query' | 'update'): Promise<CanisterHttpResponse> {
    let reply: Uint8Array;
    try {
      if (kind === 'query') {
        const result = await this.#agent.query(canisterId, { methodName: method, arg });
        if (result.status !== 'replied') throw new Error(`Reject code: ${result.reject_code}\nReject message: ${result.reject_message}`);
        reply = new Uint8Array(result.reply.arg);
      } else {
        // An actor handles the call + certified polling of an update for us.
        const service: IDL.InterfaceFactory = () => IDL.Service({ [method]: IDL.Func([HttpUpdateRequest], [HttpResponse], []) });
        const actor = Actor.createActor(service, { agent: this.#agent, canisterId });
        const [decodedArg] = IDL.decode([HttpUpdateRequest], arg);
        return (await (actor[method] as (a: unknown) => Promise<CanisterHttpResponse>)(decodedArg)) as CanisterHttpResponse;
      }
    } catch (error) {
      const info = rejectInfo(error);
      if (info.code === 3) {
        throw new GatewayError('ERR_CANISTER_NOT_FOUND', `canister ${canisterId} cannot serve HTTP: ${info.message} (it must exist and export ${method})`);
      }
      throw new GatewayError('ERR_CANISTER_REJECTED', `canister ${canisterId} failed in ${method}: ${info.message}`);
    }
    try {
      return IDL.decode([HttpResponse], reply)[0] as unknown as CanisterHttpResponse;
    } catch (error) {
      throw new GatewayError(
        'ERR_CANISTER_REJECTED',
        `canister ${canisterId} answered ${method} with something that is not an HttpResponse: ${(error as Error).message}`,
      );
    }
  }

  // Follows `streaming_strategy` until the token runs out; verification happens on the whole body.
  async #assemble(canisterId: string, url: string, response: CanisterHttpResponse): Promise<{ body: Uint8Array; callbacks: number }> {
    const parts: Uint8Array[] = [response.body];
    let size = response.body.length;
    let callbacks = 0;
    const strategy = response.streaming_strategy[0];
    if (strategy) {
      const [callbackCanister, callbackMethod] = strategy.Callback.callback;
      if (callbackCanister.toText() !== canisterId) {
        throw new GatewayError(
          'ERR_STREAMING',
          `canister ${canisterId} asked the gateway to stream ${url} from another canister (${callbackCanister.toText()}); gateways only follow callbacks into the same canister`,
        );
      }
      let token: Token | undefined = strategy.Callback.token;
      while (token) {
        if (++callbacks > MAX_STREAMING_CALLS)
          throw new GatewayError('ERR_STREAMING', `streaming ${url} from ${canisterId} took more than ${MAX_STREAMING_CALLS} callbacks`);
        const chunk = await this.#callback(canisterId, callbackMethod, token);
        parts.push(chunk.body);
        size += chunk.body.length;
        if (size > this.#maxBody)
          throw new GatewayError('ERR_RESPONSE_TOO_LARGE', `${url} from ${canisterId} is larger than the gateway's limit of ${this.#maxBody} bytes`);
        token = chunk.token[0];
      }
    }
    if (parts.length === 1) return { body: new Uint8Array(response.body), callbacks };
    const body = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      body.set(part, at);
      at += part.length;
    }
    return { body, callbacks };
  }

  async #callback(canisterId: string, method: string, token: Token): Promise<CallbackResponse> {
    const arg = IDL.encode([StreamingToken], [token]);
    let reply: Uint8Array;
    try {
      const result = await this.#agent.query(canisterId, { methodName: method, arg });
      if (result.status !== 'replied') throw new Error(`Reject code: ${result.reject_code}\nReject message: ${result.reject_message}`);
      reply = new Uint8Array(result.reply.arg);
    } catch (error) {
      throw new GatewayError('ERR_STREAMING', `streaming callback ${method} of ${canisterId} failed: ${rejectInfo(error).message}`);
    }
    try {
      const [result] = IDL.decode([StreamingCallbackResult], reply) as [[] | [CallbackResponse]];
      if (result.length === 0) return { body: new Uint8Array(), token: [] };
      return result[0];
    } catch {
      // The gateway spec's plain-record form.
      try {
        return IDL.decode([StreamingCallbackResultPlain], reply)[0] as unknown as CallbackResponse;
      } catch (error) {
        throw new GatewayError('ERR_STREAMING', `streaming callback ${method} of ${canisterId} returned an unexpected type: ${(error as Error).message}`);
      }
    }
  }

  async #verify(
    canisterId: string,
    request: { method: string; url: string; headers: [string, string][]; body: Uint8Array },
    response: CanisterHttpResponse,
  ): Promise<Omit<GatewayResponse, 'canisterCalls'>> {
    const run = (minVersion: number) =>
      verifyRequestResponsePair(
        { url: request.url, method: request.method, body: request.body, headers: request.headers, certificate_version: [2] },
        { status_code: response.status_code, headers: response.headers, body: response.body },
        Principal.fromText(canisterId).toUint8Array(),
        this.#now(),
        this.#maxOffset,
        this.#rootKey,
        minVersion,
      );
    let info;
    try {
      try {
        info = run(2);
      } catch (error) {
        // Downgrade protection (spec, "Response verification"): accept v1 only from a canister
        // whose certified metadata does not promise v2.
        if ((error as { code?: number }).code !== ResponseVerificationErrorCode.RequestedVerificationVersionMismatch) throw error;
        if ((await this.#supportedVersions(canisterId)).includes(2)) throw error;
        info = run(1);
      }
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      const e = error as { code?: number; message?: string };
      const name = typeof e.code === 'number' ? ResponseVerificationErrorCode[e.code] : 'Unknown';
      throw new GatewayError(
        'ERR_VERIFICATION',
        `the response of canister ${canisterId} for ${request.method} ${request.url} failed certificate verification (${name}: ${e.message ?? String(error)}). ` +
          "The gateway refuses uncertified or tampered responses, as the IC's boundary nodes do.",
        name,
      );
    }
    if (info.verificationVersion >= 2) {
      if (!info.response) {
        // The canister's expression says `no_certification`: it chose to serve this uncertified.
        return { status: response.status_code, headers: response.headers, body: response.body, certificationVersion: 2 };
      }
      // Only certified headers (and the certification headers) reach the browser.
      return { status: info.response.statusCode ?? response.status_code, headers: info.response.headers, body: info.response.body, certificationVersion: 2 };
    }
    // v1 certifies the body only; its headers are passed on as the canister sent them.
    return { status: response.status_code, headers: response.headers, body: response.body, certificationVersion: 1 };
  }

  // The canister's certified `supported_certificate_versions` metadata; [] when it has none. A
  // failure to read it refuses the response (fail closed), since v1 is accepted only without it.
  async #supportedVersions(canisterId: string): Promise<number[]> {
    let value: unknown;
    try {
      const status = await CanisterStatus.request({
        agent: this.#agent,
        canisterId: Principal.fromText(canisterId),
        paths: [{ kind: 'metadata', key: 'supported_certificate_versions', path: 'supported_certificate_versions', decodeStrategy: 'utf-8' }],
      });
      value = status.get('supported_certificate_versions');
    } catch (error) {
      throw new GatewayError(
        'ERR_VERIFICATION',
        `canister ${canisterId} answered with v1 certification and its supported_certificate_versions metadata could not be read (${(error as Error).message}); refusing a possible downgrade`,
        'RequestedVerificationVersionMismatch',
      );
    }
    if (typeof value !== 'string') return [];
    return value
      .split(',')
      .map((v) => Number(v.trim()))
      .filter((v) => Number.isInteger(v));
  }
}
