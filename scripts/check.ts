// `npm run check` (the first step of `npm test`): types, unhandled promises and formatting, run
// side by side so the step costs about its longest part rather than their sum.
// - astro check: TypeScript's checker over the whole tsconfig.json program, .astro files and every
//   .ts file alike (a type error in replica/src or scripts/ fails it), so no separate `tsc --noEmit`
//   pass repeats that work. `npm run typecheck` is that tsc pass on its own, for editors and habits.
// - ESLint (scripts/lint.ts): reads the same program, including the types astro generates into
//   .astro/, so it starts once astro check has written them (astro rewrites them in place).
// - prettier --check: reads no types, starts at once.
// Each part's output is printed whole when it ends; the exit code is non-zero if any part failed.
import { spawn } from 'node:child_process';
import { delimiter, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const env: NodeJS.ProcessEnv = { ...process.env, PATH: [join(root, 'node_modules/.bin'), process.env.PATH].join(delimiter) };

interface Part {
  title: string;
  command: string;
  args: string[];
  /** Called with each chunk of output, for parts that others wait on. */
  watch?: (text: string) => void;
}

function run(part: Part): Promise<boolean> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(part.command, part.args, { cwd: root, env });
    let output = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      part.watch?.(text);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (err) => {
      output += `${err.message}\n`;
    });
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`\n── ${part.title} ──\n${output}`);
      console.log(code === 0 ? `✔ ${part.title} (${seconds} s)` : `✖ ${part.title} failed after ${seconds} s (exit ${code})`);
      done(code === 0);
    });
  });
}

let typesWritten: () => void = () => {};
const typesReady = new Promise<void>((ready) => (typesWritten = ready));

const astro = run({
  title: 'types (astro check)',
  command: 'astro',
  args: ['check'],
  watch: (text) => {
    if (/\[types\] Generated/.test(text)) typesWritten();
  },
});
void astro.then(() => typesWritten()); // a failed sync still lets ESLint run and report
const results = await Promise.all([
  astro,
  run({ title: 'formatting (prettier --check)', command: 'prettier', args: ['--check', '--cache', '--cache-strategy', 'content', '**/*.{ts,mjs,astro,css}'] }),
  typesReady.then(() => run({ title: 'unhandled promises (ESLint)', command: process.execPath, args: [join(root, 'scripts/lint.ts')] })),
]);
process.exit(results.every(Boolean) ? 0 : 1);
