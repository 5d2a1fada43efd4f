import { request } from 'node:http';
import { domainToASCII } from 'node:url';
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

/**
 * A header value as bytes on the wire: node writes header strings as latin1, one byte per
 * character, and throws ERR_INVALID_CHAR on anything above U+00FF. So the UTF-8 bytes go in as
 * latin1 characters, and control characters (never valid in a header) are dropped.
 */
export function headerBytes(value: string): string {
  // eslint-disable-next-line no-control-regex
  return Buffer.from(value.replace(/[\u0000-\u001f\u007f]/g, ''), 'utf8').toString('latin1');
}

/** An internationalized domain as rspamd's SMTP parser reads it: A-labels (punycode); as given if not a domain. */
export function asciiDomain(domain: string): string {
  if (/^[\x20-\x7e]*$/.test(domain)) return domain;
  return domainToASCII(domain) || domain;
}

/**
 * An SMTPUTF8 address for rspamd's From/Rcpt headers: the domain as A-labels (rspamd 3.4 refuses
 * U-labels), the local part as UTF-8 bytes (there is no ASCII form of it; rspamd versions that
 * refuse it log "bad from header" and scan without that envelope address rather than failing).
 */
export function envelopeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  const mailbox = at < 0 ? address : `${address.slice(0, at)}@${asciiDomain(address.slice(at + 1))}`;
  return headerBytes(mailbox);
}

function headers(env: ScanEnvelope, config: RspamdConfig, length: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {
    'Content-Length': String(length),
    IP: headerBytes(env.ip),
    'Queue-Id': headerBytes(env.queueId),
  };
  if (env.helo) out.Helo = headerBytes(asciiDomain(env.helo));
  if (env.from) out.From = envelopeAddress(env.from);
  // One Rcpt header per recipient (node writes an array as repeated header lines).
  if (env.rcpt.length) out.Rcpt = env.rcpt.map(envelopeAddress);
  if (config.password) out.Password = headerBytes(config.password);
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
