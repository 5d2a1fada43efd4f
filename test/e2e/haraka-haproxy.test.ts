import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import type { MailboxEntry } from '../../src/store/types.js';
import { hermodJson, sendRetryingTempFailures, serverStates, startHaproxy, startHermodNode, stopChild, swaks, waitReady, type HermodNode } from './support/daemons.js';
import { REPO } from './support/deployment.js';
import { applyHarakaDeployment, HARAKA_HOPS, harakaQueue, startHaraka, type HarakaDeployment } from './support/haraka.js';
import { runOk, shouldRun, waitUntil } from './support/tools.js';

/**
 * Haraka as the front door, end to end, on one machine: ansible/site.yml with hermod_mx: haraka
 * applied to localhost writes every configuration (and installs Haraka with npm ci from
 * haraka/package-lock.json); the test starts the daemons from those files:
 *
 *   swaks (127.0.0.12) → Haraka (127.0.0.13) → LMTP + XCLIENT → HAProxy (127.0.0.14) → Hermod node1 | node2
 *                          └ RCPT: socketmap lookups → HAProxy → Hermod
 */
const enabled = shouldRun('e2e haraka → haproxy → hermod');
const { CLIENT, MTA: HARAKA, HAPROXY, HERMOD } = HARAKA_HOPS;
let d: HarakaDeployment;
let dir: string;
const nodes: HermodNode[] = [];
let haproxy: ReturnType<typeof startHaproxy> | undefined;
let haraka: Awaited<ReturnType<typeof startHaraka>> | undefined;

