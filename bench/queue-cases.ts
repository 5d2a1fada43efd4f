/**
 * The four kinds of run `npm run bench:queue` times, each against a fresh counting smtp-sink:
 * Postfix delivering a held queue, Postfix's full path (smtp-source → smtpd → queue → sink),
 * Hermod delivering a full queue, and Hermod's full path (smtp-source → submission → queue →
 * sink). Every run ends when the sink has counted every message; a run that loses one fails.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startCountingSink, type CountingSink } from './counting-sink.js';
import { findTool } from './net-util.js';
import { startPostfix } from './postfix-instance.js';

export interface QueueBenchOptions {
  messages: number;
  size: number;
  /** Hermod's workers and per-destination concurrency; Postfix's destination concurrency. */
  workers: number;
  redis: string;
}

/** One timed run. */
export interface RunResult {
  name: string;
  delivered: number;
  seconds: number;
  msgsPerSecond: number;
  error: string | null;
}

const TIMEOUT_MS = 300_000;

/** smtp-source: `count` messages of `size` bytes, distinct recipients (-N), sessions kept (-d). */
export function inject(port: number, count: number, size: number, sessions: number): Promise<void> {
  const args = ['-N', '-d', '-s', String(sessions), '-m', String(count), '-l', String(size), '-f', 'bench@example.test', '-t', 'sink@sink.test', '-M', 'source.bench.test', `127.0.0.1:${port}`];
  return new Promise((resolve, reject) => {
    const child = spawn(findTool('smtp-source'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-500)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smtp-source exited ${code}: ${err.trim()}`))));
  });
}

async function timed(name: string, messages: number, sink: CountingSink, body: (start: () => void) => Promise<void>): Promise<RunResult> {
  let started = 0;
  try {
    await body(() => (started = performance.now()));
    await sink.reach(messages, TIMEOUT_MS);
    const seconds = (performance.now() - started) / 1000;
    const delivered = sink.messages();
    return { name, delivered, seconds, msgsPerSecond: delivered / seconds, error: null };
  } catch (err) {
    return { name, delivered: sink.messages(), seconds: 0, msgsPerSecond: 0, error: (err as Error).message };
  }
}

/** Postfix: `full` = smtp-source into smtpd while delivering; else a held queue released at t0. */
export async function runPostfix(full: boolean, opts: QueueBenchOptions): Promise<RunResult> {
  const sink = await startCountingSink();
  const name = full ? 'postfix full path' : 'postfix delivery';
  let postfix: Awaited<ReturnType<typeof startPostfix>> | null = null;
  try {
    postfix = await startPostfix(sink.port, { hold: !full, concurrency: opts.workers });
    const pf = postfix;
    return await timed(name, opts.messages, sink, async (start) => {
      if (full) {
        start();
        await inject(pf.port, opts.messages, opts.size, opts.workers);
        return;
      }
      await inject(pf.port, opts.messages, opts.size, opts.workers);
      // smtpd has replied 250 for each; cleanup may still be writing the last queue files.
      const deadline = Date.now() + 30_000;
      while (pf.queued() < opts.messages && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (pf.queued() !== opts.messages) throw new Error(`${pf.queued()} of ${opts.messages} messages held`);
      start();
      await pf.release();
    });
  } catch (err) {
    return { name, delivered: 0, seconds: 0, msgsPerSecond: 0, error: (err as Error).message };
  } finally {
    await postfix?.stop();
    await sink.stop();
  }
}

function message(i: number, size: number): Buffer {
  const head = `From: <bench@example.test>\r\nTo: <sink@sink.test>\r\nSubject: bench ${i}\r\nMessage-Id: <${i}.${Date.now()}@bench.test>\r\n\r\n`;
  const line = 'X'.repeat(78) + '\r\n';
  const body = `${i}` + line.repeat(Math.ceil(size / line.length)).slice(0, Math.max(0, size - String(i).length));
  return Buffer.from(head + body + '\r\n');
}

/** Hermod: `full` = smtp-source into the submission listener; else a full queue, worker started at t0. */
export async function runHermod(driver: 'sqlite' | 'bullmq', full: boolean, opts: QueueBenchOptions): Promise<RunResult> {
  const sink = await startCountingSink();
  const dataDir = mkdtempSync(join(tmpdir(), `hermod-bench-queue-${driver}-`));
  const prefix = `hermod-bench-${process.pid}-${Date.now().toString(36)}`;
  const name = `hermod ${driver} ${full ? 'full path' : 'delivery'}`;
  let server: RunningServer | null = null;
  try {
    server = await startServer(benchConfig(driver, dataDir, prefix, sink.port, opts), pino({ level: 'silent' }), { banner: false });
    const s = server;
    const outbound = s.outbound!;
    return await timed(name, opts.messages, sink, async (start) => {
      if (full) {
        start();
        await inject(s.submission!.port, opts.messages, opts.size, opts.workers);
        return;
      }
      await outbound.worker.stop(10_000);
      for (let i = 0; i < opts.messages; i++) {
        await outbound.service.submit({ sender: 'bench@example.test', recipients: [`${i}sink@sink.test`], raw: message(i, opts.size) });
      }
      start();
      outbound.worker.start();
    });
  } catch (err) {
    return { name, delivered: 0, seconds: 0, msgsPerSecond: 0, error: (err as Error).message };
  } finally {
    await server?.close();
    await sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (driver === 'bullmq') await dropKeys(opts.redis, prefix);
  }
}

function benchConfig(driver: 'sqlite' | 'bullmq', dataDir: string, prefix: string, sinkPort: number, opts: QueueBenchOptions) {
  return loadConfig({
    env: {},
    overrides: {
      dataDir,
      lmtp: { port: 0 },
      smtp: { port: 0 },
      log: { level: 'silent' },
      submission: { enabled: true, port: 0, trustedNetworks: ['127.0.0.0/8'] },
      relay: { host: '127.0.0.1', port: sinkPort },
      dkim: { enabled: false },
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
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
