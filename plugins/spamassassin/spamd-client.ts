import { connect } from 'node:net';
import type { SpamassassinConfig } from './config.js';

/** spamd's answer: the Spam header's verdict, score and threshold, and the rules that hit. */
export interface SpamdResult {
  spam: boolean;
  score: number;
  required: number;
  /** Rule names, with their scores when the command was REPORT. */
  rules: { name: string; score?: number }[];
}

/** Thrown when spamd cannot be reached or answers with an error; the runner makes it a tempfail. */
export class SpamdError extends Error {
  readonly code = 'SPAMD_UNAVAILABLE';
}

/**
 * A SPAMC/1.5 request: command line, headers, blank line, then the message. Its two parts are
 * written one after the other, so the message is never copied to be sent.
 */
export function spamcRequest(raw: Buffer, config: Pick<SpamassassinConfig, 'command' | 'user'>): [head: Buffer, message: Buffer] {
  const head = [`${config.command} SPAMC/1.5`, `Content-length: ${raw.length}`];
  if (config.user) head.push(`User: ${config.user}`);
  return [Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), raw];
}

const SPAM_HEADER = /^Spam:\s*(True|False|Yes|No)\s*;\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+)/im;
// A REPORT table row: " 2.7 MISSING_DATE  Missing Date: header", "1000 GTUBE ...", "-0.0 NO_RELAYS ...".
const REPORT_ROW = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\b/;

/** Reads the rule table that follows the `---- ----` ruler of a REPORT body. */
export function parseReport(body: string): SpamdResult['rules'] {
  const lines = body.split(/\r?\n/);
  const start = lines.findIndex((l) => /^-{3,}\s+-{3,}/.test(l));
  if (start < 0) return [];
  const rules: SpamdResult['rules'] = [];
  for (const line of lines.slice(start + 1)) {
    const m = REPORT_ROW.exec(line);
    if (m) rules.push({ name: m[2], score: Number(m[1]) });
  }
  return rules;
}

/** Parses a whole SPAMD/1.x response. */
export function parseSpamdResponse(text: string, command: SpamassassinConfig['command']): SpamdResult {
  const status = /^SPAMD\/[\d.]+\s+(\d+)\s+(.*)$/m.exec(text.slice(0, text.indexOf('\n') + 1 || text.length));
  if (!status) throw new SpamdError(`spamd answered something else than SPAMD/1.x: ${JSON.stringify(text.slice(0, 80))}`);
  if (status[1] !== '0') throw new SpamdError(`spamd error ${status[1]} ${status[2].trim()}`);
  const split = text.indexOf('\r\n\r\n');
  const headers = split >= 0 ? text.slice(0, split) : text;
  const body = split >= 0 ? text.slice(split + 4) : '';
  const verdict = SPAM_HEADER.exec(headers);
  if (!verdict) throw new SpamdError('spamd answered without a Spam header');
  const rules =
    command === 'SYMBOLS'
      ? body.split(',').map((name) => name.trim()).filter(Boolean).map((name) => ({ name }))
      : parseReport(body);
  return { spam: /true|yes/i.test(verdict[1]), score: Number(verdict[2]), required: Number(verdict[3]), rules };
}

/** Sends the message to spamd and reads the whole answer (spamd closes after it). */
export function checkWithSpamd(raw: Buffer, config: SpamassassinConfig): Promise<SpamdResult> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: config.host, port: config.port });
    const chunks: Buffer[] = [];
    socket.setTimeout(config.timeoutMs, () => socket.destroy(new SpamdError(`spamd did not answer within ${config.timeoutMs} ms`)));
    socket.on('connect', () => {
      const [head, message] = spamcRequest(raw, config);
      socket.cork();
      socket.write(head);
      socket.end(message);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => reject(err instanceof SpamdError ? err : new SpamdError(`spamd at ${config.host}:${config.port}: ${err.message}`)));
    socket.on('end', () => {
      try {
        resolve(parseSpamdResponse(Buffer.concat(chunks).toString('latin1'), config.command));
      } catch (err) {
        reject(err);
      }
    });
  });
}
