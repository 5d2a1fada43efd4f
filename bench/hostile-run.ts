/**
 * `npm run bench:hostile`: what one crafted message costs the whole server.
 *
 * For each case of hostile-cases.ts: a fresh Hermod (embedded default, default plugin chain, ops
 * endpoint on) warmed with one ordinary message, then the case delivered once over LMTP while a probe client opens a new connection every
 * 20 ms and times the greeting. Printed per case: the reply, the largest event-loop delay inside
 * Hermod during the case (prom-client's nodejs_eventloop_lag_max_seconds, fed by
 * perf_hooks.monitorEventLoopDelay and reset at each scrape), the probe's worst greeting latency,
 * RSS growth, the longest blocked stretch seen from inside Hermod (bench/stall-meter.mjs, preloaded)
 * with the CPU spent in it, and whether Hermod still answers afterwards. Each goal is printed beside its figure.
 * Nothing is asserted on time; the exit code is non-zero only when a case broke the server or got
 * a reply that is neither 250 nor a 5xx with an enhanced status code.
 *
 * Usage: npm run bench:hostile -- [--only SUBSTRING] [--deadline-seconds 120] [--max-message-mib 64]
 *
 * A case that gets no reply within the deadline is reported as such (and counts as a failure);
 * its Hermod is then stopped (SIGTERM, then SIGKILL) before the next case starts.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { hostileCases, type HostileCase } from './hostile-cases.js';
import { LOAD_MAILBOX, removeDir, startHermod, type HermodHandle } from './hermod-process.js';
import { freePort } from './net-util.js';
import { ProcessSampler, statusMiB } from './process-stats.js';

const GOAL_STALL_MS = 50;
const GOAL_PROBE_MS = 100;
const PROBE_EVERY_MS = 20;
/** An ordinary small message that warms a fresh Hermod before its case. */
const WARMUP_MESSAGE = Buffer.from(
  'From: sender@hostile.test\r\nTo: user@bench.test\r\nSubject: warm-up\r\nMessage-ID: <warm-up@hostile.test>\r\n' +
    'Date: Fri, 04 Dec 2026 08:00:00 +0000\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <a href="http://example.test/">there</a></p>\r\n',
);

/** Hermod's own work between two turns of its event loop, in CPU ms: small by design, so a busy machine cannot turn it into a stall. */
const GOAL_STRETCH_CPU_MS = 20;

/** Where the preloaded stall meter (stall-meter.mjs) of every Hermod of this run writes. */
const STALL_DIR = mkdtempSync(join(tmpdir(), 'hermod-hostile-stalls-'));

/** What one case measured. */
interface HostileResult {
  name: string;
  sizeMiB: number;
  reply: string;
  maxLoopDelayMs: number;
  worstProbeMs: number;
  /** The median greeting latency of an idle Hermod, just before the case: smtp-server's fixed early-talker pause (100 ms) and the connect. */
  idleProbeMs: number;
  probes: number;
  rssGrowthMiB: number;
  aliveAfter: boolean;
  /** The longest blocked stretch the in-process meter saw during the case: its wall, main-thread and process CPU ms. */
  longestStretch: { wallMs: number; mainCpuMs: number; cpuMs: number };
  /** The most main-thread CPU in any one blocked stretch of the case (the figure the scheduler cannot inflate). */
  maxStretchCpuMs: number;
}

/** One blocked stretch, as stall-meter.mjs records it. */
interface Stretch {
  at: number;
  wallMs: number;
  /** The whole process's CPU (GC and libuv threads included). */
  cpuMs: number;
  /** The main thread's CPU: Hermod's own synchronous work. */
  mainCpuMs: number;
}

/** The stretches of Hermod `pid` that ended between `from` and `to` (epoch ms). */
function stretchesOf(pid: number, from: number, to: number): Stretch[] {
  const file = join(STALL_DIR, `stall-${pid}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Stretch)
    .filter((s) => s.at >= from && s.at <= to);
}

/** Every Hermod this bench starts loads the stall meter (NODE_OPTIONS reaches the child through its environment). */
function preloadStallMeter(): void {
  const meter = pathToFileURL(resolve('bench/stall-meter.mjs')).href;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${meter}`.trim();
  process.env.BENCH_STALL_DIR = STALL_DIR;
}

/** Reads the loop-delay max from Hermod's /metrics, in ms (the scrape also resets it). */
async function scrapeLoopDelayMs(opsPort: number, timeoutMs = 30_000): Promise<number> {
  let text: string;
  try {
    const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch {
    return NaN; // still stalled: the row shows NaN, and the reply column says why
  }
  const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_max_seconds'));
  return line ? Number(line.split(' ')[1]) * 1000 : NaN;
}

/** Connects, waits for the 220 greeting, says QUIT; resolves with the milliseconds it took. */
function probeOnce(port: number, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const finish = (): void => {
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.end('QUIT\r\n');
      resolve(performance.now() - started);
    };
    sock.setTimeout(timeoutMs, finish);
    sock.once('data', finish);
    sock.once('error', finish);
  });
}

