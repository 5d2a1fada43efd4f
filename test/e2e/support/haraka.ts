import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterLayout, haproxyVars, hermodVars, ports, runPlaybook, type Cluster, type Hops } from './deployment.js';
import { run, withSbin } from './tools.js';

/**
 * Loopback addresses of the Haraka deployment, apart from the Postfix one's (127.0.0.2–5), so
 * both end-to-end files can run at once and every hop is visible in what Hermod records.
 */
export const HARAKA_HOPS = { CLIENT: '127.0.0.12', MTA: '127.0.0.13', HAPROXY: '127.0.0.14', HERMOD: '127.0.0.15' } as const satisfies Hops & {
  CLIENT: string;
};

/** The system account the role creates; Haraka runs as it, never as root. */
const HARAKA_USER = 'haraka';

export interface HarakaDeployment extends Cluster {
  /** Where the role installed Haraka (npm ci from haraka/package-lock.json) and its config. */
  harakaDir: string;
  harakaSmtp: number;
}

/**
 * Applies ansible/site.yml with hermod_mx: haraka to localhost, everything under `dir`: the hermod,
 * haproxy and haraka roles, Hermod trusting Haraka's XCLIENT (not XFORWARD), services not started.
 */
export async function applyHarakaDeployment(dir: string): Promise<HarakaDeployment> {
  // Haraka runs as its own user and must reach its directory under dir.
  chmodSync(dir, 0o755);
  for (const sub of ['haproxy', 'haraka']) mkdirSync(join(dir, sub), { mode: 0o755 });
  const cluster = await clusterLayout(dir, HARAKA_HOPS);
  const [harakaSmtp] = await ports(HARAKA_HOPS.MTA, 1);
  const d: HarakaDeployment = { ...cluster, harakaDir: join(dir, 'haraka/app'), harakaSmtp };
  await runPlaybook(dir, {
    ...hermodVars(d, HARAKA_HOPS, 'xclient'),
    // No message fits bob's 1-byte quota: a deferral of one recipient among several.
    hermod_mailboxes: [
      { address: 'alice@example.test', aliases: ['postmaster@example.test'] },
      { address: 'bob@example.test', quota: '1' },
    ],
    ...haproxyVars(d, HARAKA_HOPS),
    hermod_mx: 'haraka',
    ...harakaVars(d),
  });
  return d;
}

function harakaVars(d: HarakaDeployment): Record<string, unknown> {
  const { MTA, HAPROXY } = HARAKA_HOPS;
  return {
    haraka_service_manager: 'none',
    haraka_nodejs_source: 'none',
    haraka_node_bin: process.execPath,
    haraka_user: HARAKA_USER,
    haraka_group: HARAKA_USER,
    haraka_app_dir: d.harakaDir,
    haraka_systemd_dir: join(d.dir, 'haraka/systemd'),
    haraka_me: 'mx.example.test',
    haraka_listen: `${MTA}:${d.harakaSmtp}`,
    haraka_hermod_lookup: `${HAPROXY}:${d.haproxy.lookup}`,
    haraka_hermod_lmtp: `${HAPROXY}:${d.haproxy.lmtp}`,
    haraka_source_address: MTA,
    // Haraka's shortest retry step; the burst test waits for retries after a node dies.
    haraka_retry_intervals: '5s*100',
  };
}

/** Haraka from the role's files, as the role's unprivileged user, logging to `output()`. */
export async function startHaraka(d: HarakaDeployment): Promise<{ child: ChildProcess; output: () => string }> {
  const uid = Number((await run('id', ['-u', HARAKA_USER])).stdout.trim());
  const gid = Number((await run('id', ['-g', HARAKA_USER])).stdout.trim());
  const child = spawn(process.execPath, [join(d.harakaDir, 'node_modules/Haraka/bin/haraka'), '-c', d.harakaDir], {
    cwd: d.harakaDir,
    uid,
    gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    // As the role's unit runs it (vitest's NODE_ENV=test switches Haraka to test behaviour).
    env: { ...withSbin(), NODE_ENV: 'production' },
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

/** Messages in Haraka's outbound queue (accepted, not yet handed to Hermod). */
export function harakaQueue(d: HarakaDeployment): string[] {
  return readdirSync(join(d.harakaDir, 'queue')).filter((f) => !f.startsWith('.') && f !== 'error');
}
