// Which canister a browser request is for (http-gateway-protocol-spec.md, "Canister ID
// resolution", local form): the first label of a `<id>.localhost` host (also `<id>.raw.localhost`
// is *not* offered: every response here is verified), else the `canisterId` query parameter,
// else the `canisterId` of the Referer (so `/_astro/x.js` loaded by `/?canisterId=<id>` still
// reaches the same canister, as dfx's replica did).

const PRINCIPAL_TEXT = /^[a-z0-9]{5}(-[a-z0-9]{1,5})+$/;

function fromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const match = /^([a-z0-9-]+)\.localhost$/.exec(name);
  return match && PRINCIPAL_TEXT.test(match[1]) ? match[1] : undefined;
}

function fromQuery(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const id = new URL(url, 'http://gateway.invalid').searchParams.get('canisterId') ?? undefined;
    return id && PRINCIPAL_TEXT.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

export interface CanisterAddress {
  canisterId: string;
  /** How the id was found; `query` means the URL carries `canisterId=` (dropped before the canister sees it). */
  via: 'host' | 'query' | 'referer';
}

/** The canister a request addresses, or undefined when it names none. */
export function canisterAddress(headers: { host?: string; referer?: string }, url: string): CanisterAddress | undefined {
  const host = fromHost(headers.host);
  if (host) return { canisterId: host, via: 'host' };
  const query = fromQuery(url);
  if (query) return { canisterId: query, via: 'query' };
  const referer = fromQuery(headers.referer);
  if (referer) return { canisterId: referer, via: 'referer' };
  return undefined;
}

/** The URL the canister sees: path and query without the gateway's `canisterId` parameter. */
export function canisterUrl(url: string): string {
  const parsed = new URL(url, 'http://gateway.invalid');
  parsed.searchParams.delete('canisterId');
  const query = parsed.searchParams.toString();
  return `${parsed.pathname}${query ? `?${query}` : ''}`;
}
