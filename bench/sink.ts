/**
 * Postfix's smtp-sink as the protocol ceiling: it speaks LMTP (-L), accepts every message and
 * throws it away, so the same smtp-source load against it measures what the client, the loopback
 * network and the protocol exchange alone allow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { awaitChildGreeting, findTool, freePort, stopChild } from './net-util.js';

/** A running smtp-sink. */
export interface SinkHandle {
  host: string;
  port: number;
  pid: number;
  /** Whether the sink speaks LMTP (-L); false would mean the sink case ran over SMTP. */
  lmtp: boolean;
  stop(): Promise<void>;
}

/**
 * Starts smtp-sink on a free loopback port in LMTP mode and waits for its 220 greeting.
 * smtp-sink refuses to run as root without -u; it then drops to the `nobody` user.
 * @param backlog - listen(2) backlog, also used for smtp-sink's -m (max simultaneous connections).
 */
export async function startSink(backlog = 256): Promise<SinkHandle> {
  const host = '127.0.0.1';
  const port = await freePort();
  const args = ['-L', '-m', String(backlog)];
  if (process.getuid?.() === 0) args.push('-u', 'nobody');
  args.push(`inet:${host}:${port}`, String(backlog));
  const child: ChildProcess = spawn(findTool('smtp-sink'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-2000);
  });
  await awaitChildGreeting(child, host, port, 10_000, () => `smtp-sink exited early: ${stderr.trim()}`);
  return {
    host,
    port,
    pid: child.pid ?? 0,
    lmtp: true,
    async stop() {
      await stopChild(child, 'SIGTERM', 3000);
    },
  };
}
