// Which canister a browser request is for (http-gateway-protocol-spec.md, "Canister ID
// resolution", local form): the first label of a `<id>.localhost` host (also `<id>.raw.localhost`
// is *not* offered: every response here is verified), else the `canisterId` query parameter,
// else the `canisterId` of the Referer (so `/_astro/x.js` loaded by `/?canisterId=<id>` still
// reaches the same canister, as dfx's replica did).

import { Principal } from '@dfinity/principal';
import { GatewayError } from './errors.ts';
import { MANAGEMENT_CANISTER_TEXT } from '../ic/principal.ts';

const PRINCIPAL_TEXT = /^[a-z0-9]{5}(-[a-z0-9]{1,5})+$/;
/** RFC 3986 host (reg-name of letters, digits, '-', '.', or an IPv6 literal) with an optional port. */
const HOST_HEADER = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** A canister id in text form (checksum included), not the management canister's. */
function checkCanisterId(text: string, where: string): string {
  let principal: Principal;
  try {
    principal = Principal.fromText(text);
  } catch (error) {
    throw new GatewayError('ERR_BAD_REQUEST', `${where} names "${text}", which is not a canister id: ${(error as Error).message}`);
  }
  if (principal.toText() === MANAGEMENT_CANISTER_TEXT)
    throw new GatewayError('ERR_BAD_REQUEST', `${where} names aaaaa-aa, the management canister, which serves no HTTP`);
  return principal.toText();
}

function fromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  if (!HOST_HEADER.test(host)) throw new GatewayError('ERR_BAD_REQUEST', `the Host header "${host.slice(0, 100)}" is not a host name with an optional port`);
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const match = /^([a-z0-9-]+)\.localhost\.?$/.exec(name);
  return match && PRINCIPAL_TEXT.test(match[1]) ? checkCanisterId(match[1], 'the Host header') : undefined;
}

function fromQuery(url: string | undefined, where: string): string | undefined {
  if (!url) return undefined;
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  const id = new URLSearchParams(url.slice(query + 1).split('#')[0]).get('canisterId') ?? undefined;
  return id ? checkCanisterId(id, where) : undefined;
}

/**
 * Refuses request targets a gateway cannot pass on (http-gateway-protocol-spec.md: the canister
 * gets the path and query as sent): anything but origin-form (`/path?query`), control characters,
 * and percent-escapes that are malformed or do not decode to UTF-8.
 */
export function checkRequestTarget(url: string): void {
  const bad = (why: string) => new GatewayError('ERR_BAD_REQUEST', `the request URL "${url.slice(0, 200)}" is malformed: ${why}`);
  if (!url.startsWith('/')) throw bad('it must be a path starting with "/"');
  if (url.startsWith('//')) throw bad('a path must not start with "//"');
  for (let i = 0; i < url.length; i++) {
    const code = url.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) throw bad('it contains control characters');
  }
  const path = url.split(/[?#]/)[0];
  try {
    decodeURIComponent(path);
  } catch {
    throw bad('its path has percent-escapes that are malformed or not UTF-8');
  }
}

export interface CanisterAddress {
  canisterId: string;
  /** How the id was found; `query` means the URL carries `canisterId=` (dropped before the canister sees it). */
  via: 'host' | 'query' | 'referer';
}

/**
 * The canister a request addresses, or undefined when it names none. Throws GatewayError
 * (ERR_BAD_REQUEST, 400) for a malformed Host header or a `canisterId` that is not a canister id.
 */
export function canisterAddress(headers: { host?: string; referer?: string }, url: string): CanisterAddress | undefined {
  const host = fromHost(headers.host);
  if (host) return { canisterId: host, via: 'host' };
  const query = fromQuery(url, 'the canisterId parameter');
  if (query) return { canisterId: query, via: 'query' };
  let referer: string | undefined;
  try {
    referer = fromQuery(headers.referer, 'the Referer');
  } catch {
    referer = undefined; // a foreign page's Referer says nothing about this request
  }
  if (referer) return { canisterId: referer, via: 'referer' };
  return undefined;
}

/** The URL the canister sees: path and query without the gateway's `canisterId` parameter. */
export function canisterUrl(url: string): string {
  checkRequestTarget(url);
  const [beforeFragment] = url.split('#');
  const query = beforeFragment.indexOf('?');
  if (query < 0) return beforeFragment;
  const params = new URLSearchParams(beforeFragment.slice(query + 1));
  if (!params.has('canisterId')) return beforeFragment; // passed on exactly as sent
  params.delete('canisterId');
  const rest = params.toString();
  return `${beforeFragment.slice(0, query)}${rest ? `?${rest}` : ''}`;
}
