// The IC's public HTTPS interface (https-interface.md) over an execution engine: status, call
// (v2 async; v3/v4 sync with a certificate), query (signed by the node key) and read_state
// (certified). Transport-free: `handle` takes a method, a path and body bytes, so the Node server
// (server.ts) and a future in-browser replica share it.

import { compareBytes, equalBytes, toHex } from '../ic/bytes.ts';
import { encodeCbor, type CborMap, type CborValue } from '../certification/cbor.ts';
import { certificateFor, type SignedState } from '../certification/certificate.ts';
import { Certifier, type StateRootSigner } from '../certification/certifier.ts';
import type { SubnetKeys } from '../certification/keys.ts';
import { MANAGEMENT_CANISTER_ID, ANONYMOUS_PRINCIPAL, principalFromText, principalToText } from '../ic/principal.ts';
import { hashOfMap } from '../certification/representation-independent-hash.ts';
import {
  EMPTY_STATE,
  STATE_LABELS,
  withCanister,
  withRequestStatus,
  withSubnet,
  type CanisterCertifiedInfo,
  type RequestStatus,
} from '../certification/state-tree.ts';
import { AuthenticationError, authenticateEnvelope } from './authentication.ts';
import { portableCrypto, type HttpCrypto, type SignatureVerifiers } from './crypto.ts';
import { DATA_CERTIFICATE_MAX_AGE_NS, MAX_INGRESS_TTL_NS, PERMITTED_DRIFT_NS, READ_STATE_MAX_AGE_NS, SYNC_CALL_TIMEOUT_MS } from './constants.ts';
import type { CallOutcome, EnginePort, IngressCall } from './engine-port.ts';
import { decodeEnvelope, type CallEnvelope, type Envelope, type ReadStateEnvelope } from './envelope.ts';
import { HttpError, badRequest, forbidden, methodNotAllowed, notFound } from './errors.ts';
import { IngressRegistry, type CompletedCall, type InflightCall, type KnownCall } from './ingress.ts';
import { canisterNamedInManagementArg } from './management-routing.ts';
import { checkReadStatePaths } from './read-state.ts';
import { RejectCode, rejectCodeOf } from '../ic/reject-codes.ts';
import { admission } from '../ic/user-errors.ts';

/** A call's outcome as its certified `/request_status/<id>`. */
function requestStatusOf(outcome: CallOutcome): RequestStatus {
  return outcome.status === 'replied'
    ? { status: 'replied', reply: outcome.reply }
    : { status: 'rejected', rejectCode: outcome.rejectCode, rejectMessage: outcome.rejectMessage, errorCode: outcome.errorCode };
}

/** A call or query to a canister this replica does not have: the IC's reject, as the engine's admission check writes it. */
function canisterNotFound(canisterId: Uint8Array): CallOutcome {
  const error = admission.canisterNotFound(principalToText(canisterId));
  return { status: 'rejected', rejectCode: rejectCodeOf(error.errorCode), rejectMessage: error.description, errorCode: error.errorCode };
}

export interface HttpResponse {
  status: number;
  contentType?: string;
  body?: Uint8Array | string;
}

export interface CallLogEntry {
  kind: 'call' | 'query';
  canisterId: Uint8Array;
  methodName: string;
  sender: Uint8Array;
  outcome: CallOutcome;
  ms: number;
}

export interface HttpInterfaceOptions {
  engine: EnginePort;
  keys: SubnetKeys;
  /** Called after each completed call or query (for the per-call log). */
  onCall?: (entry: CallLogEntry) => void;
  /** How long v3/v4 calls wait for the outcome before answering 202. */
  syncCallTimeoutMs?: number;
  /**
   * Signature checks and the node's query-response signer. Default: the portable @noble/curves
   * code (~1 ms per response signature), which runs in a browser or Web Worker; the Node CLI
   * passes node:crypto's (`nodeCrypto` in node-crypto.ts, ~0.07 ms), same bytes.
   */
  crypto?: HttpCrypto;
  /**
   * Runs before each certificate is signed, i.e. before any client can learn a call's outcome
   * from it: the disk store makes the state durable here.
   */
  beforeCertify?: () => void | Promise<void>;
  /** Signs state roots (default: in-process BLS). The CLI passes a worker-thread signer. */
  signStateRoot?: StateRootSigner;
  /**
   * `signStateRoot` signs on another thread: each round hands it the root hash first and runs
   * beforeCertify while it signs (Certifier.concurrentSigner). Default false: beforeCertify first.
   */
  concurrentSigner?: boolean;
}

