// A minimal static file server for dist/, used by playwright.config.ts. `astro preview` refuses
// to start while another preview of the same project runs (other engineers share this tree),
// so the browser tests serve the build themselves. Directory URLs map to index.html; unknown
// paths get 404.html with status 404, as a static host would.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const root = join(import.meta.dirname, '../../dist');
const port = Number(process.argv[2] ?? 4329);
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.xml': 'application/xml',
  '.ics': 'text/calendar; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

function resolveFile(pathname: string): string | undefined {
  const path = normalize(join(root, decodeURIComponent(pathname)));
  if (!path.startsWith(root)) return undefined;
  for (const candidate of [path, join(path, 'index.html')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

createServer((request, response) => {
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  // Directory URLs without the trailing slash redirect, as on the asset canister.
  if (!pathname.endsWith('/') && !extname(pathname) && resolveFile(pathname + '/')) {
    response.writeHead(301, { location: pathname + '/' }).end();
    return;
  }
  const file = resolveFile(pathname);
  const status = file ? 200 : 404;
  const served = file ?? join(root, '404.html');
  response.writeHead(status, { 'content-type': types[extname(served)] ?? 'application/octet-stream' });
  createReadStream(served).pipe(response);
}).listen(port, '127.0.0.1', () => console.log(`serving ${root} on http://127.0.0.1:${port}/`));
