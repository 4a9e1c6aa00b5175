// Runs one Motoko compilation in a fresh process (the compiler keeps global state: switching
// persistence modes in one process breaks it, and a build holds ~1 GB we want back afterwards).
// Input (argv[2]): JSON { entry, mode, files: {path: source}, out: {wasm, did, most} }.
// Output: files written atomically; on a compile error, JSON diagnostics on stdout and exit 2.
'use strict';
const fs = require('node:fs');
const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const mo = require('motoko');
mo.loadPackage(require('motoko/packages/latest/core.json'));
for (const [path, source] of Object.entries(job.files)) mo.write(path, source);
// 'classicOP' = classic persistence (wasm32, pre/post_upgrade serialisation);
// 'enhancedOP' = enhanced orthogonal persistence (wasm64), the compiler's default.
mo.compiler.gcFlags(job.mode === 'classic' ? 'classicOP' : 'enhancedOP');
let result;
try {
  result = mo.wasm(job.entry, 'ic');
} catch (error) {
  const diagnostics = mo.check(job.entry).filter((d) => d.severity === 1);
  process.stdout.write(JSON.stringify({ message: String(error?.message ?? error), diagnostics }));
  process.exit(2);
}
function writeAtomically(path, data) {
  const tmp = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, path);
}
writeAtomically(job.out.did, result.candid);
writeAtomically(job.out.most, result.stable ?? '');
writeAtomically(job.out.wasm, Buffer.from(result.wasm)); // last: its presence marks a complete entry