const CBOR = 'application/cbor';
const ok = (value: CborValue): HttpResponse => ({ status: 200, contentType: CBOR, body: encodeCbor(value) });
const accepted = (): HttpResponse => ({ status: 202 });

const ROUTE = /^\/api\/(v2|v3|v4)\/(canister|subnet)\/([^/]+)\/(call|query|read_state)\/?$/;

export class HttpInterface {
  readonly engine: EnginePort;
  readonly keys: SubnetKeys;
  readonly certifier: Certifier;
  readonly registry = new IngressRegistry();
  #onCall: HttpInterfaceOptions['onCall'];
  #syncTimeoutMs: number;
  #signResponse: (responseHash: Uint8Array) => Uint8Array;
  #verifiers: SignatureVerifiers;
  #beforeCertify: (() => void | Promise<void>) | undefined;
  #canisterCache = new Map<string, CanisterCertifiedInfo>();
  #dataCertificates = new Map<string, { version: number; certificate: Uint8Array }>();

  constructor(options: HttpInterfaceOptions) {
    this.engine = options.engine;
    this.keys = options.keys;
    this.#onCall = options.onCall;
    this.#syncTimeoutMs = options.syncCallTimeoutMs ?? SYNC_CALL_TIMEOUT_MS;
    const crypto = options.crypto ?? portableCrypto;
    this.#signResponse = crypto.responseSigner(this.keys);
    this.#verifiers = crypto.signatureVerifiers;
    this.#beforeCertify = options.beforeCertify;
    const tree = withSubnet(EMPTY_STATE, {
      subnetId: this.keys.subnetId,
      publicKeyDer: this.keys.rootKeyDer,
      canisterRanges: this.engine.canisterRanges(),
      nodes: [{ nodeId: this.keys.nodeId, publicKeyDer: this.keys.nodePublicKeyDer }],
    });
    this.certifier = new Certifier(this.keys, tree, () => this.engine.time(), options.signStateRoot, { concurrentSigner: options.concurrentSigner });
    this.certifier.beforeRound = () => this.#refreshState();
    this.certifier.persist = () => this.#beforeCertify?.();
    this.engine.setDataCertificateProvider?.((id) => this.#dataCertificate(id));
  }

  /** Handles one HTTP request. Never throws: every failure becomes a status and a sentence. */
  async handle(method: string, path: string, contentType: string | undefined, body: Uint8Array): Promise<HttpResponse> {
    try {
      return await this.#route(method, path.split('?')[0], contentType, body);
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, contentType: 'text/plain; charset=utf-8', body: error.message };
      if (error instanceof AuthenticationError) return { status: 400, contentType: 'text/plain; charset=utf-8', body: error.message };
      const message = error instanceof Error ? error.message : String(error);
      return { status: 500, contentType: 'text/plain; charset=utf-8', body: `the replica failed to handle ${path}: ${message}` };
    }
  }

  async #route(method: string, path: string, contentType: string | undefined, body: Uint8Array): Promise<HttpResponse> {
    if (path === '/api/v2/status') {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('/api/v2/status takes GET');
      return ok({ root_key: this.keys.rootKeyDer, impl_version: 'scaling-wg-replica 0.1.0', replica_health_status: 'healthy' });
    }
    const match = ROUTE.exec(path);
    if (!match) {
      throw notFound(
        `no such endpoint: ${path}. The replica serves /api/v2/status, /api/v2|v3/canister/<id>/query, ` +
          '/api/v2|v3|v4/canister/<id>/call and /api/v2|v3/canister|subnet/<id>/read_state',
      );
    }
    const [, version, scope, idText, endpoint] = match;
    if (method !== 'POST') throw methodNotAllowed(`${endpoint} takes POST with a CBOR body, not ${method}`);
    if (!contentType || contentType.split(';')[0].trim().toLowerCase() !== CBOR) {
      throw new HttpError(415, `the request body must be CBOR with Content-Type: application/cbor (got ${contentType ?? 'none'})`);
    }
    let id: Uint8Array;
    try {
      id = principalFromText(decodeURIComponent(idText));
    } catch (error) {
      throw badRequest(`the ${scope} id in the URL is not valid: ${(error as Error).message}`);
    }
    if (scope === 'subnet' && !equalBytes(id, this.keys.subnetId)) {
      throw badRequest(`unknown subnet ${principalToText(id)}; this replica is subnet ${principalToText(this.keys.subnetId)}`);
    }
    const supported =
      (endpoint === 'call' && (scope === 'canister' || version === 'v4')) ||
      (endpoint === 'query' && version !== 'v4' && (scope === 'canister' || version === 'v3')) ||
      (endpoint === 'read_state' && version !== 'v4');
    if (!supported) throw notFound(`/api/${version}/${scope}/<id>/${endpoint} is not an endpoint of the IC interface`);

