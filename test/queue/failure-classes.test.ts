import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptReport } from '../../src/queue/attempt-runner.js';
import { outboundMessage, startOutboundHermod, waitFor, type OutboundHarness } from './outbound-fixture.js';
import { startScriptedPeer, type PeerScript, type ScriptedPeer } from './scripted-peer.js';

let env: OutboundHarness | undefined;
let peer: ScriptedPeer | undefined;
afterEach(async () => {
  await env?.stop();
  await peer?.stop();
  env = peer = undefined;
});

/** One message to the peer (as remote.test's MX, or as the smarthost); resolves the first attempt. */
async function firstAttempt(script: PeerScript, recipients: string[], overrides: Record<string, unknown> = {}): Promise<AttemptReport> {
  peer = await startScriptedPeer(script);
  env = await startOutboundHermod(peer.port, { queue: { retry: { firstMs: 60_000 } }, ...overrides });
  await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients, raw: outboundMessage(recipients) });
  return waitFor(() => env!.reports.find((r) => r.job.domain === 'remote.test'), 10_000, 'first attempt');
}

const statuses = (r: AttemptReport) => Object.fromEntries(r.recipients.map((x) => [x.address, `${x.status} ${x.lastResponse?.slice(0, 3)}`]));

describe('a 5xx before any recipient defers the job, as Postfix does', () => {
  const cases: [string, PeerScript, Record<string, unknown>][] = [
    ['greeting', { greeting: '554 5.3.2 peer.test not accepting mail' }, {}],
    ['EHLO (and the HELO fallback)', { ehlo: '550 5.7.1 go away' }, {}],
    ['STARTTLS required by relay.requireTls', { starttls: '554 5.7.3 TLS not available' }, { tls: true }],
    ['AUTH to a smarthost (a rotated password)', { auth: '535 5.7.8 Authentication credentials invalid' }, { auth: true }],
  ];
  it.each(cases)('%s', async (_stage, script, how) => {
    peer = await startScriptedPeer(script);
    // STARTTLS and AUTH cases go through the peer as a smarthost that requires them.
    const smarthost = { host: '127.0.0.1', port: peer.port, requireTls: !!how.tls, ...(how.auth ? { auth: { user: 'hermod', pass: 'old' } } : {}) };
    env = await startOutboundHermod(peer.port, { queue: { retry: { firstMs: 60_000 } }, ...(how.auth || how.tls ? { relay: smarthost } : {}) });
    await env.hermod.server.outbound!.service.submit({ sender: 'alice@example.test', recipients: ['bob@remote.test'], raw: outboundMessage(['bob@remote.test']) });
    const report = await waitFor(() => env!.reports[0], 10_000, 'first attempt');
    expect(report.outcome).toBe('deferred');
    expect(report.bounced).toEqual([]);
    expect(report.recipients[0]).toMatchObject({ status: 'pending', lastResponse: expect.stringMatching(/^5\d\d /) });
    expect(peer!.messages).toEqual([]);
    const jobs = await env!.hermod.server.outbound!.queue.list();
    expect(jobs.map((j) => [j.sender, j.state])).toEqual([['alice@example.test', 'deferred']]);
  });
});

describe('replies that name recipients stay with them', () => {
  it('4xx and 5xx at RCPT apply to that recipient only', async () => {
    const report = await firstAttempt({ rcpt: { 'gone@remote.test': '550 5.1.1 No such user', 'busy@remote.test': '452 4.2.2 Mailbox full' } }, [
      'ok@remote.test',
      'gone@remote.test',
      'busy@remote.test',
    ]);
    expect(statuses(report)).toEqual({ 'ok@remote.test': 'delivered 250', 'gone@remote.test': 'failed 550', 'busy@remote.test': 'pending 452' });
    expect(report.bounced).toEqual(['gone@remote.test']);
    expect(peer!.messages.map((m) => m.rcptLines.length)).toEqual([1]);
  });

  it('a 5xx after DATA fails the recipients of that transaction, not one refused earlier with a 4xx', async () => {
    const report = await firstAttempt({ afterData: '554 5.6.0 Message content rejected', rcpt: { 'busy@remote.test': '450 4.2.0 busy' } }, [
      'ok@remote.test',
      'also@remote.test',
      'busy@remote.test',
    ]);
    expect(statuses(report)).toEqual({ 'ok@remote.test': 'failed 554', 'also@remote.test': 'failed 554', 'busy@remote.test': 'pending 450' });
    expect(report.outcome).toBe('deferred');
    expect(report.bounced.sort()).toEqual(['also@remote.test', 'ok@remote.test']);
  });

  it('a 4xx after DATA defers the recipients of that transaction', async () => {
    const report = await firstAttempt({ afterData: '451 4.3.0 Try again later' }, ['ok@remote.test']);
    expect(statuses(report)).toEqual({ 'ok@remote.test': 'pending 451' });
    expect(report.bounced).toEqual([]);
  });
});
