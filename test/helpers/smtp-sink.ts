/**
 * Postfix's smtp-sink as a receiving MTA for outbound tests: SMTP (not LMTP) on a free loopback
 * port, each message dumped to a file of its own so tests can read what arrived. As root it runs
 * as nobody (smtp-sink refuses root), so the dump directory is world-writable.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, hasProgram } from './daemons.js';

export interface SmtpSink {
  port: number;
  /** Dumps of the messages received so far (smtp-sink's envelope lines, then the message). */
  received(): Buffer[];
  stop(): Promise<void>;
}

export const hasSmtpSink = (): boolean => hasProgram('smtp-sink');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hermod-sink-'));
  chmodSync(dir, 0o777);
  const args = ['-d', join(dir, '%Y%m%d%H%M%S.')];
  if (process.getuid?.() === 0) args.push('-u', 'nobody');
  args.push(`127.0.0.1:${port}`, '128');
  const child = spawn('/usr/sbin/smtp-sink', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`smtp-sink not listening: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    received: () => readdirSync(dir).sort().map((f) => readFileSync(join(dir, f))),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The message in an smtp-sink dump: what follows its X-Client-*, X-Helo/Mail/Rcpt-Args lines. */
export function sinkMessage(dump: Buffer): Buffer {
  const lines = dump.toString('latin1').split('\n');
  let i = 0;
  while (i < lines.length && /^X-(Client-[A-Za-z]+|Helo-Args|Mail-Args|Rcpt-Args):/i.test(lines[i])) i++;
  return Buffer.from(lines.slice(i).join('\n'), 'latin1');
}
