/**
 * Preloaded into Hermod by `npm run bench:hostile` (`--import`): measures, from inside the
 * process, every stretch in which the event loop did not come round, and the CPU the process
 * used during it. A 2 ms interval timer notes the wall time and process.cpuUsage() at each tick;
 * a gap well over the interval is a blocked stretch. The CPU is the whole process's (main thread
 * plus libuv and GC threads: Node 20 has no per-thread figure), so it is an upper bound of the
 * work done on the main thread; wall minus CPU is time the machine's scheduler gave to others.
 *
 * Each stretch of at least STALL_MIN_MS is appended as one JSON line to
 * $BENCH_STALL_DIR/stall-<pid>.jsonl; the bench keeps the stretches that ended inside a case.
 * Plain JavaScript, so Hermod's compiled code runs unchanged.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_STALL_DIR;
const INTERVAL_MS = 2;
const STALL_MIN_MS = 10;

/** CPU time of the main thread in ms (its task id is the process id), or NaN off Linux. */
function mainThreadCpuMs() {
  try {
    return Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

if (dir) {
  const file = join(dir, `stall-${process.pid}.jsonl`);
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  let lastMain = mainThreadCpuMs();
  const tick = () => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const main = mainThreadCpuMs();
    const wallMs = wall - lastWall - INTERVAL_MS;
    if (wallMs >= STALL_MIN_MS) {
      const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      appendFileSync(file, JSON.stringify({ at: Date.now(), wallMs, cpuMs, mainCpuMs: main - lastMain }) + '\n');
    }
    lastWall = performance.now();
    lastCpu = process.cpuUsage();
    lastMain = mainThreadCpuMs();
  };
  setInterval(tick, INTERVAL_MS).unref();
}
