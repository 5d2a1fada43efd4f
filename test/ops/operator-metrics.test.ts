import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/protocol/password-hash.js';
import type { AttemptReport } from '../../src/queue/attempt-runner.js';
import { sampleMessage } from '../helpers/hermod-harness.js';
import { startScriptedMta, type ScriptedMta } from '../helpers/scripted-mta.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { outboundMessage, startOutboundHermod, waitFor, type OutboundHarness } from '../queue/outbound-fixture.js';

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in Prometheus text format, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function authPlain(port: number, user: string, pass: string): Promise<number> {
  const c = await RawSmtpClient.open(port);
  await c.reply();
  await c.command('EHLO client.test');
  const reply = await c.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`);
  await c.command('QUIT');
  return reply.code;
}

let mta: ScriptedMta;
let env: OutboundHarness;
let ops: number;

beforeAll(async () => {
  mta = await startScriptedMta({
    script: { 'busy@remote.test': ['450 4.2.0 Mailbox busy'], 'gone@remote.test': ['550 5.1.1 No such user'] },
  });
  env = await startOutboundHermod(mta.port, {
    ops: { enabled: true, port: 0 },
    submission: { enabled: true, port: 0, allowPlaintextAuthOnLoopback: true },
    // One attempt, then the deferred job waits long enough to be seen in the queue.
    queue: { retry: { firstMs: 3_600_000 } },
  });
  ops = env.hermod.server.ops!.port;
  await env.hermod.server.services.store.setPassword('alice@example.test', await hashPassword('s3cret'));
});

afterAll(async () => {
  await env?.stop();
  await mta?.stop();
});

describe('operator metrics', () => {
  it('counts outbound recipients by outcome and reason class, and the queue depth by state and domain', async () => {
    const rcpts = ['ok@remote.test', 'busy@remote.test', 'gone@remote.test'];
    await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients: rcpts, raw: outboundMessage(rcpts) });
    // The remote job is deferred; the bounce for gone@ is delivered locally to alice.
    await waitFor(() => env.reports.some((r: AttemptReport) => r.job.local && r.outcome === 'completed'), 10_000, 'the bounce');
    const text = await scrape(ops);
    const out = (outcome: string, reason: string, destination = 'remote') =>
      sample(text, `hermod_outbound_recipients_total{outcome="${outcome}",reason="${reason}",destination="${destination}"}`);
    expect(out('delivered', 'ok')).toBe(1);
    expect(out('deferred', 'mailbox')).toBe(1);
    expect(out('bounced', 'addressing')).toBe(1);
    expect(out('delivered', 'ok', 'local')).toBe(1);
    expect(sample(text, 'hermod_outbound_attempts_total{outcome="deferred",destination="remote"}')).toBe(1);
    expect(sample(text, 'hermod_queue_depth{state="deferred"}')).toBe(1);
    expect(sample(text, 'hermod_queue_depth{state="queued"}')).toBe(0);
    expect(sample(text, 'hermod_queue_depth{state="held"}')).toBe(0);
    expect(sample(text, 'hermod_queue_depth_by_domain{domain="remote.test"}')).toBe(1);
    expect(sample(text, 'hermod_queue_oldest_age_seconds')).toBeGreaterThan(0);
    // The bounce's bytes went into alice's mailbox.
    expect(sample(text, 'hermod_stored_bytes_total')).toBeGreaterThan(0);
  });

  it('counts submission AUTH successes and failures', async () => {
    const port = env.hermod.server.submission!.port;
    expect(await authPlain(port, 'alice@example.test', 'wrong')).toBe(535);
    expect(await authPlain(port, 'alice@example.test', 's3cret')).toBe(235);
    const text = await scrape(ops);
    expect(sample(text, 'hermod_auth_attempts_total{result="failure"}')).toBe(1);
    expect(sample(text, 'hermod_auth_attempts_total{result="success"}')).toBe(1);
  });

  it('counts bytes received over LMTP, recipients by outcome and reason, plugin verdicts, and reports readiness and a caught-up index', async () => {
    const message = sampleMessage('metered');
    const c = await RawSmtpClient.open(env.hermod.lmtpPort);
    await c.reply();
    await c.command('LHLO client.test');
    await c.command('MAIL FROM:<bob@remote.test>');
    await c.command('RCPT TO:<alice@example.test>');
    await c.command('DATA');
    c.write(`${message}.\r\n`);
    expect((await c.reply()).code).toBe(250);
    await c.command('MAIL FROM:<bob@remote.test>');
    await c.command('RCPT TO:<alice@example.test>');
    await c.command('DATA');
    const spam = sampleMessage('spam', 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X');
    c.write(`${spam}.\r\n`);
    expect((await c.reply()).code).toBe(550);
    await c.command('QUIT');
    const text = await waitFor(async () => {
      const t = await scrape(ops);
      return sample(t, 'hermod_outbox_lag_items') === 0 ? t : undefined;
    }, 10_000, 'the indexer to catch up');
    expect(sample(text, 'hermod_received_bytes_total{listener="lmtp"}')).toBe(Buffer.byteLength(message) + Buffer.byteLength(spam));
    expect(sample(text, 'hermod_inbound_recipients_total{listener="lmtp",outcome="delivered",reason="ok"}')).toBe(1);
    expect(sample(text, 'hermod_inbound_recipients_total{listener="lmtp",outcome="rejected",reason="spam"}')).toBe(1);
    expect(sample(text, 'hermod_plugin_verdicts_total{plugin="parse",stage="data",verdict="continue"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hermod_indexer_lag_seconds')).toBe(0);
    expect(sample(text, 'hermod_ready')).toBe(1);
    for (const check of ['store', 'search', 'queue']) expect(sample(text, `hermod_readiness_check{check="${check}"}`)).toBe(1);
    expect(text).toContain('# TYPE hermod_store_errors_total counter');
    expect(text).toContain('# TYPE hermod_index_errors_total counter');
  });

  it('counts failed search index calls as errors and readiness turns 0', async () => {
    await env.hermod.server.services.search.close();
    const text = await scrape(ops);
    expect(sample(text, 'hermod_ready')).toBe(0);
    expect(sample(text, 'hermod_readiness_check{check="search"}')).toBe(0);
    // The readiness probe itself went through the instrumented index and failed (counted by the next scrape).
    expect(sample(await scrape(ops), 'hermod_index_errors_total{operation="versions"}')).toBeGreaterThanOrEqual(1);
  });

  it('still answers /metrics with the queue backend gone: the queue gauges have no series, its check reads 0', async () => {
    await env.hermod.server.outbound!.worker.stop(1000);
    await env.hermod.server.outbound!.queue.close();
    const text = await scrape(ops);
    expect(sample(text, 'hermod_readiness_check{check="queue"}')).toBe(0);
    expect(sample(text, 'hermod_queue_depth{state="deferred"}')).toBeUndefined();
    expect(text).toContain('# TYPE hermod_queue_depth gauge');
  });
});
