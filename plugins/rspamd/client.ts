import { request } from 'node:http';
import type { RspamdConfig } from './config.js';

/** The part of rspamd's /checkv2 answer Hermod reads. */
export interface RspamdReply {
  score: number;
  required_score: number;
  action: string;
  is_skipped?: boolean;
  symbols?: Record<string, { name: string; score: number; description?: string; options?: string[] }>;
}

/** Envelope facts rspamd wants as request headers. */
export interface ScanEnvelope {
  ip: string;
  helo: string;
  from: string;
  rcpt: string[];
  queueId: string;
}

/** Thrown when rspamd cannot be reached or answers nonsense; the runner turns it into a tempfail. */
export class RspamdError extends Error {
  readonly code = 'RSPAMD_UNAVAILABLE';
}

function headers(env: ScanEnvelope, config: RspamdConfig, length: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {
    'Content-Length': String(length),
    IP: env.ip,
    'Queue-Id': env.queueId,
  };
  if (env.helo) out.Helo = env.helo;
  if (env.from) out.From = env.from;
  // One Rcpt header per recipient (node writes an array as repeated header lines).
  if (env.rcpt.length) out.Rcpt = env.rcpt;
  if (config.password) out.Password = config.password;
  return out;
}

/** POSTs the message to /checkv2 and returns rspamd's verdict. */
export function checkV2(raw: Buffer, env: ScanEnvelope, config: RspamdConfig): Promise<RspamdReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: config.host, port: config.port, method: 'POST', path: '/checkv2', headers: headers(env, config, raw.length), timeout: config.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new RspamdError(`rspamd: ${err.message}`)));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new RspamdError(`rspamd answered HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
          try {
            const reply = JSON.parse(body) as RspamdReply;
            if (typeof reply.score !== 'number') throw new Error('no score');
            resolve(reply);
          } catch (err) {
            reject(new RspamdError(`rspamd answered something else than a scan result: ${(err as Error).message}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new RspamdError(`rspamd did not answer within ${config.timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof RspamdError ? err : new RspamdError(`rspamd at ${config.host}:${config.port}: ${err.message}`)));
    req.end(raw);
  });
}
