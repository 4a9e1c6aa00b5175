// Time as canisters see it (ic0.time: nanoseconds since 1970). Real time by default; a test
// sets or advances it, after which it only moves when told to. Per the spec, time is monotonic.

export class Clock {
  private manualNanos: bigint | undefined;
  private last = 0n;

  constructor(start?: Date | number) {
    if (start !== undefined) this.manualNanos = BigInt(Math.round(start instanceof Date ? start.getTime() : start)) * 1_000_000n;
  }

  get isReal(): boolean {
    return this.manualNanos === undefined;
  }

  /** The current time in nanoseconds, never smaller than a time already handed out. */
  nowNanos(): bigint {
    const t = this.manualNanos ?? BigInt(Date.now()) * 1_000_000n;
    if (t > this.last) this.last = t;
    return this.last;
  }

  /** Freezes time at `ms` (milliseconds since 1970). Moving backwards is refused: the IC's time is monotonic. */
  set(ms: number | Date): void {
    const nanos = BigInt(Math.round(ms instanceof Date ? ms.getTime() : ms)) * 1_000_000n;
    if (nanos < this.last) {
      throw new RangeError(
        `cannot set the time back from ${new Date(Number(this.last / 1_000_000n)).toISOString()} to ${new Date(Number(nanos / 1_000_000n)).toISOString()}: IC time is monotonic`,
      );
    }
    this.manualNanos = nanos;
  }

  /** Freezes time at `nanos` (nanoseconds since 1970), refusing to move backwards. */
  setNanos(nanos: bigint): void {
    if (nanos < this.last) {
      throw new RangeError(`cannot set the time back from ${this.last} ns to ${nanos} ns since 1970: IC time is monotonic`);
    }
    this.manualNanos = nanos;
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`advanceTime(${ms}): time only moves forward`);
    const base = this.manualNanos ?? this.nowNanos();
    this.manualNanos = base + BigInt(Math.round(ms * 1_000_000));
  }
}
