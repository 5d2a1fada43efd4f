/**
 * A fresh Hermod for one benchmark case: its own temp data dir and config (on the embedded default,
 * SQLite store and SQLite FTS5 search, unless an engine profile adds other store/search keys; see
 * engines.ts), the default plugin chain, a domain and mailboxes created through the CLI, then
 * `hermod serve` as a child process, stopped with SIGTERM.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { awaitChildGreeting, freePort, stopChild } from './net-util.js';

const execFileAsync = promisify(execFile);

/** The compiled CLI entry point (`npm run build` produces it). */
export const CLI = resolve('dist/src/cli/main.js');

/**
 * The Node flags Hermod runs with, as package.json `start` and the systemd unit launch it (see
 * README, "Memory"): a 4 MiB semi-space and a 20 % old-generation growth step.
 * BENCH_HERMOD_NODE_FLAGS replaces them, to compare ("" runs V8's defaults) or to profile
 * (add "--cpu-prof --cpu-prof-dir=/tmp/prof").
 * BENCH_EXTRA_YAML is appended to the generated config, to measure a variant of the default
 * (e.g. `plugins: []` for the bare path of intake, store and index).
 */
export const HERMOD_NODE_FLAGS = (process.env.BENCH_HERMOD_NODE_FLAGS ?? '--max-semi-space-size=4 --heap-growing-percent=20').split(' ').filter(Boolean);

/** Domain, mailboxes and sender the benchmark uses. */
export const BENCH_DOMAIN = 'bench.test';
export const LOAD_MAILBOX = `user@${BENCH_DOMAIN}`;
export const LATENCY_MAILBOX = `latency@${BENCH_DOMAIN}`;
/** Receives the unmeasured warm-up messages. */
export const WARMUP_MAILBOX = `warmup@${BENCH_DOMAIN}`;

/** A running Hermod. */
export interface HermodHandle {
  host: string;
  port: number;
  pid: number;
  dir: string;
  configFile: string;
  /** SIGTERM and wait; returns the exit code. */
  stop(): Promise<number | null>;
  /** Last lines of Hermod's own stdout/stderr. */
  logTail(): string;
}

/** The environment for Hermod children: no inherited HERMOD_* overrides may change the setup. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERMOD_')) env[k] = v;
  return env;
}

/**
 * Writes the bench config. Only what a bench needs differs from the defaults: a temp data dir, a
 * free LMTP port, SMTP off, quiet logs, and a per-client connection limit above the session count
 * (all load comes from 127.0.0.1, as it would from one Postfix/HAProxy in front; the default of
 * 20 would refuse a 21st connection while a closing one is still counted).
 */
function writeConfig(dir: string, port: number, sessions: number, engineLines: string[], limitKeys: string): string {
  const file = join(dir, 'hermod.yaml');
  const yaml = [
    `dataDir: ${JSON.stringify(join(dir, 'data'))}`,
    'lmtp: { host: 127.0.0.1, port: ' + port + ', enabled: true }',
    'smtp: { enabled: false }',
    `limits: { maxConnectionsPerClient: ${sessions + 10}${limitKeys ? `, ${limitKeys}` : ''} }`,
    'log: { level: warn }',
    ...engineLines,
    ...(process.env.BENCH_EXTRA_YAML ? [process.env.BENCH_EXTRA_YAML] : []),
    '',
  ].join('\n');
  writeFileSync(file, yaml);
  return file;
}

