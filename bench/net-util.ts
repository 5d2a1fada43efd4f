/**
 * Small network and process helpers shared by the benchmark harness: free ports, waiting for an
 * SMTP/LMTP greeting, locating the Postfix test tools and stopping child processes.
 */
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';

/** Asks the kernel for a free TCP port on 127.0.0.1 (bind to port 0, read it back, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Connects once and resolves with the first line the server sends (or rejects on error/timeout). */
function readGreeting(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port });
    let buf = '';
    const done = (err: Error | null, line?: string): void => {
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      if (err) reject(err);
      else resolve(line ?? '');
    };
    sock.setTimeout(timeoutMs, () => done(new Error('greeting timeout')));
    sock.on('error', (err) => done(err));
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(null, buf.slice(0, nl).trim());
    });
    sock.on('close', () => done(new Error('closed before greeting')));
  });
}

/**
 * Polls host:port until it accepts a connection and greets with a 220 line.
 * @param isAlive - checked between attempts; when it returns a string (a reason), waiting stops.
 */
export async function waitForGreeting(
  host: string,
  port: number,
  timeoutMs: number,
  isAlive: () => string | null = () => null,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    const dead = isAlive();
    if (dead) throw new Error(dead);
    try {
      const line = await readGreeting(host, port, 2000);
      if (line.startsWith('220')) return line;
      lastError = `unexpected greeting: ${line}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${host}:${port} did not greet with 220 within ${timeoutMs} ms (${lastError})`);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Finds a Postfix test tool (smtp-source, smtp-sink) on PATH or in the usual Debian location.
 * @throws when the tool is missing, naming the install script.
 */
export function findTool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/lib/postfix/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found (install Postfix: sudo scripts/install-system-deps.sh)`);
}

/**
 * Sends `signal` to a child and waits for it to exit; escalates to SIGKILL after `graceMs`.
 * @returns the exit code (or null when killed by a signal).
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for a freshly spawned server's 220 greeting; if it exits first or never greets, it is
 * killed and the error says why (`describeExit` adds the server's own last words).
 */
export async function awaitChildGreeting(
  child: ChildProcess,
  host: string,
  port: number,
  timeoutMs: number,
  describeExit: () => string,
): Promise<void> {
  const dead = (): string | null => (child.exitCode !== null || child.signalCode !== null ? describeExit() : null);
  try {
    await waitForGreeting(host, port, timeoutMs, dead);
  } catch (err) {
    await stopChild(child, 'SIGKILL', 1000);
    throw err;
  }
}
