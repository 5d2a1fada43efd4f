/**
 * `npm run bench:queue`: outbound throughput, queued → delivered messages per second into
 * Postfix's smtp-sink, for both queue drivers in one run, with the ratio between them.
 *
 * Usage: npm run bench:queue -- [--messages 2000] [--size 4096] [--workers 20] [--redis URL]
 *
 * Per driver: a fresh Hermod in this process (temp dataDir; SQLite queue in queue.sqlite, or
 * BullMQ on Redis under a fresh key prefix), smarthost mode (`relay.host`) pointing at a fresh
 * smtp-sink on loopback, per-destination concurrency = workers, no DKIM key. The clock starts at
 * the first enqueue and stops when the last job is completed; messages are enqueued as fast as
 * the queue takes them while the worker is already delivering, so the figure is the sustained
 * rate of the whole path (spool, job, claim, SMTP to the sink, settle). Enqueue rate alone is
 * printed too. Each message is distinct (own Message-ID), one recipient, `--size` bytes.
 * BENCH_NO_REUSE=1 turns the connection cache off (delivery.connectionReuse.enabled=false), to
 * see what it is worth on the same machine.
 * Exit code: non-zero only when a driver failed or did not deliver every message.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import type { AttemptReport } from '../src/queue/attempt-runner.js';
import { startServer } from '../src/server.js';
import { findTool, freePort, stopChild, waitForGreeting } from './net-util.js';

interface Options {
  messages: number;
  size: number;
  workers: number;
  redis: string;
}

interface DriverResult {
  driver: 'sqlite' | 'bullmq';
  messages: number;
  delivered: number;
  seconds: number;
  msgsPerSecond: number;
  enqueuePerSecond: number;
  error: string | null;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: { messages: { type: 'string' }, size: { type: 'string' }, workers: { type: 'string' }, redis: { type: 'string' } },
    strict: true,
  });
  const int = (v: string | undefined, d: number) => (v === undefined ? d : Math.max(1, Math.floor(Number(v))));
  return {
    messages: int(values.messages, 2000),
    size: int(values.size, 4096),
    workers: int(values.workers, 20),
    redis: values.redis ?? process.env.HERMOD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6390',
  };
}

/** smtp-sink in SMTP mode on a free loopback port (as nobody when root). */
async function startSink(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const args = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(findTool('smtp-sink'), [...args, `127.0.0.1:${port}`, '256'], { stdio: 'ignore' });
  await waitForGreeting('127.0.0.1', port, 10_000, () => (child.exitCode !== null ? 'smtp-sink exited' : null));
  return { port, stop: async () => void (await stopChild(child, 'SIGTERM', 3000)) };
}

function message(i: number, size: number): Buffer {
  const head = `From: bench@example.test\r\nTo: sink${i}@sink.test\r\nSubject: bench ${i}\r\nMessage-ID: <${i}.${Date.now()}@bench.test>\r\n\r\n`;
  return Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length - 2)) + '\r\n');
}

async function runDriver(driver: 'sqlite' | 'bullmq', opts: Options): Promise<DriverResult> {
  const sink = await startSink();
  const dataDir = mkdtempSync(join(tmpdir(), `hermod-bench-queue-${driver}-`));
  const prefix = `hermod-bench-${process.pid}-${Date.now().toString(36)}`;
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      lmtp: { port: 0 },
      smtp: { port: 0 },
      log: { level: 'silent' },
      relay: { host: '127.0.0.1', port: sink.port },
      ...(process.env.BENCH_NO_REUSE ? { delivery: { connectionReuse: { enabled: false } } } : {}),
      queue: {
        driver,
        bullmq: { url: opts.redis, prefix },
        workers: opts.workers,
        pollMs: 20,
        perDestination: { concurrency: opts.workers },
      },
    },
  });
  const server = await startServer(config, pino({ level: 'silent' }), { banner: false });
  let delivered = 0;
  let failed = 0;
  const done = new Promise<void>((resolveDone) => {
    server.outbound!.worker.on('attempt', (r: AttemptReport) => {
      if (r.outcome === 'completed' && r.recipients.every((x) => x.status === 'delivered')) delivered += 1;
      else failed += 1;
      if (delivered + failed >= opts.messages) resolveDone();
    });
  });
  const started = performance.now();
  try {
    for (let i = 0; i < opts.messages; i++) {
      await server.outbound!.service.submit({ sender: 'bench@example.test', recipients: [`sink${i}@sink.test`], raw: message(i, opts.size) });
    }
    const enqueued = performance.now();
    // The guard timer is cleared, or it alone would keep the process alive for ten minutes.
    let guard: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => (guard = setTimeout(() => reject(new Error('timed out after 600 s')), 600_000)));
    await Promise.race([done, timeout]).finally(() => clearTimeout(guard));
    const seconds = (performance.now() - started) / 1000;
    const error = failed > 0 ? `${failed} job(s) not delivered` : null;
    return { driver, messages: opts.messages, delivered, seconds, msgsPerSecond: delivered / seconds, enqueuePerSecond: opts.messages / ((enqueued - started) / 1000), error };
  } catch (err) {
    return { driver, messages: opts.messages, delivered, seconds: 0, msgsPerSecond: 0, enqueuePerSecond: 0, error: (err as Error).message };
  } finally {
    await server.close();
    await sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (driver === 'bullmq') await dropKeys(opts.redis, prefix);
  }
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

function report(opts: Options, results: DriverResult[]): void {
  const pad = (s: string, n: number) => s.padStart(n);
  console.log('');
  console.log(`queued → delivered into smtp-sink (smarthost mode), ${opts.messages} messages of ${opts.size} B, ${opts.workers} workers, ${cpus().length} CPUs`);
  console.log(`${'driver'.padEnd(8)}${pad('msgs/s', 10)}${pad('enqueue/s', 12)}${pad('seconds', 10)}${pad('delivered', 11)}  error`);
  for (const r of results) {
    console.log(`${r.driver.padEnd(8)}${pad(r.msgsPerSecond.toFixed(1), 10)}${pad(r.enqueuePerSecond.toFixed(1), 12)}${pad(r.seconds.toFixed(2), 10)}${pad(String(r.delivered), 11)}  ${r.error ?? '-'}`);
  }
  const [sqlite, bullmq] = results;
  const ratio = sqlite.msgsPerSecond > 0 ? bullmq.msgsPerSecond / sqlite.msgsPerSecond : null;
  console.log(`bullmq/sqlite ratio: ${ratio === null ? 'n/a' : ratio.toFixed(2)}`);
  const file = resolve('bench/results/queue-latest.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, options: { ...opts, redis: undefined }, results, bullmqToSqliteRatio: ratio }, null, 2) + '\n');
  console.log(`results: ${file}`);
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const results: DriverResult[] = [];
  for (const driver of ['sqlite', 'bullmq'] as const) {
    console.error(`${driver}: ${opts.messages} messages into a fresh smtp-sink`);
    results.push(await runDriver(driver, opts));
  }
  report(opts, results);
  if (results.some((r) => r.error !== null || r.delivered !== r.messages)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(`bench:queue: ${(err as Error).message}`);
  process.exitCode = 2;
});
