// The process helper the scripts and tests share: readiness by a line or a port file, failures that
// carry the program's last words, and a stop that does not wait forever.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess, startProcess } from './processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const node = (code: string) => ['-e', code];

describe('startProcess', () => {
  it('is ready when a line matches, and stop ends it with its exit code', async () => {
    const p = await startProcess({
      name: 'echo',
      args: node(
        "console.log('warming up'); setTimeout(() => console.log('ready: http://127.0.0.1:1234'), 50); process.on('SIGTERM', () => process.exit(3)); setInterval(() => {}, 1000);",
      ),
      ready: /ready: (\S+)/,
      timeoutMs: 10_000,
    });
    expect(p.match?.[1]).toBe('http://127.0.0.1:1234');
    expect(p.output()).toContain('warming up');
    expect(await p.stop()).toBe(3);
  });

  it('is ready when its port file appears', async () => {
    const portFile = join(dir, 'port');
    const p = await startProcess({
      name: 'writer',
      args: node(`setTimeout(() => require('node:fs').writeFileSync(${JSON.stringify(portFile)}, '4321\\n'), 50); setInterval(() => {}, 1000);`),
      readyFile: portFile,
      timeoutMs: 10_000,
    });
    await p.kill();
    expect(p.child.signalCode).toBe('SIGKILL');
  });

  it('fails with the last lines of a program that exits before it is ready', async () => {
    await expect(
      startProcess({ name: 'quitter', args: node("console.error('cannot bind'); process.exit(4)"), ready: /ready/, timeoutMs: 10_000 }),
    ).rejects.toThrow(/quitter exited \(4\) before it was ready[^]*cannot bind/);
  });

  it('kills a program that is not ready in time', async () => {
    const error = await startProcess({
      name: 'sleeper',
      args: node('console.log(`pid ${process.pid}`); setInterval(() => {}, 1000);'),
      ready: /never/,
      timeoutMs: 1_000,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/sleeper did not report ready within 1 s[^]*pid \d+/);
    const pid = Number(/pid (\d+)/.exec(error!.message)![1]);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('stops a program that ignores the signal with SIGKILL after the grace period', async () => {
    const p = await startProcess({
      name: 'stubborn',
      args: node("process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);"),
      ready: /up/,
      timeoutMs: 10_000,
    });
    expect(await p.stop('SIGTERM', 300)).toBeNull();
    expect(p.child.signalCode).toBe('SIGKILL');
  });
});

describe('runProcess', () => {
  it('resolves on success and rejects with the end of the log on failure', async () => {
    await runProcess({ name: 'fine', args: node("console.log('done')"), logPath: join(dir, 'fine.log') });
    await expect(
      runProcess({ name: 'broken', args: node("console.error('syntax error on line 3'); process.exit(1)"), logPath: join(dir, 'broken.log') }),
    ).rejects.toThrow(/broken failed \(1\)[^]*syntax error on line 3/);
  });
});