/**
 * The idle greeting latency, the reference for the probe figure: smtp-server greets only after a
 * fixed 100 ms pause (it refuses clients that talk before the greeting), so no case can bring
 * the probe under that; what a case costs other clients is the probe's latency above this.
 */
async function idleGreetingMs(port: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await probeOnce(port));
  return times.sort((a, b) => a - b)[2];
}

/** A connection every PROBE_EVERY_MS until stopped, from a worker thread (greeting-probe.mjs); keeps the worst greeting latency. */
async function startProbe(port: number): Promise<{ stop(): Promise<{ worst: number; count: number }> }> {
  const worker = new Worker(new URL('./greeting-probe.mjs', import.meta.url), { workerData: { port, everyMs: PROBE_EVERY_MS } });
  const messages: unknown[] = [];
  let wake: (() => void) | undefined;
  worker.on('message', (m: unknown) => {
    messages.push(m);
    wake?.();
  });
  const next = async (): Promise<unknown> => {
    while (messages.length === 0) await new Promise<void>((r) => (wake = r));
    return messages.shift();
  };
  worker.once('error', (err) => {
    messages.push(err);
    wake?.();
  });
  const first = await next();
  if (first !== 'started') throw new Error(`greeting probe failed: ${String(first)}`);
  return {
    async stop() {
      worker.postMessage('stop');
      const r = await next();
      await worker.terminate();
      if (r instanceof Error) throw r;
      return r as { worst: number; count: number };
    },
  };
}

/**
 * Delivers raw bytes over LMTP with nodemailer's client; resolves with the server's reply text, or
 * with "no reply" once `deadlineMs` has passed (a case that stalls the server must not stall the
 * bench: the server is killed after the case anyway).
 */
async function deliverLmtp(port: number, raw: Buffer, deadlineMs: number): Promise<string> {
  const conn = new SMTPConnection({ host: '127.0.0.1', port, lmtp: true, socketTimeout: deadlineMs });
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('error', reject);
      conn.connect(() => resolve());
    });
    return await new Promise<string>((resolve) => {
      conn.send({ from: 'sender@hostile.test', to: [LOAD_MAILBOX] }, raw, (err, info) => {
        if (err) resolve((err as Error & { response?: string }).response ?? err.message);
        else resolve(info.response ?? '');
      });
    });
  } catch (err) {
    return `connection failed: ${(err as Error).message}`;
  } finally {
    conn.quit();
  }
}

/** Runs one case against a fresh Hermod. */
async function runCase(c: HostileCase, replyDeadlineMs: number, limitKeys: string): Promise<HostileResult> {
  const opsPort = await freePort();
  const hermod: HermodHandle = await startHermod(200, [`ops: { enabled: true, host: 127.0.0.1, port: ${opsPort} }`], true, limitKeys);
  try {
    // One ordinary message first: what the first delivery costs a fresh process (loading and
    // compiling the parser, the plugins, the statements) is not the case's cost.
    const warm = await deliverLmtp(hermod.port, WARMUP_MESSAGE, replyDeadlineMs);
    if (!/^250/.test(warm.trim())) throw new Error(`warm-up message not delivered: ${warm.trim()}`);
    const idleProbeMs = await idleGreetingMs(hermod.port);
    await scrapeLoopDelayMs(opsPort); // resets the max: only the case is measured
    const rssBefore = statusMiB(hermod.pid, 'VmRSS');
    const sampler = new ProcessSampler(hermod.pid, 50);
    const caseStart = Date.now();
    const probe = await startProbe(hermod.port);
    const reply = await deliverLmtp(hermod.port, c.raw, replyDeadlineMs);
    const probed = await probe.stop();
    const stats = sampler.stop();
    const maxLoopDelayMs = await scrapeLoopDelayMs(opsPort);
    const stretches = stretchesOf(hermod.pid, caseStart, Date.now());
    const longest = stretches.reduce((a, b) => (b.wallMs > a.wallMs ? b : a), { at: 0, wallMs: 0, cpuMs: 0, mainCpuMs: 0 });
    const aliveAfter = (await probeOnce(hermod.port, 5000)) < 5000;
    return {
      name: c.name,
      sizeMiB: c.raw.length / (1024 * 1024),
      reply: reply.trim().split('\n')[0],
      maxLoopDelayMs,
      worstProbeMs: probed.worst,
      idleProbeMs,
      probes: probed.count,
      rssGrowthMiB: Math.max(0, stats.sampledPeakRssMiB - rssBefore),
      aliveAfter,
      longestStretch: { wallMs: longest.wallMs, mainCpuMs: longest.mainCpuMs, cpuMs: longest.cpuMs },
      maxStretchCpuMs: Math.max(0, ...stretches.map((x) => x.mainCpuMs)),
    };
  } finally {
    await hermod.stop();
    removeDir(hermod.dir);
  }
}

