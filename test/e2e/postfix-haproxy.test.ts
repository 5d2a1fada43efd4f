import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxEntry } from '../../src/store/types.js';
import {
  haproxyCommand,
  hermodJson,
  opsGet,
  postfixLog,
  queued,
  sendRetryingTempFailures,
  serverStates,
  startHaproxy,
  startHermodNode,
  startPostfix,
  stopChild,
  stopPostfix,
  swaks,
  waitQueueEmpty,
  waitReady,
  type HermodNode,
} from './support/daemons.js';
import { ADDR, applyDeployment, REPO, type Deployment } from './support/deployment.js';
import { run, shouldRun, waitUntil } from './support/tools.js';

/**
 * The front door, end to end, on one machine: the Ansible roles (hermod, haproxy, postfix)
 * applied to localhost write every configuration; the test starts the daemons from those files:
 *
 *   swaks (127.0.0.2) → Postfix (127.0.0.3) → LMTP → HAProxy (127.0.0.4) → Hermod node1 | node2
 *                         └ socketmap lookups → HAProxy → Hermod
 */
const enabled = shouldRun('e2e postfix → haproxy → hermod');
let d: Deployment;
let dir: string;
const nodes: HermodNode[] = [];
let haproxy: ReturnType<typeof startHaproxy> | undefined;

beforeAll(async () => {
  if (!enabled) return;
  dir = mkdtempSync(join(tmpdir(), 'hermod-e2e-'));
  d = await applyDeployment(dir);
  // One after the other: the nodes share one SQLite file here, and two first starts at once race
  // on its schema set-up.
  for (const ports of d.nodes) {
    const node = startHermodNode(d, ports);
    nodes.push(node);
    await waitReady(node);
  }
  haproxy = startHaproxy(d);
  await waitUntil('HAProxy to see every node UP', 60_000, async () => {
    const states = Object.values(await serverStates(d));
    return states.length === 6 && states.every((s) => s === 'UP') ? true : undefined;
  });
  await startPostfix(d);
}, 300_000);

