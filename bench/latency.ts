/**
 * Per-message latency sample. smtp-source reports no latency, so it is measured separately: one
 * LMTP connection (nodemailer's SMTPConnection with `lmtp: true`) sends N messages one after the
 * other, each timed from MAIL FROM to the final per-recipient reply after the dot. This is the
 * latency of an otherwise idle server (no parallel load), reported as its own line, not mixed
 * into the throughput figures. Every message is unique (counter + random token in the headers).
 */
import { randomBytes } from 'node:crypto';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

/** Result of one sample. */
export interface LatencySample {
  messages: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Options for one sample. */
export interface LatencyOptions {
  host: string;
  port: number;
  from: string;
  to: string;
  /** Payload bytes (body), like smtp-source -l. */
  size: number;
  /** Messages to send sequentially. */
  count: number;
}

/** Builds a unique message: a few headers and `size` bytes of body in 78-character lines. */
export function buildMessage(size: number, from: string, to: string, seq: number): Buffer {
  const token = `${Date.now().toString(36)}.${seq}.${randomBytes(6).toString('hex')}`;
  const head =
    `From: <${from}>\r\nTo: <${to}>\r\nSubject: latency sample ${seq}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nMessage-ID: <${token}@bench.source.test>\r\n\r\n`;
  const line = 'X'.repeat(78) + '\r\n';
  const full = line.repeat(Math.floor(size / line.length)) + 'X'.repeat(size % line.length);
  return Buffer.from(head + full + '\r\n', 'latin1');
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Opens an LMTP connection and completes LHLO. */
function connect(host: string, port: number): Promise<SMTPConnection> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection({ host, port, lmtp: true, name: 'bench.source.test', ignoreTLS: true });
    conn.once('error', reject);
    conn.connect((err) => (err ? reject(err) : resolve(conn)));
  });
}

/** Sends one message and resolves with its latency in ms; rejects unless the recipient got 2xx. */
function timedSend(conn: SMTPConnection, from: string, to: string, raw: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    conn.send({ from, to: [to] }, raw, (err, info) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (err) reject(err);
      else if (!info || !info.accepted.includes(to)) reject(new Error(`not accepted: ${JSON.stringify(info)}`));
      else resolve(ms);
    });
  });
}

/** Runs one sequential latency sample. */
export async function sampleLatency(opts: LatencyOptions): Promise<LatencySample> {
  const conn = await connect(opts.host, opts.port);
  const times: number[] = [];
  try {
    for (let i = 0; i < opts.count; i++) {
      const raw = buildMessage(opts.size, opts.from, opts.to, i);
      times.push(await timedSend(conn, opts.from, opts.to, raw));
    }
  } finally {
    conn.quit();
    conn.close();
  }
  times.sort((a, b) => a - b);
  return {
    messages: times.length,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times[times.length - 1],
  };
}
