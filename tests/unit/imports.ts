// Reading a module's imports as text, for the structure tests (replica-package.test.ts,
// import-direction.test.ts): fast, no bundler, and good enough for code this repository writes.

/** Static and dynamic import specifiers of a module (type-only imports included: tsc follows them too). */
export function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(
    /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm,
  ))
    found.push(m[1] ?? m[2] ?? m[3]);
  return found;
}

/** The runtime imports only: `import type` and `export type` are erased and bundle nothing. */
export function runtimeSpecifiers(source: string): string[] {
  return specifiers(source.replace(/^\s*(?:import|export)\s+type\s[^;]*;/gm, '').replace(/\btypeof\s+import\(/g, 'typeof load('));
}
