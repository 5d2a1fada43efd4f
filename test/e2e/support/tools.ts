import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** What the end-to-end tests need from the system (Debian packages postfix, haproxy, swaks, ansible). */
export const REQUIRED_TOOLS = ['postfix', 'postconf', 'postqueue', 'haproxy', 'swaks', 'ansible-playbook', 'ansible-lint'];

/** The tools missing here, plus "root" when not running as root (Postfix's master must start as root). */
export function missingTools(): string[] {
  const missing = REQUIRED_TOOLS.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { env: withSbin() }).status !== 0);
  if (process.getuid?.() !== 0) missing.push('root');
  return missing;
}

/**
 * Skip when the tools are missing, unless E2E_REQUIRED is set (CI sets it: a missing tool there
 * is a broken install, not a reason to skip). Not a HERMOD_* name: the CLI would read that as config.
 */
export function shouldRun(suite: string): boolean {
  const missing = missingTools();
  if (missing.length === 0) return true;
  if (process.env.E2E_REQUIRED) throw new Error(`${suite}: missing ${missing.join(', ')} (bash scripts/install-system-deps.sh)`);
  console.warn(`${suite}: skipped, missing ${missing.join(', ')} (bash scripts/install-system-deps.sh)`);
  return false;
}

/**
 * The environment for the processes these tests start: PATH with the sbin directories (where
 * Debian puts postfix and haproxy), and no HERMOD_* variables, which the hermod CLI would read as
 * config keys: the files the roles wrote are the whole configuration.
 */
export function withSbin(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('HERMOD_')));
  const path = env.PATH ?? '/usr/bin:/bin';
  return { ...clean, PATH: `${path}:/usr/sbin:/sbin:/usr/local/sbin` };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion (async: never blocks the test's event loop); never throws on exit status. */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, env: withSbin(options.env), maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Like run, but a non-zero exit is an error that shows the output. */
export async function runOk(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  }
  return result;
}

/** A port that was free on `host` a moment ago. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` every `everyMs` until it returns a value, for at most `timeoutMs`. */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
