/**
 * Starts the real spam daemons from Debian (rspamd, SpamAssassin's spamd) as child processes on
 * loopback high ports, with network tests off, for the plugin tests. Each runs in its own
 * process group so stop() ends it and every worker it forked, and nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RunningDaemon {
  port: number;
  /** Stops the daemon (TERM, then KILL after 5 s) and removes its files. */
  stop(): Promise<void>;
  /** What the daemon printed, for failure messages. */
  output(): string;
}

/** The program's path: on PATH, or in /usr/sbin where Debian puts daemons (not always on PATH). */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

export const hasProgram = (name: string): boolean => findProgram(name) !== undefined;

/** A port that was free a moment ago. */
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

const isRoot = (): boolean => process.getuid?.() === 0;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(ready: () => Promise<boolean>, child: ChildProcess, name: string, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${log()}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms:\n${log()}`);
}

function launch(command: string, args: string[], dir: string): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  let output = '';
  const child = spawn(findProgram(command) ?? command, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      signalGroup(child, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { child, output: () => output, stop };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/**
 * spamd on 127.0.0.1:<free port>: local tests only (-L, no DNS or network checks), no per-user
 * config (-x), one child. As root it drops to nobody, as spamd wants.
 */
export async function startSpamd(): Promise<RunningDaemon> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hermod-spamd-'));
  const args = ['-L', '-x', `--listen=127.0.0.1:${port}`, '--allowed-ips=127.0.0.1', '--max-children=1', '--min-children=1',
    '--syslog=stderr', `--pidfile=${join(dir, 'spamd.pid')}`];
  if (isRoot()) args.push('-u', 'nobody');
  const daemon = launch('spamd', args, dir);
  try {
    await waitFor(() => canConnect(port), daemon.child, 'spamd', daemon.output, 60_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return { port, stop: daemon.stop, output: daemon.output };
}

function rspamdConfig(port: number): string {
  return `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  # No network: DNS goes to a port nobody answers, and every address counts as local.
  dns { nameserver = ["127.0.0.1:9"]; timeout = 0.1s; retransmits = 1; }
  local_addrs = "0.0.0.0/0, ::/0";
}
logging { type = "console"; level = "error"; }
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  .include "$CONFDIR/worker-normal.inc"
  count = 1;
}
`;
}

async function rspamdPing(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`);
    return res.ok && (await res.text()).trim() === 'pong';
  } catch {
    return false;
  }
}

/**
 * rspamd with only its normal (scanner) worker on 127.0.0.1:<free port>, its own config, data
 * and run directories in a temp dir, DNS pointed at nothing. Loading takes ~10 s.
 */
export async function startRspamd(): Promise<RunningDaemon> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hermod-rspamd-'));
  for (const sub of ['db', 'run', 'local.d']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'rspamd.conf'), rspamdConfig(port));
  const vars = ['LOCAL_CONFDIR', 'DBDIR=db', 'RUNDIR=run', 'LOGDIR'].map((v) => {
    const [name, sub] = v.split('=');
    return `--var=${name}=${sub ? join(dir, sub) : dir}`;
  });
  const args = ['-f', '-c', join(dir, 'rspamd.conf'), ...vars];
  if (isRoot()) args.push('-i', '-u', 'root', '-g', 'root');
  const daemon = launch('rspamd', args, dir);
  try {
    await waitFor(() => rspamdPing(port), daemon.child, 'rspamd', daemon.output, 90_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return { port, stop: daemon.stop, output: daemon.output };
}
