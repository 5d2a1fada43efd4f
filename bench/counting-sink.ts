/**
 * Postfix's smtp-sink in SMTP mode with its running counters on (-c), so the benchmark knows how
 * many messages reached the sink (the counter moves when "." is received): the end of a run is
 * "N messages at the sink", the same test for Hermod and for Postfix.
 */
import { spawn } from 'node:child_process';
import { findTool, freePort, sleep, stopChild, waitForGreeting } from './net-util.js';

/** A running smtp-sink that counts what it was sent. */
export interface CountingSink {
  port: number;
  /** Messages received so far. */
  messages(): number;
  /** Resolves once `count` messages arrived; rejects after `timeoutMs` or if the sink exits. */
  reach(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCountingSink(): Promise<CountingSink> {
  const port = await freePort();
  const args = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(findTool('smtp-sink'), ['-c', ...args, `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let count = 0;
  let tail = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('latin1')).slice(-200);
    const all = [...tail.matchAll(/mesg=(\d+)/g)];
    if (all.length > 0) count = Number(all[all.length - 1][1]);
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  await waitForGreeting('127.0.0.1', port, 10_000, () => (exited() ? 'smtp-sink exited' : null));
  // The greeting probe above is a session too; only messages count.
  return {
    port,
    messages: () => count,
    async reach(target, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (count < target) {
        if (exited()) throw new Error(`smtp-sink exited after ${count} messages`);
        if (Date.now() > deadline) throw new Error(`only ${count} of ${target} messages reached the sink in ${timeoutMs} ms`);
        await sleep(5);
      }
    },
    stop: async () => void (await stopChild(child, 'SIGTERM', 3000)),
  };
}
