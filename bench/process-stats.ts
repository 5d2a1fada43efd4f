/**
 * CPU time and memory of a server process under test, read from Linux /proc.
 *
 * CPU: utime + stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks) at the start and end of
 * the measured window; CPU % = CPU seconds / wall seconds × 100 (100 % = one core busy).
 * Memory: VmHWM from /proc/<pid>/status is the kernel's peak resident set size for the process
 * lifetime; VmRSS is also sampled every 200 ms so the peak within the window is known too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What a sampler reports for one measured window. */
export interface ProcessStats {
  /** CPU seconds (user + system) spent by the process inside the window. */
  cpuSeconds: number;
  /** Wall seconds of the window. */
  wallSeconds: number;
  /** cpuSeconds / wallSeconds × 100. */
  cpuPercent: number;
  /** Kernel's peak RSS (VmHWM) for the process lifetime at the end of the window, MiB. */
  peakRssMiB: number;
  /** Highest VmRSS seen by the 200 ms sampler inside the window, MiB. */
  sampledPeakRssMiB: number;
}

let clockTicks: number | undefined;

/** Clock ticks per second (getconf CLK_TCK; 100 on every common Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system) the process has used so far. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  return (utime + stime) / ticksPerSecond();
}

/** A field of /proc/<pid>/status in kB (VmHWM, VmRSS), converted to MiB. */
export function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/**
 * Starts measuring a process; call `stop()` at the end of the window. Reading errors (the process
 * exited) stop the sampler and surface from `stop()`.
 */
export class ProcessSampler {
  private readonly startCpu: number;
  private readonly startWall: bigint;
  private maxRss = 0;
  private readonly timer: NodeJS.Timeout;
  private error: Error | null = null;

  /** @param pid - process to watch. @param intervalMs - RSS sampling period. */
  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.startCpu = cpuSecondsOf(pid);
    this.startWall = process.hrtime.bigint();
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    try {
      this.maxRss = Math.max(this.maxRss, statusMiB(this.pid, 'VmRSS'));
    } catch (err) {
      this.error = err as Error;
      clearInterval(this.timer);
    }
  }

  /** Ends the window and returns CPU and memory figures for it. */
  stop(): ProcessStats {
    clearInterval(this.timer);
    this.sample();
    if (this.error) throw new Error(`cannot read /proc/${this.pid}: ${this.error.message}`);
    const wallSeconds = Number(process.hrtime.bigint() - this.startWall) / 1e9;
    const cpuSeconds = cpuSecondsOf(this.pid) - this.startCpu;
    return {
      cpuSeconds,
      wallSeconds,
      cpuPercent: (cpuSeconds / wallSeconds) * 100,
      peakRssMiB: statusMiB(this.pid, 'VmHWM'),
      sampledPeakRssMiB: this.maxRss,
    };
  }
}