/** Runs one `hermod` admin command against the bench config. */
export async function hermodCli(configFile: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [CLI, '-c', configFile, ...args], {
      env: cleanEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`hermod ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

/** Creates the bench domain and its mailboxes (unlimited quota) through the CLI. */
async function provisionBench(configFile: string): Promise<void> {
  await hermodCli(configFile, ['domain', 'add', BENCH_DOMAIN]);
  for (const box of [LOAD_MAILBOX, LATENCY_MAILBOX, WARMUP_MAILBOX]) {
    await hermodCli(configFile, ['mailbox', 'add', box, '--quota', '0']);
  }
}

/** Spawns `hermod serve`, teeing its output to <dir>/hermod.log. */
function spawnServe(dir: string, configFile: string): { child: ChildProcess; tail: () => string } {
  const logFile = join(dir, 'hermod.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [...HERMOD_NODE_FLAGS, CLI, '-c', configFile, 'serve'], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const tail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };
  return { child, tail };
}

/**
 * Starts a fresh Hermod in a new temp dir and waits until its LMTP port greets with 220.
 * @param sessions - planned parallel sessions (sets the per-client connection limit).
 * @param engineLines - config lines choosing the storage engines (none: the embedded default).
 * @param provision - create the bench domain and mailboxes first; false for a further node on
 *   shared (distributed) stores that the first node already provisioned.
 * @param limitKeys - further `limits` keys in YAML flow syntax, e.g. `maxMessageBytes: 67108864`.
 */
export async function startHermod(sessions: number, engineLines: string[] = [], provision = true, limitKeys = ''): Promise<HermodHandle> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'hermod-bench-'));
  const host = '127.0.0.1';
  const port = await freePort();
  const configFile = writeConfig(dir, port, sessions, engineLines, limitKeys);
  if (provision) await provisionBench(configFile);
  const { child, tail } = spawnServe(dir, configFile);
  await awaitChildGreeting(
    child,
    host,
    port,
    30_000,
    () => `hermod serve exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${tail()}`,
  );
  return {
    host,
    port,
    pid: child.pid ?? 0,
    dir,
    configFile,
    stop: () => stopChild(child, 'SIGTERM', 40_000),
    logTail: tail,
  };
}

/** Minimal view of the compiled store API used to count what Hermod stored. */
interface StoreApi {
  resolveAddress(address: string): Promise<{ id: string } | null>;
  listEntries(o: { mailboxId: string; limit: number; before?: string }): Promise<{ id: string; sha256: string }[]>;
  close(): Promise<void>;
}

/** What one mailbox holds after a case. */
export interface StoredCount {
  /** Mailbox entries (all folders). */
  entries: number;
  /** Distinct raw-message SHA-256 among them (equal to entries when every message was unique). */
  distinctMessages: number;
}

/**
 * Counts the mailbox entries Hermod stored for each address, through Hermod's own MessageStore
 * (listEntries without a folder, paged). Call after Hermod has stopped.
 */
export async function countStored(configFile: string, addresses: string[]): Promise<Record<string, StoredCount>> {
  const configMod = await import(pathToFileURL(resolve('dist/src/config/load.js')).href);
  const storeMod = await import(pathToFileURL(resolve('dist/src/store/open-store.js')).href);
  const config = configMod.loadConfig({ file: configFile, env: {} });
  const store = (await storeMod.openMessageStore(config)) as StoreApi;
  const counts: Record<string, StoredCount> = {};
  try {
    for (const address of addresses) {
      const box = await store.resolveAddress(address);
      if (!box) throw new Error(`mailbox ${address} not found in the bench store`);
      counts[address] = await countEntries(store, box.id);
    }
  } finally {
    await store.close();
  }
  return counts;
}

/** Pages through a mailbox's entries (newest first) and counts them and their distinct bytes. */
async function countEntries(store: StoreApi, mailboxId: string): Promise<StoredCount> {
  const pageSize = 5000;
  const hashes = new Set<string>();
  let entries = 0;
  let before: string | undefined;
  for (;;) {
    const page = await store.listEntries({ mailboxId, limit: pageSize, before });
    entries += page.length;
    for (const e of page) hashes.add(e.sha256);
    if (page.length < pageSize) return { entries, distinctMessages: hashes.size };
    before = page[page.length - 1].id;
  }
}

/** Removes a bench temp dir (data included). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