beforeAll(async () => {
  if (!enabled) return;
  dir = mkdtempSync(join(tmpdir(), 'hermod-e2e-haraka-'));
  const started = Date.now();
  d = await applyHarakaDeployment(dir);
  console.info(`haraka e2e: playbook applied in ${Math.round((Date.now() - started) / 1000)} s`);
  // One after the other: the nodes share one SQLite file here, and two first starts at once race
  // on its schema set-up.
  for (const ports of d.nodes) {
    const node = startHermodNode(d, ports);
    nodes.push(node);
    await waitReady(node, HERMOD);
  }
  haproxy = startHaproxy(d);
  await waitUntil('HAProxy to see every node UP', 60_000, async () => {
    const states = Object.values(await serverStates(d));
    return states.length === 6 && states.every((s) => s === 'UP') ? true : undefined;
  });
  haraka = await startHaraka(d);
  await waitUntil('Haraka to listen', 60_000, async () => {
    if (haraka!.child.exitCode !== null) throw new Error(`Haraka exited: ${haraka!.output().slice(-3000)}`);
    return haraka!.output().includes('Listening on') ? true : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${haraka!.output().slice(-3000)}`);
  });
}, 600_000);

afterAll(async () => {
  await stopChild(haraka?.child);
  await stopChild(haproxy?.child);
  await Promise.all(nodes.map((n) => stopChild(n.child)));
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

// A failure shows what Haraka and HAProxy said: the hops the assertions cannot see into.
beforeEach(() => {
  onTestFailed(() => {
    console.info(`haraka:\n${haraka?.output().slice(-6000)}\nhaproxy:\n${haproxy?.output().slice(-2000)}`);
  });
});

function entries(mailbox: string): Promise<MailboxEntry[]> {
  return hermodJson<MailboxEntry[]>(d, 'node1', ['message', 'list', '--mailbox', mailbox, '--limit', '1000']);
}

/** swaks from the client address → Haraka. */
function viaHaraka(to: string, extra: string[] = []) {
  return swaks(['--server', HARAKA, '--port', String(d.harakaSmtp), '--helo', 'client.remote.test', '--to', to, ...extra], CLIENT);
}

function transactions(node: HermodNode): Record<string, unknown>[] {
  return node.logs.filter((l) => l.msg === 'transaction');
}

/** Queue files of messages kept deferred on purpose, by the queue time their names start with. */
const parked: string[] = [];

/** Haraka's queue, less the copies parked on purpose. */
function queued(): string[] {
  return harakaQueue(d).filter((f) => !parked.some((p) => f.startsWith(`${p}_`)));
}

async function waitQueueEmpty(timeoutMs: number): Promise<void> {
  await waitUntil('Haraka queue to drain', timeoutMs, async () => (queued().length === 0 ? true : undefined), 500);
}


describe.skipIf(!enabled)('Haraka → HAProxy (PROXY v2) → Hermod', { timeout: 240_000 }, () => {
  it('refuses an unknown recipient at RCPT in Haraka (550 5.1.1): nothing queued', async () => {
    const sent = await viaHaraka('nobody@example.test');
    expect(sent.code).not.toBe(0);
    expect(sent.transcript).toMatch(/-> RCPT TO:<nobody@example\.test>\s*\n<\*\* +550 5\.1\.1 /);
    expect(harakaQueue(d)).toEqual([]);
  });

  it('refuses a recipient outside Hermod\'s domains with 550 5.7.1: nothing queued', async () => {
    const sent = await viaHaraka('someone@elsewhere.test');
    expect(sent.code).not.toBe(0);
    expect(sent.transcript).toMatch(/-> RCPT TO:<someone@elsewhere\.test>\s*\n<\*\* +550 5\.7\.1 Relaying denied/);
    expect(harakaQueue(d)).toEqual([]);
  });

  it('stores the message; the client is swaks (XCLIENT), not Haraka (PROXY) nor HAProxy (peer)', async () => {
    const sent = await viaHaraka('postmaster@example.test', ['--header', 'Subject: through haraka']);
    expect(sent.code, sent.transcript).toBe(0);
    await waitQueueEmpty(30_000);
    const entry = await waitUntil('the entry', 30_000, async () =>
      (await entries('alice@example.test')).find((e) => e.summary.subject === 'through haraka'),
    );
    expect(entry.envelope.clientAddress).toBe(CLIENT);
    const log = nodes.flatMap(transactions).find((l) => JSON.stringify(l.rcpt).includes(entry.id));
    expect(log).toMatchObject({ client: CLIENT, relay: HARAKA, peer: HAPROXY, listener: 'lmtp' });
    const raw = await runOk(d.hermodExec[0], [...d.hermodExec.slice(1), '-c', d.hermodConfig('node1'), 'message', 'show', entry.id, '--raw']);
    // Hermod's Received header names swaks' HELO and address, as Haraka's XCLIENT told them.
    expect(raw.stdout).toMatch(/^Received: from client\.remote\.test \(\[127\.0\.0\.12\]\)/m);
  });

  it("one recipient's deferral neither fails nor duplicates the other's copy", async () => {
    // No message fits bob's quota (1 byte): Hermod answers him 452 4.2.2, alice 250.
    const sent = await viaHaraka('alice@example.test,bob@example.test', ['--header', 'Subject: alice and bob']);
    expect(sent.code, sent.transcript).toBe(0);
    const subject = (e: MailboxEntry) => e.summary.subject === 'alice and bob';
    await waitUntil("alice's copy", 30_000, async () => ((await entries('alice@example.test')).some(subject) ? true : undefined));
    // Two retry rounds of bob's copy (5 s apart): it stays queued, alice still has one copy.
    await new Promise((r) => setTimeout(r, 12_000));
    const queue = harakaQueue(d);
    expect(queue).toHaveLength(1);
    expect(haraka!.output()).toMatch(/recipient <bob@example\.test> deferred: 452 4\.2\.2/);
    expect((await entries('alice@example.test')).filter(subject)).toHaveLength(1);
    expect((await entries('bob@example.test')).filter(subject)).toHaveLength(0);
    expect(haraka!.output()).not.toMatch(/bouncing mail/);
    // bob's mailbox stays full: his copy stays queued (and retried) for the rest of the run.
    parked.push(queue[0].split('_')[0]);
  });

  it('stores all of a 500-message burst exactly once, none bounced, while one node is killed', async () => {
    const before = (await entries('alice@example.test')).length;
    const node1Before = transactions(nodes[0]).length;
    const total = 500;
    let next = 0;
    const failures: string[] = [];
    let tempFailures = 0;
    const sender = async () => {
      while (next < total) {
        const i = next++;
        // A 4xx (e.g. a recipient lookup that hit the node as it died) is retried, as an MTA would.
        const sent = await sendRetryingTempFailures(() =>
          viaHaraka('alice@example.test', ['--header', `Subject: burst ${i}`, '--body', `burst message ${i}`]),
        );
        tempFailures += sent.tempFailures;
        if (sent.code !== 0) failures.push(`${i}: ${sent.transcript.slice(-300)}`);
      }
    };
    const senders = Array.from({ length: 8 }, sender);
    // Kill node1 (no drain: SIGKILL) once it is busy with the burst.
    await waitUntil('node1 to take part in the burst', 120_000, async () =>
      transactions(nodes[0]).length > node1Before + 20 && next > 60 ? true : undefined, 50);
    nodes[0].child.kill('SIGKILL');
    await Promise.all(senders);
    expect(failures).toEqual([]);
    await waitQueueEmpty(120_000);

    const all = await entries('alice@example.test');
    const subjects = all.filter((e) => e.summary.subject.startsWith('burst ')).map((e) => e.summary.subject);
    expect(new Set(subjects).size).toBe(total);
    expect(subjects.length).toBe(total);
    expect(all.length).toBe(before + total);
    expect(haraka!.output()).not.toMatch(/bouncing mail/);
    const states = await serverStates(d);
    expect(states['hermod_lmtp/node1']).toMatch(/DOWN/);
    const deferred = (haraka!.output().match(/temp fail|deferred/gi) ?? []).length;
    console.info(`haraka burst: node1 killed after ${transactions(nodes[0]).length} transactions; Haraka deferral log lines: ${deferred}; 4xx retried by the senders: ${tempFailures}`);
  });

  it('answers 4xx when no Hermod node is up, and keeps nothing half-delivered', async () => {
    const before = (await entries('alice@example.test')).length;
    nodes[1].child.kill('SIGKILL');
    await nodes[1].exited;
    const sent = await viaHaraka('alice@example.test', ['--header', 'Subject: while hermod is down']);
    expect(sent.code).not.toBe(0);
    expect(sent.transcript).toMatch(/-> RCPT TO:<alice@example\.test>\s*\n<\*\* +451 4\.3\.0 /);
    expect(queued()).toEqual([]);
    expect((await entries('alice@example.test')).length).toBe(before);
  });
});

describe.skipIf(!enabled)('haraka role', () => {
  /** section.key of every setting in an ini file (comments and blank lines aside). */
  function iniKeys(file: string): string[] {
    let section = '';
    const keys: string[] = [];
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith(';') || line.startsWith('#')) continue;
      if (line.startsWith('[')) section = line;
      else keys.push(`${section}${line.split('=')[0].trim()}`);
    }
    return keys;
  }

  it.each(['smtp.ini', 'outbound.ini', 'connection.ini', 'hermod.ini', 'log.ini', 'plugins'])(
    'writes every setting haraka/config/%s documents',
    (file) => {
      const written = new Set(iniKeys(join(d.harakaDir, 'config', file)));
      expect(iniKeys(join(REPO, 'haraka/config', file)).filter((k) => !written.has(k))).toEqual([]);
    },
  );
});
