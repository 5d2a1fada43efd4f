/**
 * Starts and stops the bare durable reference (reference-server.ts) as a child process, on a free
 * loopback port with a fresh temp dir, so its CPU and RSS are read from /proc like Hermod's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { awaitChildGreeting, freePort, stopChild } from './net-util.js';

/** A running reference server. */
export interface ReferenceHandle {
  host: string;
  port: number;
  pid: number;
  /** Messages it has written (one file each). */
  stored(): number;
  /** SIGTERM, wait, remove its files. */
  stop(): Promise<void>;
}

/** Starts the reference and waits for its 220 greeting. */
export async function startReference(): Promise<ReferenceHandle> {
  const host = '127.0.0.1';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hermod-bench-ref-'));
  const script = resolve('bench/reference-server.ts');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, String(port), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-2000);
  });
  await awaitChildGreeting(child, host, port, 20_000, () => `reference server exited early: ${stderr.trim()}`);
  return {
    host,
    port,
    pid: child.pid ?? 0,
    stored: () => readdirSync(dir).length,
    async stop() {
      await stopChild(child, 'SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
