// What a developer sees: one line per executed message (`name.method (caller) -> outcome,
// duration`), debug_print lines prefixed with the canister, traps with the Wasm function.
// Verbosity: quiet (nothing), normal (messages from users and traps; debug prints), verbose
// (also inter-canister messages, callbacks and system tasks). Repeated identical lines are
// collapsed into one "(repeated N times)" line.

export type LogLevel = 'quiet' | 'normal' | 'verbose';

export interface LogEvent {
  kind: 'message' | 'debug' | 'trap' | 'info';
  /** Which level is needed to show it. */
  level: 'normal' | 'verbose';
  text: string;
}

export type LogSink = (line: string, event: LogEvent) => void;

export class ReplicaLog {
  level: LogLevel;
  private sink: LogSink;
  private lastLine = '';
  private repeats = 0;

  constructor(level: LogLevel = 'normal', sink?: LogSink) {
    this.level = level;
    this.sink = sink ?? ((line) => console.log(line));
  }

  emit(event: LogEvent): void {
    if (this.level === 'quiet') return;
    if (event.level === 'verbose' && this.level !== 'verbose') return;
    if (event.text === this.lastLine) {
      this.repeats++;
      return;
    }
    this.flushRepeats();
    this.lastLine = event.text;
    this.sink(event.text, event);
  }

  private flushRepeats(): void {
    if (this.repeats > 0) this.sink(`  (repeated ${this.repeats} more time${this.repeats === 1 ? '' : 's'})`, { kind: 'info', level: 'normal', text: '' });
    this.repeats = 0;
  }

  debugPrint(canisterName: string, text: string): void {
    this.emit({ kind: 'debug', level: 'normal', text: `[${canisterName}] ${text}` });
  }

  info(text: string): void {
    this.emit({ kind: 'info', level: 'normal', text });
  }
}

export function formatDuration(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function formatInstructions(n: bigint): string {
  const v = Number(n);
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)}B instr`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M instr`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}K instr`;
  return `${v} instr`;
}
