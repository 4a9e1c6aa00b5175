// Serves the local development identity provider on its own origin (default
// http://127.0.0.1:4944/). Why here and not as a page of the site:
// - Internet Identity lives on another origin than the sites that use it; auth-client checks the
//   origin of every message against the provider's URL, and the provider's keys sit in its own
//   origin's storage where the site's scripts cannot read them. Another port keeps both true.
// - It must never ship: the site's build is what mainnet serves, and a page that hands out
//   delegations for keys in the visitor's browser has no place there. Only `npm start` runs it.
// The page's TypeScript is served with its types stripped (node:module), so the delegation code
// the browser runs is the same file the unit tests check.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';

const here = import.meta.dirname;

// stripTypeScriptTypes is marked experimental in Node 24 and says so on stderr the first time; that
// line would land in the middle of `npm start`'s progress output, so this one warning is dropped.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
  if (String(warning).includes('stripTypeScriptTypes')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

const files: Record<string, { path: string; type: string; strip?: boolean }> = {
  '/': { path: 'index.html', type: 'text/html; charset=utf-8' },
  '/provider.ts': { path: 'provider.ts', type: 'text/javascript; charset=utf-8', strip: true },
  '/delegation.ts': { path: 'delegation.ts', type: 'text/javascript; charset=utf-8', strip: true },
  '/provider.css': { path: 'provider.css', type: 'text/css; charset=utf-8' },
};

/**
 * Everything the page runs and shows comes from its own files: no inline script, no inline style
 * (index.html links provider.css and loads provider.ts), so nothing injected into the page can run
 * or restyle it. Nothing frames it, and it sends no form and fetches nothing elsewhere.
 */
export const DEV_IDENTITY_CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'none'; frame-ancestors 'none'";

export interface DevIdentityProvider {
  url: string;
  close(): Promise<void>;
}

export function startDevIdentityProvider(options: { host?: string; port?: number } = {}): Promise<DevIdentityProvider> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const file = files[path];
    if (request.method !== 'GET' || !file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path} (this server only serves the dev identity provider at /)`);
      return;
    }
    const text = readFileSync(join(here, file.path), 'utf8');
    response.writeHead(200, {
      'content-type': file.type,
      'cache-control': 'no-store',
      'content-security-policy': DEV_IDENTITY_CSP,
    });
    response.end(file.strip ? stripTypeScriptTypes(text, { mode: 'strip' }) : text);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4944, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolve({
        url: `http://${host}:${port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (import.meta.main) {
  const provider = await startDevIdentityProvider({ port: Number(process.env.PORT ?? 4944) });
  console.log(`dev identity provider: ${provider.url}`);
}
