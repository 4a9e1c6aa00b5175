// The canister HTTP interface a gateway calls (http-gateway-protocol-spec.md, "Canister HTTP
// Interface"). The streaming token's type belongs to the canister; this gateway speaks the token
// of DFINITY's asset canister (and ours), which is what asset canisters use.
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';

export const HeaderField = IDL.Tuple(IDL.Text, IDL.Text);
export const StreamingToken = IDL.Record({
  key: IDL.Text,
  content_encoding: IDL.Text,
  index: IDL.Nat,
  sha256: IDL.Opt(IDL.Vec(IDL.Nat8)),
});
const StreamingCallbackResponse = IDL.Record({ body: IDL.Vec(IDL.Nat8), token: IDL.Opt(StreamingToken) });
// DFINITY's assets.did declares the callback's result as `opt`; the gateway spec as a plain record.
export const StreamingCallbackResult = IDL.Opt(StreamingCallbackResponse);
export const StreamingCallbackResultPlain = StreamingCallbackResponse;
const StreamingStrategy = IDL.Variant({
  Callback: IDL.Record({
    callback: IDL.Func([StreamingToken], [StreamingCallbackResult], ['query']),
    token: StreamingToken,
  }),
});
export const HttpRequest = IDL.Record({
  method: IDL.Text,
  url: IDL.Text,
  headers: IDL.Vec(HeaderField),
  body: IDL.Vec(IDL.Nat8),
  certificate_version: IDL.Opt(IDL.Nat16),
});
export const HttpUpdateRequest = IDL.Record({
  method: IDL.Text,
  url: IDL.Text,
  headers: IDL.Vec(HeaderField),
  body: IDL.Vec(IDL.Nat8),
});
export const HttpResponse = IDL.Record({
  status_code: IDL.Nat16,
  headers: IDL.Vec(HeaderField),
  body: IDL.Vec(IDL.Nat8),
  streaming_strategy: IDL.Opt(StreamingStrategy),
  upgrade: IDL.Opt(IDL.Bool),
});

export type Token = { key: string; content_encoding: string; index: bigint; sha256: [] | [Uint8Array] };
export interface CanisterHttpResponse {
  status_code: number;
  headers: [string, string][];
  body: Uint8Array;
  streaming_strategy: [] | [{ Callback: { callback: [Principal, string]; token: Token } }];
  upgrade: [] | [boolean];
}
export interface CallbackResponse {
  body: Uint8Array;
  token: [] | [Token];
}
