// The dev identity provider's page under its Content-Security-Policy: the policy allows no inline
// script or style, and the page needs none (its script and its style are files the server serves).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIdentityProvider, type DevIdentityProvider } from './server.ts';

let provider: DevIdentityProvider;
beforeAll(async () => {
  provider = await startDevIdentityProvider({ port: 0 });
});
afterAll(() => provider.close());

describe('dev identity provider', () => {
  it("serves its page with a CSP without 'unsafe-inline', and the page has nothing inline", async () => {
    const response = await fetch(provider.url);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await response.text();
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    // Every script is a file; every stylesheet too.
    for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      expect(match[1]).toMatch(/\bsrc="\/[^"]+"/);
      expect(match[2].trim()).toBe('');
    }
    expect(html).toContain('<link rel="stylesheet" href="/provider.css" />');
  });

  it('serves the files the page loads, from its own origin', async () => {
    const css = await fetch(new URL('/provider.css', provider.url));
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toMatch(/button\s*\{/);
    const script = await fetch(new URL('/provider.ts', provider.url));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});
