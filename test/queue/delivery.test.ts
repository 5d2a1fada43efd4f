import { join } from 'node:path';
import { authenticate } from 'mailauth';
import { afterEach, describe, expect, it } from 'vitest';
import { DkimKeys, txtRecord } from '../../src/queue/dkim-keys.js';
import { startScriptedMta, type ScriptedMta } from '../helpers/scripted-mta.js';
import { hasSmtpSink, sinkMessage, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { tableResolver } from '../helpers/test-dns-server.js';
import { aliceMessages, deliveryStatus, outboundMessage, startOutboundHermod, waitFor, type OutboundHarness } from './outbound-fixture.js';

let env: OutboundHarness | undefined;
let mta: ScriptedMta | undefined;
let sink: SmtpSink | undefined;
afterEach(async () => {
  await env?.stop();
  await mta?.stop();
  await sink?.stop();
  env = mta = sink = undefined;
});

/** The public half of the domain's DKIM key, as the TXT record mailauth will look up. */
function dkimRecords(keys: DkimKeys, domain: string): Record<string, { TXT: string[] }> {
  const key = keys.forDomain(domain)!;
  const value = [...txtRecord(key).matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
  return { [`${key.selector}._domainkey.${domain}`]: { TXT: [value] } };
}

describe.skipIf(!hasSmtpSink())('outbound delivery into smtp-sink', () => {
  it('delivers to the MX found in DNS, DKIM-signed with the From domain key; mailauth verifies the received copy', async () => {
    sink = await startSmtpSink();
    env = await startOutboundHermod(sink.port);
    const keys = new DkimKeys(join(env.hermod.config.dataDir, 'dkim'));
    keys.generate('example.test', 's2026');
    keys.activate('example.test', 's2026');
    const { service } = env.hermod.server.outbound!;
    await service.submit({ sender: 'alice@example.test', recipients: ['bob@remote.test'], raw: outboundMessage(['bob@remote.test']) });
    await waitFor(() => env!.reports.some((r) => r.outcome === 'completed'), 10_000, 'delivery');
    await waitFor(() => sink!.received()[0]?.includes('Hello from Hermod.'), 5000, 'message at smtp-sink');
    const copy = sinkMessage(sink.received()[0]);
    expect(copy.toString()).toMatch(/^DKIM-Signature: .*d=example\.test/m);
    const result = await authenticate(copy, {
      ip: '127.0.0.1',
      helo: 'localhost',
      sender: 'alice@example.test',
      resolver: tableResolver(dkimRecords(keys, 'example.test')),
      disableArc: true,
      disableBimi: true,
    } as Parameters<typeof authenticate>[1]);
    expect(result.dkim.results[0].status.result).toBe('pass');
    expect(result.dkim.results[0].signingDomain).toBe('example.test');
    expect(env.reports[0].policy).toBe('none');
    expect(await env.hermod.server.outbound!.queue.list()).toEqual([]);
  });

  it('relays through a smarthost (relay.host) instead of MX, with AUTH', async () => {
    sink = await startSmtpSink();
    env = await startOutboundHermod(9, { relay: { host: '127.0.0.1', port: sink.port, auth: { user: 'hermod', pass: 'secret' } } });
    await env.hermod.server.outbound!.service.submit({
      sender: 'alice@example.test',
      recipients: ['x@nowhere.invalid', 'y@elsewhere.invalid'],
      raw: outboundMessage(['x@nowhere.invalid']),
    });
    await waitFor(() => env!.reports.filter((r) => r.outcome === 'completed').length === 2, 10_000, 'two jobs at the smarthost');
    const envelopes = sink.received().map((d) => /^X-Rcpt-Args: <([^>]+)>/m.exec(d.toString())?.[1] ?? d.toString().slice(0, 300)).sort();
    expect(envelopes).toEqual(['x@nowhere.invalid', 'y@elsewhere.invalid']);
    expect(env.reports.every((r) => r.policy === 'smarthost')).toBe(true);
  });
});

describe('outbound delivery: failures, retries and bounces', () => {
  it('keeps per-recipient results apart: 250 delivered, 550 bounced at once, 450 retried alone until accepted', async () => {
    mta = await startScriptedMta({
      script: { 'busy@remote.test': ['450 4.2.0 Mailbox busy', '250'], 'gone@remote.test': ['550 5.1.1 No such user'] },
    });
    env = await startOutboundHermod(mta.port);
    const rcpts = ['ok@remote.test', 'busy@remote.test', 'gone@remote.test'];
    await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients: rcpts, raw: outboundMessage(rcpts, 'mixed') });
    await waitFor(() => env!.reports.some((r) => r.job.domain === 'remote.test' && r.outcome === 'completed'));
    const [first, second] = env.reports.filter((r) => r.job.domain === 'remote.test');
    expect(first.outcome).toBe('deferred');
    expect(first.bounced).toEqual(['gone@remote.test']);
    expect(Object.fromEntries(first.recipients.map((r) => [r.address, r.status]))).toEqual({
      'ok@remote.test': 'delivered',
      'busy@remote.test': 'pending',
      'gone@remote.test': 'failed',
    });
    expect(second.job.attempts).toBe(1);
    // The retry went to the deferred recipient only.
    expect(mta.messages.map((m) => m.to)).toEqual([['ok@remote.test'], ['busy@remote.test']]);
    const [bounce] = await waitFor(() => aliceMessages(env!.hermod).then((m) => (m.length ? m : null)), 10_000, 'bounce in alice');
    expect(bounce.subject).toBe('Undelivered Mail Returned to Sender');
    expect(bounce.headers.get('content-type')).toMatchObject({ value: 'multipart/report', params: { 'report-type': 'delivery-status' } });
    const status = deliveryStatus(bounce);
    expect(status.message.get('reporting-mta')).toBe('dns; localhost');
    expect(status.recipients).toHaveLength(1);
    const r = status.recipients[0];
    expect(r.get('final-recipient')).toBe('rfc822; gone@remote.test');
    expect(r.get('action')).toBe('failed');
    expect(r.get('status')).toBe('5.1.1');
    expect(r.get('diagnostic-code')).toBe('smtp; 550 5.1.1 No such user');
    expect(r.get('remote-mta')).toBe('dns; mx.remote.test[127.0.0.1]');
    const headers = bounce.attachments.find((a) => a.contentType === 'text/rfc822-headers')!.content.toString();
    expect(headers).toMatch(/^Subject: mixed$/m);
  });

  it('retries 421 and connection faults on the schedule, warns of the delay once, then gives up and bounces', async () => {
    mta = await startScriptedMta({ script: { 'slow@remote.test': ['421 4.3.2 Try later'] } });
    env = await startOutboundHermod(mta.port, {
      queue: { retry: { firstMs: 50, factor: 2, maxIntervalMs: 200, giveUpMs: 1200 }, delayWarningMs: 300 },
    });
    const sent = Date.now();
    await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients: ['slow@remote.test'], raw: outboundMessage(['slow@remote.test']) });
    const expired = await waitFor(() => env!.reports.find((r) => r.outcome === 'expired'), 15_000, 'expiry');
    const attempts = env.reports.filter((r) => r.job.domain === 'remote.test');
    // 50, 100, 200, 200, … ms apart until 1.2 s: a handful of attempts, not a busy loop.
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(attempts.length).toBeLessThanOrEqual(12);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(1200);
    expect(attempts.filter((r) => r.warned)).toHaveLength(1);
    expect(expired.bounced).toEqual(['slow@remote.test']);
    const mails = await waitFor(() => aliceMessages(env!.hermod).then((m) => (m.length === 2 ? m : null)), 10_000, 'warning and bounce');
    const bySubject = new Map(mails.map((m) => [m.subject, deliveryStatus(m).recipients[0]]));
    const warning = bySubject.get('Delayed Mail (still being retried)')!;
    expect(warning.get('action')).toBe('delayed');
    expect(warning.get('status')).toMatch(/^4\./);
    expect(warning.get('will-retry-until')).toBeTruthy();
    const failure = bySubject.get('Undelivered Mail Returned to Sender')!;
    expect(failure.get('action')).toBe('failed');
    expect(failure.get('diagnostic-code')).toMatch(/421 4\.3\.2 Try later \(delivery time expired\)/);
  });

  it('never sends a bounce to the null sender', async () => {
    mta = await startScriptedMta({ script: { 'gone@remote.test': ['550 5.1.1 No such user'] } });
    env = await startOutboundHermod(mta.port);
    await env.hermod.server.outbound!.service.submit({ sender: '', recipients: ['gone@remote.test'], raw: outboundMessage(['gone@remote.test']) });
    const report = await waitFor(() => env!.reports.find((r) => r.outcome === 'completed'));
    expect(report.bounced).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await env.hermod.server.outbound!.queue.list()).toEqual([]);
    expect(env.hermod.logs.some((l) => l.msg === 'no notification for the null sender; dropped')).toBe(true);
  });

  it('delivers local recipients straight into the store through the inbound pipeline', async () => {
    mta = await startScriptedMta();
    env = await startOutboundHermod(mta.port);
    const rcpts = ['alice@example.test', 'nobody@example.test', 'bob@remote.test'];
    await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients: rcpts, raw: outboundMessage(rcpts, 'to myself') });
    await waitFor(() => env!.reports.some((r) => r.job.domain === 'remote.test' && r.outcome === 'completed'));
    const local = env.reports.find((r) => r.job.local && r.job.sender !== '')!;
    expect(local.policy).toBe('local');
    expect(Object.fromEntries(local.recipients.map((r) => [r.address, r.lastResponse?.slice(0, 9)]))).toEqual({
      'alice@example.test': '250 2.0.0',
      'nobody@example.test': '550 5.1.1',
    });
    const store = env.hermod.server.services.store;
    const mailbox = (await store.resolveAddress('alice@example.test'))!;
    const entries = await waitFor(() => store.listEntries({ mailboxId: mailbox.id, limit: 10 }).then((e) => (e.length >= 2 ? e : null)));
    const own = entries.find((e) => e.summary.subject === 'to myself')!;
    expect((await store.getLedger(own.id)).map((l) => l.plugin)).toContain('parse');
    expect(mta.messages.map((m) => m.to)).toEqual([['bob@remote.test']]);
  });
});
