// How long the replica's own work holds the event loop. A 10 ms probe timer measures how late it
// fires; the process's CPU time over the same stretch says how much of that lateness the process
// spent computing (its own callbacks) rather than waiting for a CPU the operating system gave to
// other processes. The larger of the two is not the replica's fault; the smaller is. Exposed on
// /_/metrics as replica_event_loop_blocked_max_seconds (the worst since the last reset).

const PROBE_MS = 10;

export interface LoopMonitor {
  /** The longest stretch (ms) the event loop was held by this process's own work, since the last take. */
  takeMaxBlockedMs(): number;
  metrics(): string;
  stop(): void;
}

export function startLoopMonitor(): LoopMonitor {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let maxBlocked = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const late = now - last - PROBE_MS;
    // CPU time counts every thread of the process (the BLS worker, GC): an upper bound of the
    // main thread's own share, so this never under-reports a blocked loop.
    const computing = (cpu.user + cpu.system) / 1000;
    const blocked = Math.max(0, Math.min(late, computing));
    if (blocked > maxBlocked) maxBlocked = blocked;
    last = now;
    lastCpu = process.cpuUsage();
  }, PROBE_MS);
  timer.unref();
  return {
    takeMaxBlockedMs() {
      const value = maxBlocked;
      maxBlocked = 0;
      return value;
    },
    metrics() {
      return (
        "# HELP replica_event_loop_blocked_max_seconds Longest time the event loop was held by the replica's own work since the last scrape.\n" +
        '# TYPE replica_event_loop_blocked_max_seconds gauge\n' +
        `replica_event_loop_blocked_max_seconds ${(this.takeMaxBlockedMs() / 1000).toFixed(4)}\n`
      );
    },
    stop: () => clearInterval(timer),
  };
}