/** 250, or a 5xx carrying an enhanced status code (5.x.y). */
function acceptableReply(reply: string): boolean {
  return /^250[ -]/.test(reply) || /^5\d\d[ -]5\.\d{1,3}\.\d{1,3}\b/.test(reply);
}

/** One row of the report, each figure with its goal and a verdict. */
function renderRow(r: HostileResult): string {
  const mark = (ok: boolean): string => (ok ? 'ok ' : 'OVER');
  const stall = `${r.maxLoopDelayMs.toFixed(0).padStart(6)} ms ${mark(!(r.maxLoopDelayMs >= GOAL_STALL_MS) && !Number.isNaN(r.maxLoopDelayMs))}`;
  const overIdle = r.worstProbeMs - r.idleProbeMs;
  const probe = `${r.worstProbeMs.toFixed(0).padStart(5)} ms (idle ${r.idleProbeMs.toFixed(0)}, +${overIdle.toFixed(0).padStart(3)} ms ${mark(overIdle < GOAL_PROBE_MS)})`;
  const reply = `${acceptableReply(r.reply) ? 'ok ' : 'BAD'} ${r.reply.slice(0, 60)}`;
  return [
    r.name.padEnd(34),
    `${r.sizeMiB.toFixed(2).padStart(6)} MiB`,
    stall,
    probe,
    `${r.rssGrowthMiB.toFixed(0).padStart(5)} MiB`,
    `${r.longestStretch.wallMs.toFixed(0).padStart(5)}/${r.longestStretch.mainCpuMs.toFixed(0).padStart(3)}/${r.longestStretch.cpuMs.toFixed(0).padStart(3)} ms`,
    `${r.maxStretchCpuMs.toFixed(0).padStart(5)} ms ${mark(r.maxStretchCpuMs < GOAL_STRETCH_CPU_MS)}`,
    r.aliveAfter ? 'alive' : 'DEAD ',
    reply,
  ].join(' | ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, 'deadline-seconds': { type: 'string', default: '120' }, 'max-message-mib': { type: 'string' } },
  });
  // --max-message-mib raises limits.maxMessageBytes, so the bulky case is accepted and its whole
  // path (spool, parse, hashing, the store's blob file) is measured instead of the size refusal.
  const maxMessageMiB = values['max-message-mib'] === undefined ? undefined : Number(values['max-message-mib']);
  if (maxMessageMiB !== undefined && !(maxMessageMiB > 0)) throw new Error('--max-message-mib must be a positive number');
  const limitKeys = maxMessageMiB === undefined ? '' : `maxMessageBytes: ${Math.round(maxMessageMiB * 1024 * 1024)}`;
  const replyDeadlineMs = Number(values['deadline-seconds']) * 1000;
  if (!(replyDeadlineMs > 0)) throw new Error('--deadline-seconds must be a positive number');
  preloadStallMeter();
  const cases = hostileCases().filter((c) => !values.only || c.name.includes(values.only));
  console.log(`bench:hostile: ${cases.length} cases, a fresh Hermod each, probe connection every ${PROBE_EVERY_MS} ms`);
  console.log(`goals: event-loop stall < ${GOAL_STALL_MS} ms, probe greeting < ${GOAL_PROBE_MS} ms above the idle greeting (smtp-server's fixed 100 ms pause), main-thread CPU in any blocked stretch < ${GOAL_STRETCH_CPU_MS} ms, reply 250 or 5xx with an enhanced code, server alive after`);
  console.log('longest stretch: wall / main-thread CPU / process CPU (GC and libuv threads too) of the longest blocked stretch measured inside Hermod; max CPU/stretch: main thread');
  console.log(['case'.padEnd(34), '  size    ', 'max loop delay ', 'worst probe (idle, + over idle)  ', 'RSS +    ', 'longest stretch  ', 'max CPU/stretch', 'after', 'reply'].join(' | '));
  let failures = 0;
  for (const c of cases) {
    const result = await runCase(c, replyDeadlineMs, limitKeys);
    console.log(renderRow(result));
    if (!result.aliveAfter || !acceptableReply(result.reply)) failures++;
  }
  const stalls = 'see the table for the stall and probe goals (figures, not assertions)';
  console.log(failures === 0 ? `every case answered, server alive after each; ${stalls}` : `${failures} case(s) broke the server or got a bad reply`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(`bench:hostile: ${(err as Error).message}`);
  process.exitCode = 1;
});
