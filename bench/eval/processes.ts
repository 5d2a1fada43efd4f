/** Small process helpers for the reference engines: find, spawn, wait for, and stop daemons. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/** A reference engine cannot run here; the reason is printed and the others go on. */
export class EngineUnavailable extends Error {}

/** The full path of a command on PATH (or in /usr/sbin, where Debian puts daemons), or null. */
export function which(command: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not here
    }
  }
  return null;
}

/** The commands, found; EngineUnavailable naming the missing ones and the Debian packages. */
export function requireCommands(commands: string[], packages: string): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const c of commands) {
    const path = which(c);
    if (path) found[c] = path;
    else missing.push(c);
  }
  if (missing.length > 0) {
    throw new EngineUnavailable(`${missing.join(', ')} not installed (Debian: apt-get install -y ${packages})`);
  }
  return found;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on the port; fails after `timeoutMs` or if `proc` exits. */
export async function waitForPort(port: number, timeoutMs: number, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new EngineUnavailable(`daemon exited with status ${proc.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new EngineUnavailable(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

/** Starts a daemon in its own process group (so it and its children stop together), output to a log file. */
export function spawnDaemon(command: string, args: string[], logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  return child;
}

/** Stops a daemon started by {@link spawnDaemon}: SIGTERM to its group, SIGKILL after a grace period. */
export async function stopDaemon(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs a command to completion; rejects with its stderr when it fails. */
export function run(command: string, args: string[], timeoutMs = 30 * 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}
