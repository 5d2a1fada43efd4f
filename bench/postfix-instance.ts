/**
 * A private Postfix instance for `npm run bench:queue`: its own config directory, queue and data
 * directories in a temp dir, smtpd on a free loopback port, everything relayed to one smtp-sink.
 * The system instance (/etc/postfix) is never read or written: every command gets `-c DIR`.
 *
 * Delivery alone is measured like this: with `hold` set, smtpd puts every message it accepts on
 * hold (an access action, `check_client_access static:HOLD`), so the whole load sits in the hold
 * queue untouched; `release()` then runs `postsuper -H ALL` (hold → deferred) and `postqueue -f`
 * (scan now), and the clock runs until the queue is empty. That is Postfix's qmgr and smtp
 * delivering a full queue, as Hermod's worker does when it starts on a full queue.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findTool, freePort, sleep, waitForGreeting } from './net-util.js';

const run = promisify(execFile);

/** A running private Postfix. */
export interface PostfixInstance {
  /** The smtpd port on 127.0.0.1. */
  port: number;
  dir: string;
  /** Moves every held message to the deferred queue and asks qmgr to scan it now. */
  release(): Promise<void>;
  /** Messages in the queue (maildrop, incoming, active, deferred, hold). */
  queued(): number;
  /** Resolves when the queue is empty (polled every `pollMs`), rejects after `timeoutMs`. */
  drained(timeoutMs: number, pollMs?: number): Promise<void>;
  /** `postfix stop`, then the temp dir is removed. Safe to call twice. */
  stop(): Promise<void>;
}

/** The stop functions of the instances still running (for a signal handler). */
const running = new Set<() => Promise<void>>();

/** Stops every private instance still running: the benchmark was interrupted. */
export async function stopAllPostfix(): Promise<void> {
  await Promise.allSettled([...running].map((stop) => stop()));
}

/** Postfix's mail_version, or null when Postfix is not installed. */
export async function postfixVersion(): Promise<string | null> {
  try {
    const { stdout } = await run(findTool('postconf'), ['-d', '-h', 'mail_version']);
    return stdout.trim();
  } catch {
    return null;
  }
}

// The services of Debian's master.cf that a relay needs, none chrooted (a chroot would need
// copies of /etc files inside the temp queue directory).
const MASTER_CF = (port: number) => `127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

function mainCf(dir: string, sinkPort: number, hold: boolean, concurrency: number): string {
  return `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.localdomain
mydomain = localdomain
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:${sinkPort}
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = ${hold ? 'check_client_access static:HOLD, ' : ''}permit_mynetworks, reject
default_destination_concurrency_limit = ${concurrency}
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_connection_rate_limit = 0
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
`;
}

/**
 * Writes the config, creates the queue directory with Postfix's own `set-permissions` and
 * `check`, starts the instance and waits for smtpd's greeting. Needs root (mail_owner postfix).
 * @param concurrency - smtp deliveries to the relay at once (default_destination_concurrency_limit)
 */
export async function startPostfix(sinkPort: number, opts: { hold: boolean; concurrency: number }): Promise<PostfixInstance> {
  if (process.getuid?.() !== 0) throw new Error('a private Postfix needs root (mail_owner = postfix)');
  const dir = mkdtempSync(join(tmpdir(), 'hermod-bench-postfix-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const postfix = findTool('postfix');
  let setup: Promise<unknown> = Promise.resolve();
  const stop = async (): Promise<void> => {
    running.delete(stop);
    // An interruption during set-up waits for the command under way, so no master is started
    // after the stop below; `postfix stop` on an instance that never started just fails.
    await setup.catch(() => undefined);
    await run(postfix, ['-c', dir, 'stop']).catch(() => undefined);
    // master removes its pid file on exit; wait a little so the queue files are not in use.
    for (let i = 0; i < 50 && existsSync(join(dir, 'queue', 'pid', 'master.pid')); i++) await sleep(100);
    // Daemons may still be exiting and removing their own files: retry on ENOTEMPTY.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  running.add(stop);
  try {
    setup = (async () => {
      mkdirSync(join(dir, 'queue'), { mode: 0o755 });
      mkdirSync(join(dir, 'data'), { mode: 0o700 });
      const owner = await run('id', ['-u', 'postfix']).then((r) => Number(r.stdout.trim()));
      chownSync(join(dir, 'data'), owner, -1);
      writeFileSync(join(dir, 'main.cf'), mainCf(dir, sinkPort, opts.hold, opts.concurrency));
      writeFileSync(join(dir, 'master.cf'), MASTER_CF(port));
      await run(postfix, ['-c', dir, 'set-permissions']).catch(() => undefined);
      await run(postfix, ['-c', dir, 'check']);
      await run(postfix, ['-c', dir, 'start']);
    })();
    await setup;
    await waitForGreeting('127.0.0.1', port, 20_000);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    await stop();
    throw new Error(`private Postfix did not start: ${(e.stderr ?? '').trim() || e.message}`);
  }
  const queueDirs = ['maildrop', 'incoming', 'active', 'deferred', 'hold'].map((d) => join(dir, 'queue', d));
  const queued = (): number => queueDirs.reduce((n, d) => n + countFiles(d), 0);
  return {
    port,
    dir,
    queued,
    async release() {
      await run(findTool('postsuper'), ['-c', dir, '-H', 'ALL']);
      await run(findTool('postqueue'), ['-c', dir, '-f']);
    },
    async drained(timeoutMs, pollMs = 20) {
      const deadline = Date.now() + timeoutMs;
      while (queued() > 0) {
        if (Date.now() > deadline) throw new Error(`Postfix queue not empty after ${timeoutMs} ms (${queued()} left)`);
        await sleep(pollMs);
      }
    },
    stop,
  };
}

/** Files below `dir` (the deferred and hold queues may be hashed into subdirectories). */
function countFiles(dir: string): number {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

