// Parsing and validating request envelopes (https-interface.md#http-call, #http-query,
// #http-read-state, #authentication; requests.cddl). Every refusal names the field and the rule.

import { CborDecodeError, decodeCbor, type CborMap, type CborValue } from '../certification/cbor.ts';
import { requestIdOf } from '../certification/representation-independent-hash.ts';
import { MAX_NONCE_BYTES, MAX_PATH_LABELS, MAX_READ_STATE_PATHS, MAX_REQUEST_CBOR_ITEMS } from './constants.ts';
import { badRequest } from './errors.ts';

export interface Envelope {
  envelope: CborMap;
  content: CborMap;
  requestId: Uint8Array;
  sender: Uint8Array;
  ingressExpiry: bigint;
}
export interface CallEnvelope extends Envelope {
  requestType: 'call' | 'query';
  canisterId: Uint8Array;
  methodName: string;
  arg: Uint8Array;
}
export interface ReadStateEnvelope extends Envelope {
  requestType: 'read_state';
  paths: Uint8Array[][];
}

const isMap = (v: CborValue | undefined): v is CborMap => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

function blob(content: CborMap, field: string): Uint8Array {
  const v = content[field];
  if (!(v instanceof Uint8Array)) throw badRequest(`the request content needs "${field}" as a CBOR byte string (blob)`);
  return v;
}
function text(content: CborMap, field: string): string {
  const v = content[field];
  if (typeof v !== 'string') throw badRequest(`the request content needs "${field}" as a CBOR text string`);
  return v;
}

export function decodeEnvelope(body: Uint8Array, expected: 'call' | 'query' | 'read_state'): CallEnvelope | ReadStateEnvelope {
  let decoded: CborValue;
  try {
    decoded = decodeCbor(body, { maxItems: MAX_REQUEST_CBOR_ITEMS });
  } catch (error) {
    if (error instanceof CborDecodeError && /more data items/.test(error.message)) {
      throw badRequest(`the request body holds more than ${MAX_REQUEST_CBOR_ITEMS} CBOR data items; this replica refuses such bodies (${error.message})`);
    }
    if (error instanceof CborDecodeError) throw badRequest(`the request body is not valid CBOR: ${error.message}`);
    throw error;
  }
  if (!isMap(decoded)) throw badRequest('the request body must be a CBOR map {content, sender_pubkey?, sender_sig?, sender_delegation?}');
  const content = decoded.content;
  if (!isMap(content)) throw badRequest('the request body has no "content" map');
  const requestType = text(content, 'request_type');
  if (requestType !== expected) {
    throw badRequest(`this endpoint takes request_type "${expected}", but the request says "${requestType}"`);
  }
  const sender = blob(content, 'sender');
  if (sender.length > 29) throw badRequest('"sender" is longer than a principal can be (29 bytes)');
  const expiry = content.ingress_expiry;
  if (typeof expiry !== 'number' && typeof expiry !== 'bigint') {
    throw badRequest('the request content needs "ingress_expiry" as a natural number of nanoseconds since 1970');
  }
  if (expiry < 0) throw badRequest('"ingress_expiry" must not be negative');
  if (content.nonce !== undefined) {
    const nonce = content.nonce;
    if (!(nonce instanceof Uint8Array)) throw badRequest('"nonce" must be a blob');
    if (nonce.length > MAX_NONCE_BYTES) throw badRequest(`"nonce" has ${nonce.length} bytes; at most ${MAX_NONCE_BYTES} are allowed`);
  }
  let requestId: Uint8Array;
  try {
    requestId = requestIdOf(content);
  } catch (error) {
    throw badRequest(`the request content has no request id: ${(error as Error).message} (content values are blobs, text, naturals, arrays and maps)`);
  }
  const base: Envelope = { envelope: decoded, content, requestId, sender, ingressExpiry: BigInt(expiry) };

  if (requestType === 'read_state') {
    const paths = content.paths;
    if (!Array.isArray(paths)) throw badRequest('"paths" must be an array of paths (arrays of blobs)');
    if (paths.length > MAX_READ_STATE_PATHS) throw badRequest(`"paths" has ${paths.length} entries; at most ${MAX_READ_STATE_PATHS} are allowed`);
    for (const path of paths) {
      if (!Array.isArray(path) || !path.every((l) => l instanceof Uint8Array)) {
        throw badRequest('every entry of "paths" must be an array of blobs');
      }
      if (path.length > MAX_PATH_LABELS) throw badRequest(`a path has ${path.length} labels; at most ${MAX_PATH_LABELS} are allowed`);
    }
    return { ...base, requestType, paths: paths as Uint8Array[][] };
  }
  const canisterId = blob(content, 'canister_id');
  if (canisterId.length > 29) throw badRequest('"canister_id" is longer than a principal can be (29 bytes)');
  return {
    ...base,
    requestType: requestType as 'call' | 'query',
    canisterId,
    methodName: text(content, 'method_name'),
    arg: blob(content, 'arg'),
  };
}
