import { afterEach, describe, expect, it } from 'vitest';
import { aliceMessages, deliveryStatus, outboundMessage, startOutboundHermod, waitFor, type OutboundHarness } from './outbound-fixture.js';
import { startScriptedPeer, type ScriptedPeer } from './scripted-peer.js';

let env: OutboundHarness | undefined;
let peer: ScriptedPeer | undefined;
afterEach(async () => {
  await env?.stop();
  await peer?.stop();
  env = peer = undefined;
});

async function send(dsnPeer: boolean, rcpt: Record<string, string> = {}, notify: ('SUCCESS' | 'FAILURE' | 'DELAY')[] = ['SUCCESS', 'FAILURE']) {
  peer = await startScriptedPeer({ dsn: dsnPeer, rcpt });
  env = await startOutboundHermod(peer.port);
  await env.hermod.server.outbound!.service.submit({
    sender: 'alice@example.test',
    recipients: ['bob@remote.test'],
    raw: outboundMessage(['bob@remote.test'], 'dsn'),
    dsn: { ret: 'HDRS', envid: 'ENV-42' },
    recipientDsn: { 'bob@remote.test': { notify, orcpt: 'rfc822;Bob@remote.test' } },
  });
  return waitFor(() => env!.reports.find((r) => r.job.domain === 'remote.test'), 10_000, 'attempt');
}

describe('RFC 3461 DSN towards the next hop', () => {
  it('passes RET, ENVID, NOTIFY and ORCPT to a peer that offers DSN, and leaves success notices to it', async () => {
    const report = await send(true);
    expect(peer!.messages[0].mailLine).toMatch(/^MAIL FROM:<alice@example\.test> SIZE=\d+ RET=HDRS ENVID=ENV-42$/);
    expect(peer!.messages[0].rcptLines).toEqual(['RCPT TO:<bob@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@remote.test']);
    expect(report.succeeded).toEqual([]);
  });

  it('sends no DSN parameters to a peer without DSN, and tells the sender the message was relayed', async () => {
    const report = await send(false);
    expect(peer!.messages[0].mailLine).not.toMatch(/RET=|ENVID=/);
    expect(peer!.messages[0].rcptLines).toEqual(['RCPT TO:<bob@remote.test>']);
    expect(report.succeeded).toEqual(['bob@remote.test']);
    const [notice] = await waitFor(() => aliceMessages(env!.hermod).then((m) => (m.length ? m : null)), 10_000, 'relayed notice');
    expect(notice.subject).toBe('Successful Mail Delivery Report');
    const status = deliveryStatus(notice);
    expect(status.message.get('original-envelope-id')).toBe('ENV-42');
    expect(status.recipients[0].get('action')).toBe('relayed');
    expect(status.recipients[0].get('original-recipient')).toBe('rfc822; Bob@remote.test');
    expect(status.recipients[0].get('status')).toBe('2.0.0');
  });

  it('bounces with Original-Envelope-Id and Original-Recipient, and not at all for NOTIFY=NEVER', async () => {
    const report = await send(false, { 'bob@remote.test': '550 5.1.1 No such user' }, ['FAILURE']);
    expect(report.bounced).toEqual(['bob@remote.test']);
    const [bounce] = await waitFor(() => aliceMessages(env!.hermod).then((m) => (m.length ? m : null)), 10_000, 'bounce');
    const status = deliveryStatus(bounce);
    expect(status.message.get('original-envelope-id')).toBe('ENV-42');
    expect(status.recipients[0].get('original-recipient')).toBe('rfc822; Bob@remote.test');
    await env!.stop();
    await peer!.stop();
    const never = await send(false, { 'bob@remote.test': '550 5.1.1 No such user' }, []);
    expect(never).toMatchObject({ outcome: 'completed', bounced: [] });
    expect((await env!.hermod.server.outbound!.queue.list()).length).toBe(0);
  });
});