    if (endpoint === 'call') return this.#call(version, scope, id, body);
    if (endpoint === 'query') return this.#query(scope, id, body);
    return this.#readState(scope, id, body);
  }

  // ---- shared checks -------------------------------------------------------------------------

  #checkExpiry(env: Envelope, nowNs: bigint): void {
    const max = nowNs + MAX_INGRESS_TTL_NS + PERMITTED_DRIFT_NS;
    if (env.ingressExpiry < nowNs || env.ingressExpiry > max) {
      const fmt = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
      // The agents look for this exact prefix to re-sync their clock and retry once.
      throw badRequest(
        `Invalid request expiry: ingress_expiry ${fmt(env.ingressExpiry)} is outside the accepted window ` +
          `${fmt(nowNs)} .. ${fmt(max)} (replica time); check the client's clock`,
      );
    }
  }

  #authenticate(env: Envelope, nowNs: bigint) {
    return authenticateEnvelope(env.envelope, env.content, env.requestId, { nowNs, rootKeyDer: this.keys.rootKeyDer, verifiers: this.#verifiers });
  }

  #inRanges(id: Uint8Array): boolean {
    return this.engine.canisterRanges().some(([lo, hi]) => compareBytes(lo, id) <= 0 && compareBytes(id, hi) <= 0);
  }

  #checkRouting(env: CallEnvelope, scope: string, effectiveId: Uint8Array): void {
    const isManagement = equalBytes(env.canisterId, MANAGEMENT_CANISTER_ID);
    if (scope === 'subnet') {
      if (!isManagement) {
        throw badRequest('subnet-scoped calls and queries may only target the management canister (aaaaa-aa)');
      }
      return;
    }
    if (!isManagement && !equalBytes(env.canisterId, effectiveId)) {
      throw badRequest(
        `the effective canister id in the URL (${principalToText(effectiveId)}) must equal the request's canister_id ` +
          `(${principalToText(env.canisterId)}) for calls to canisters other than aaaaa-aa`,
      );
    }
    const anyEffectiveId = isManagement && ['create_canister', 'provisional_create_canister_with_cycles', 'list_canisters'].includes(env.methodName);
    if (isManagement && !anyEffectiveId) {
      const named = canisterNamedInManagementArg(env.methodName, env.arg);
      if (named && !equalBytes(named.id, effectiveId)) {
        throw badRequest(
          `the effective canister id in the URL (${principalToText(effectiveId)}) must be the ${named.field} of the ` +
            `aaaaa-aa.${env.methodName} argument (${principalToText(named.id)})`,
        );
      }
    }
    if (!anyEffectiveId && !this.#inRanges(effectiveId)) {
      const ranges = this.engine
        .canisterRanges()
        .map(([lo, hi]) => `${principalToText(lo)}..${principalToText(hi)}`)
        .join(', ');
      throw badRequest(`canister ${principalToText(effectiveId)} does not belong to this replica, which hosts ${ranges}`);
    }
  }

  #checkTargets(targets: Uint8Array[] | undefined, canisterId: Uint8Array): void {
    if (targets && !targets.some((t) => equalBytes(t, canisterId))) {
      throw forbidden(`the sender's delegation does not allow calls to ${principalToText(canisterId)} (it is not among the delegation targets)`);
    }
  }

  // ---- call ----------------------------------------------------------------------------------

  async #call(version: string, scope: string, effectiveId: Uint8Array, body: Uint8Array): Promise<HttpResponse> {
    const env = decodeEnvelope(body, 'call') as CallEnvelope;
    this.#checkRouting(env, scope, effectiveId);
    const now = this.engine.time();
    this.#checkExpiry(env, now);
    const { sender, targets } = this.#authenticate(env, now);
    this.#checkTargets(targets, env.canisterId);

    let known = this.registry.get(env.requestId);
    if (!known) {
      const call: IngressCall = {
        requestId: env.requestId,
        sender,
        canisterId: env.canisterId,
        methodName: env.methodName,
        arg: env.arg,
        effectiveCanisterId: effectiveId,
      };
      const rejection = await this.#accept(call);
      if (rejection && rejection.status === 'rejected') {
        this.#onCall?.({ kind: 'call', canisterId: call.canisterId, methodName: call.methodName, sender, outcome: rejection, ms: 0 });
        const fields = { reject_code: rejection.rejectCode, reject_message: rejection.rejectMessage, error_code: rejection.errorCode };
        return ok(version === 'v2' ? fields : { status: 'non_replicated_rejection', ...fields });
      }
      // A replay that raced the acceptance check joins the first submission.
      known = this.registry.get(env.requestId) ?? this.#start(call, env.ingressExpiry);
    }
    if (version === 'v2') return accepted();

    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.#syncTimeoutMs)));
    const result = await Promise.race([known.done, timeout]);
    clearTimeout(timer);
    if (!result) return accepted();
    const signed = await this.certifier.certified(result.version);
    return ok({ status: 'replied', certificate: certificateFor(signed, [[STATE_LABELS.requestStatus, env.requestId]]) });
  }

  async #accept(call: IngressCall): Promise<CallOutcome | undefined> {
    if (this.engine.acceptCall) {
      try {
        return await this.engine.acceptCall(call);
      } catch (error) {
        return {
          status: 'rejected',
          rejectCode: RejectCode.SYS_FATAL,
          errorCode: '',
          rejectMessage: `the replica failed while checking the call to ${principalToText(call.canisterId)}.${call.methodName}: ${(error as Error).message}`,
        };
      }
    }
    if (!equalBytes(call.canisterId, MANAGEMENT_CANISTER_ID) && !this.engine.canisterInfo(call.canisterId)) {
      return canisterNotFound(call.canisterId);
    }
    return undefined;
  }

  #start(call: IngressCall, ingressExpiry: bigint): KnownCall {
    const started = performance.now();
    this.certifier.update((t) => withRequestStatus(t, call.requestId, { status: 'processing' }));
    const known: KnownCall = {
      requestId: call.requestId,
      sender: call.sender,
      canisterId: call.canisterId,
      effectiveCanisterId: call.effectiveCanisterId,
      ingressExpiry,
      finished: false,
      done: undefined as never,
    };
    known.done = this.engine
      .submitCall(call)
      .catch((error: unknown): CallOutcome => ({
        status: 'rejected',
        rejectCode: RejectCode.SYS_FATAL,
        errorCode: '',
        rejectMessage: `the replica failed while executing ${principalToText(call.canisterId)}.${call.methodName}: ${error instanceof Error ? error.message : String(error)}`,
      }))
      .then((outcome) => this.#complete(known, outcome, call.methodName, started));
    this.registry.add(known);
    return known;
  }

  /** Records a call's outcome as its status; returns the certifier version that holds it. */
  #complete(known: KnownCall, outcome: CallOutcome, methodName: string, started: number): { version: number } {
    const version = this.certifier.update((t) => withRequestStatus(t, known.requestId, requestStatusOf(outcome)));
    this.registry.completed(known, this.engine.time(), outcome);
    this.#onCall?.({ kind: 'call', canisterId: known.canisterId, methodName, sender: known.sender, outcome, ms: performance.now() - started });
    return { version }; // the outcome lives on in the state tree; keep nothing else per call
  }

  /**
   * Puts back the calls a previous run had accepted and not finished (from the disk store, saved
   * with the engine's state in the same commit): they read as processing again, a resend joins
   * them, and their outcome arrives through the engine's onRestoredCallCompleted once the
   * restored state executes them on. Call before the engine's state is restored.
   */
  restoreInflightCalls(calls: InflightCall[]): void {
    const waiting = new Map<string, (outcome: CallOutcome) => void>();
    this.engine.onRestoredCallCompleted?.((requestId, outcome) => waiting.get(toHex(requestId))?.(outcome));
    const started = performance.now();
    for (const call of calls) {
      if (this.registry.get(call.requestId)) continue;
      this.certifier.update((t) => withRequestStatus(t, call.requestId, { status: 'processing' }));
      const known: KnownCall = { ...call, finished: false, done: undefined as never };
      known.done = new Promise<CallOutcome>((resolve) => waiting.set(toHex(call.requestId), resolve)).then((outcome) => {
        waiting.delete(toHex(call.requestId));
        return this.#complete(known, outcome, '(restored call)', started);
      });
      this.registry.add(known);
    }
  }

  // ---- query ---------------------------------------------------------------------------------

  async #query(scope: string, effectiveId: Uint8Array, body: Uint8Array): Promise<HttpResponse> {
    const env = decodeEnvelope(body, 'query') as CallEnvelope;
    this.#checkRouting(env, scope, effectiveId);
    const now = this.engine.time();
    // Anonymous queries may carry any expiry (https-interface.md#authentication).
    if (!equalBytes(env.sender, ANONYMOUS_PRINCIPAL)) this.#checkExpiry(env, now);
    const { sender, targets } = this.#authenticate(env, now);
    this.#checkTargets(targets, env.canisterId);

    const info = equalBytes(env.canisterId, MANAGEMENT_CANISTER_ID) ? undefined : this.engine.canisterInfo(env.canisterId);
    // The data certificate (ic0.data_certificate_copy) must be recent enough for clients to accept
    // and must carry the canister's current certified data, even when that changed outside a
    // certified call (a timer, or the programmatic API): then certify first.
    if (this.engine.setDataCertificateProvider && info) {
      const latest = this.certifier.latest;
      const certified = this.#canisterCache.get(toHex(env.canisterId))?.certifiedData;
      if (!latest || now - latest.timeNs > DATA_CERTIFICATE_MAX_AGE_NS || !certified || !equalBytes(certified, info.certifiedData)) {
        await this.certifier.refresh();
      }
    }
    const started = performance.now();
    let outcome: CallOutcome;
    if (!equalBytes(env.canisterId, MANAGEMENT_CANISTER_ID) && !info) {
      outcome = canisterNotFound(env.canisterId);
    } else {
      try {
        outcome = await this.engine.queryCall({
          sender,
          canisterId: env.canisterId,
          methodName: env.methodName,
          arg: env.arg,
          effectiveCanisterId: effectiveId,
        });
      } catch (error) {
        outcome = {
          status: 'rejected',
          rejectCode: RejectCode.SYS_FATAL,
          errorCode: '',
          rejectMessage: `the replica failed while executing the query: ${(error as Error).message}`,
        };
      }
    }
    this.#onCall?.({ kind: 'query', canisterId: env.canisterId, methodName: env.methodName, sender, outcome, ms: performance.now() - started });

    const timestamp = this.engine.time();
    const response: CborMap =
      outcome.status === 'replied'
        ? { status: 'replied', reply: { arg: outcome.reply } }
        : { status: 'rejected', reject_code: outcome.rejectCode, reject_message: outcome.rejectMessage, error_code: outcome.errorCode };
    // The node signs hash_of_map of the response fields + timestamp + request id (https-interface.md#http-query).
    const signature = this.#signResponse(hashOfMap({ ...response, timestamp, request_id: env.requestId }));
    return ok({ ...response, signatures: [{ timestamp, signature, identity: this.keys.nodeId }] });
  }

  // ---- read_state ----------------------------------------------------------------------------

  async #readState(scope: string, effectiveId: Uint8Array, body: Uint8Array): Promise<HttpResponse> {
    const env = decodeEnvelope(body, 'read_state') as ReadStateEnvelope;
    const now = this.engine.time();
    if (!equalBytes(env.sender, ANONYMOUS_PRINCIPAL)) this.#checkExpiry(env, now);
    const { sender, targets } = this.#authenticate(env, now);
    if (scope === 'canister' && !this.#inRanges(effectiveId)) {
      throw badRequest(`canister ${principalToText(effectiveId)} does not belong to this replica`);
    }
    // A delegation restricted to some canisters reads state only at their endpoints.
    if (scope === 'canister') this.#checkTargets(targets, effectiveId);
    checkReadStatePaths(env.paths, {
      scope,
      effectiveId,
      sender,
      targets,
      registry: this.registry,
      canisterInfo: (id) => this.engine.canisterInfo(id),
    });
    const signed: SignedState = await this.certifier.fresh(READ_STATE_MAX_AGE_NS);
    return ok({ certificate: certificateFor(signed, env.paths) });
  }

  // ---- certified state -----------------------------------------------------------------------

  /** Before each signature: fold the engine's canister state in and drop expired statuses. */
  #refreshState(): void {
    const seen = new Set<string>();
    for (const id of this.engine.listCanisters()) {
      const key = toHex(id);
      seen.add(key);
      const info = this.engine.canisterInfo(id);
      const cached = this.#canisterCache.get(key);
      if (info && (!cached || !sameInfo(cached, info))) {
        this.#canisterCache.set(key, cloneInfo(info));
        this.certifier.update((t) => withCanister(t, id, info));
      }
    }
    for (const key of [...this.#canisterCache.keys()]) {
      if (!seen.has(key)) {
        this.#canisterCache.delete(key);
        this.certifier.update((t) => withCanister(t, Uint8Array.from(key.match(/../g)!.map((h) => parseInt(h, 16))), undefined));
      }
    }
    for (const id of this.registry.prune(this.engine.time())) {
      this.certifier.update((t) => withRequestStatus(t, id, undefined));
    }
  }

  /**
   * Puts back calls a previous run completed (from the disk store): a replay is not executed
   * again, and the status reads as it did, replied or rejected with its reply, until the call is
   * pruned (calls from an older log, which kept no outcome, read as done).
   */
  restoreCompletedCalls(calls: CompletedCall[]): void {
    const now = this.engine.time();
    for (const call of calls) {
      if (call.pruneAt <= now || this.registry.get(call.requestId)) continue;
      const status: RequestStatus = call.outcome ? requestStatusOf(call.outcome) : { status: 'done' };
      const version = this.certifier.update((t) => withRequestStatus(t, call.requestId, status));
      this.registry.restore(call, Promise.resolve({ outcome: call.outcome, version }));
    }
  }

  #dataCertificate(canisterId: Uint8Array): Uint8Array | undefined {
    const latest = this.certifier.latest;
    if (!latest) return undefined;
    const key = toHex(canisterId);
    const cached = this.#dataCertificates.get(key);
    if (cached && cached.version === latest.version) return cached.certificate;
    const certificate = certificateFor(latest, [[STATE_LABELS.canister, canisterId, STATE_LABELS.certifiedData]]);
    this.#dataCertificates.set(key, { version: latest.version, certificate });
    return certificate;
  }
}

function sameInfo(a: CanisterCertifiedInfo, b: CanisterCertifiedInfo): boolean {
  const same = (x?: Uint8Array, y?: Uint8Array) => (x === undefined || y === undefined ? x === y : equalBytes(x, y));
  return (
    same(a.certifiedData, b.certifiedData) &&
    same(a.moduleHash, b.moduleHash) &&
    a.controllers.length === b.controllers.length &&
    a.controllers.every((c, i) => equalBytes(c, b.controllers[i])) &&
    a.metadata.length === b.metadata.length &&
    a.metadata.every((m, i) => m.name === b.metadata[i].name && m.isPublic === b.metadata[i].isPublic && equalBytes(m.content, b.metadata[i].content))
  );
}

function cloneInfo(info: CanisterCertifiedInfo): CanisterCertifiedInfo {
  return {
    certifiedData: info.certifiedData.slice(),
    moduleHash: info.moduleHash?.slice(),
    controllers: info.controllers.map((c) => c.slice()),
    metadata: info.metadata.map((m) => ({ ...m, content: m.content.slice() })),
  };
}
