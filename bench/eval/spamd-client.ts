/** A minimal SPAMD protocol client: SYMBOLS for one message: "Spam: True ; 15.2 / 5.0" and the rules hit. */
import { connect } from 'node:net';

/** spamd's verdict on one message. */
export interface SpamdResult {
  spam: boolean;
  score: number;
  threshold: number;
  /** Names of the rules that hit. */
  symbols: string[];
}

/** Sends `SYMBOLS` for the message to spamd on 127.0.0.1:port and parses the Spam header of the reply. */
export function spamdCheck(port: number, message: Buffer, timeoutMs = 120_000): Promise<SpamdResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`spamd: no answer within ${timeoutMs} ms`)));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => {
      const reply = Buffer.concat(chunks).toString('latin1');
      const status = /^SPAMD\/[\d.]+ (\d+) (.*)$/m.exec(reply);
      if (!status || status[1] !== '0') return reject(new Error(`spamd: ${reply.split('\r\n')[0] || 'empty reply'}`));
      const verdict = /^Spam: (True|False|Yes|No) ; (-?[\d.]+) \/ (-?[\d.]+)/im.exec(reply);
      if (!verdict) return reject(new Error(`spamd: no Spam header in reply: ${reply.slice(0, 200)}`));
      resolve({
        spam: /^(true|yes)$/i.test(verdict[1]),
        score: Number(verdict[2]),
        threshold: Number(verdict[3]),
        symbols: reply.slice(reply.indexOf('\r\n\r\n') + 4).trim().split(',').filter(Boolean),
      });
    });
    socket.once('connect', () => {
      socket.write(`SYMBOLS SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`);
      socket.end(message);
    });
  });
}