afterAll(async () => {
  // Also when start failed half-way: stop/abort on a stopped instance is harmless.
  if (d) await stopPostfix(d);
  await stopChild(haproxy?.child);
  await Promise.all(nodes.map((n) => stopChild(n.child)));
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** The entries in alice's mailbox, as `hermod message list --json` prints them. */
function aliceEntries(): Promise<MailboxEntry[]> {
  return hermodJson<MailboxEntry[]>(d, 'node1', ['message', 'list', '--mailbox', 'alice@example.test', '--limit', '1000']);
}

/** swaks → Postfix's SMTP service. */
function viaPostfix(to: string, extra: string[] = []) {
  return swaks(['--server', ADDR.POSTFIX, '--port', String(d.postfixSmtp), '--to', to, ...extra]);
}

/** swaks → HAProxy's SMTP frontend (→ a Hermod node's SMTP listener, with PROXY v2). */
function viaHaproxySmtp(to: string, subject: string) {
  return swaks(['--server', ADDR.HAPROXY, '--port', String(d.haproxy.smtp), '--to', to, '--header', `Subject: ${subject}`]);
}

function transactions(node: HermodNode): Record<string, unknown>[] {
  return node.logs.filter((l) => l.msg === 'transaction');
}

describe.skipIf(!enabled)('Postfix → HAProxy (PROXY v2) → Hermod', { timeout: 240_000 }, () => {
  it('swaks → Postfix → LMTP → HAProxy → Hermod: stored, searchable, client = where swaks connected from', async () => {
    const sent = await viaPostfix('postmaster@example.test', [
      ...['--header', 'Subject: through the front door', '--body', 'Walrus tusks and a lighthouse.'],
    ]);
    expect(sent.code, sent.transcript).toBe(0);
    await waitQueueEmpty(d, 60_000);
    const entry = (await aliceEntries()).find((e) => e.summary.subject === 'through the front door');
    expect(entry, postfixLog(d).slice(-2000)).toBeDefined();
    // The client is swaks, named by Postfix's XFORWARD; not Postfix (PROXY) and not HAProxy (peer).
    expect(entry!.envelope.clientAddress).toBe(ADDR.CLIENT);
    const log = nodes.flatMap(transactions).find((l) => JSON.stringify(l.rcpt).includes(entry!.id));
    expect(log).toMatchObject({ client: ADDR.CLIENT, relay: ADDR.POSTFIX, peer: ADDR.HAPROXY, listener: 'lmtp' });
    const hits = await waitUntil('the indexer', 30_000, async () => {
      const found = await hermodJson<MailboxEntry[]>(d, 'node2', ['search', '--mailbox', 'alice@example.test', 'walrus lighthouse']);
      return found.length > 0 ? found : undefined;
    });
    expect(hits.map((h) => h.id)).toEqual([entry!.id]);
  });

  it('rejects an unknown recipient at RCPT time in Postfix: nothing queued, nothing to bounce', async () => {
    const sent = await viaPostfix('nobody@example.test');
    expect(sent.code).not.toBe(0);
    expect(sent.transcript).toMatch(/-> RCPT TO:<nobody@example\.test>\s*\n<\*\* +550 5\.1\.1 /);
    expect(postfixLog(d)).toMatch(/NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.2\]: 550 5\.1\.1 <nobody@example\.test>/);
    expect(await queued(d)).toEqual([]);
  });

  it('HAProxy SMTP frontend: the PROXY v2 header carries the client address to Hermod', async () => {
    const sent = await viaHaproxySmtp('alice@example.test', 'straight to the smtp frontend');
    expect(sent.code, sent.transcript).toBe(0);
    const entry = (await aliceEntries()).find((e) => e.summary.subject === 'straight to the smtp frontend');
    expect(entry?.envelope.clientAddress).toBe(ADDR.CLIENT);
  });

  it('drains a node through the runtime API: new connections go to the other node only', async () => {
    const before = transactions(nodes[1]).length;
    expect(await haproxyCommand(d, 'set server hermod_smtp/node2 state drain')).toBe('\n');
    try {
      expect((await serverStates(d))['hermod_smtp/node2']).toBe('DRAIN');
      for (let i = 0; i < 4; i++) {
        const sent = await viaHaproxySmtp('alice@example.test', `while node2 drains ${i}`);
        expect(sent.code, sent.transcript).toBe(0);
      }
      expect(transactions(nodes[1]).length).toBe(before);
    } finally {
      await haproxyCommand(d, 'set server hermod_smtp/node2 state ready');
    }
  });

  it('exposes /metrics from the role-written ops config', async () => {
    const metrics = (await opsGet(d.nodes[0].ops, '/metrics')).body + (await opsGet(d.nodes[1].ops, '/metrics')).body;
    expect(metrics).toMatch(/^hermod_transactions_total\{listener="lmtp",outcome="delivered"\} [1-9]/m);
    expect(metrics).toMatch(/^hermod_lookup_duration_seconds_count\{map="mailbox",result="notfound"\} [1-9]/m);
  });

  it('stores all of a 200-message burst exactly once while one node is killed', async () => {
    const before = (await aliceEntries()).length;
    const node1Before = transactions(nodes[0]).length;
    const total = 200;
    let next = 0;
    const failures: string[] = [];
    let tempFailures = 0;
    const sender = async () => {
      while (next < total) {
        const i = next++;
        // A 4xx (e.g. a recipient lookup that hit the node as it died) is retried, as an MTA would.
        const sent = await sendRetryingTempFailures(() =>
          viaPostfix('alice@example.test', ['--header', `Subject: burst ${i}`, '--body', `burst message ${i}`]),
        );
        tempFailures += sent.tempFailures;
        if (sent.code !== 0) failures.push(`${i}: ${sent.transcript.slice(-300)}`);
      }
    };
    const senders = Array.from({ length: 8 }, sender);
    // Kill node1 (no drain: SIGKILL) once it is busy with the burst.
    await waitUntil('node1 to take part in the burst', 120_000, async () =>
      transactions(nodes[0]).length > node1Before && next > 30 ? true : undefined, 50);
    nodes[0].child.kill('SIGKILL');
    await Promise.all(senders);
    expect(failures).toEqual([]);
    await waitQueueEmpty(d, 180_000);

    const burst = (await aliceEntries()).filter((e) => e.summary.subject.startsWith('burst '));
    const subjects = burst.map((e) => e.summary.subject);
    expect(new Set(subjects).size).toBe(total);
    expect(subjects.length).toBe(total);
    expect((await aliceEntries()).length).toBe(before + total);
    // HAProxy took node1 out; node2 carried the rest.
    const states = await serverStates(d);
    expect(states['hermod_lmtp/node1']).toMatch(/DOWN/);
    expect(states['hermod_lmtp/node2']).toBe('UP');
    // How often Postfix had to retry depends on where the kill fell; zero is possible too.
    const deferred = postfixLog(d).split('\n').filter((l) => l.includes('status=deferred')).length;
    console.info(`burst: node1 killed after ${transactions(nodes[0]).length} transactions; Postfix deferred ${deferred} deliveries; 4xx retried by the senders: ${tempFailures}`);
  });
});

describe.skipIf(!enabled)('deployment files', () => {
  it('the postfix role writes every setting postfix/main.cf documents', async () => {
    const keys = async (configDir: string) => {
      const { stdout } = await run('postconf', ['-c', configDir, '-n']);
      return new Set(stdout.split('\n').map((l) => l.split(' = ')[0]).filter(Boolean));
    };
    const documented = await keys(join(REPO, 'postfix'));
    const written = await keys(d.postfixConfigDir);
    expect([...documented].filter((k) => !written.has(k))).toEqual([]);
    // master.cf: the same services (type, flags, command), whatever the service address.
    const services = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => /^[^#\s]/.test(l))
        .map((l) => l.split(/\s+/).slice(1).join(' '));
    expect(services(join(d.postfixConfigDir, 'master.cf')).sort()).toEqual(services(join(REPO, 'postfix/master.cf')).sort());
  });

  it('the haproxy role writes the backends haproxy/haproxy.cfg documents', () => {
    const backends = (text: string) => {
      const out: Record<string, string[]> = {};
      let current = '';
      for (const raw of text.split('\n')) {
        const line = raw.trim();
        if (/^(backend|frontend|listen|defaults|global)\b/.test(raw)) current = raw.startsWith('backend') ? line : '';
        else if (current && line && !line.startsWith('#') && !line.startsWith('source ')) {
          // Server lines: compare the options, not names and addresses.
          const kept = line.startsWith('server ') ? `server … ${line.split(/\s+/).slice(3).join(' ')}` : line;
          (out[current] ??= []).push(kept);
        }
      }
      for (const k of Object.keys(out)) out[k] = [...new Set(out[k])];
      return out;
    };
    const written = backends(readFileSync(d.haproxyConfig, 'utf8'));
    expect(written).toEqual(backends(readFileSync(join(REPO, 'haproxy/haproxy.cfg'), 'utf8')));
  });
});
