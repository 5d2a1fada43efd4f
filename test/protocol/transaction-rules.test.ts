import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

async function greet(port: number, hello: string, preamble?: Buffer): Promise<RawSmtpClient> {
  const client = await RawSmtpClient.open(port, '127.0.0.1', preamble);
  expect((await client.reply()).code).toBe(220);
  expect((await client.command(hello)).code).toBe(250);
  return client;
}

/** MAIL, RCPT…, DATA; returns the RCPT replies and the DATA replies (`dataReplies` of them). */
async function transaction(client: RawSmtpClient, to: string[], message: string, dataReplies = 1) {
  expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
  const rcpt = [];
  for (const r of to) rcpt.push((await client.command(`RCPT TO:<${r}>`)).text);
  await client.command('DATA');
  client.write(`${message}.\r\n`);
  const data = [];
  for (let i = 0; i < dataReplies; i++) data.push((await client.reply()).text);
  return { rcpt, data };
}

/** Stores `raw` in a mailbox as an earlier delivery under a looser policy would have. */
async function storeEarlierCopy(h: Harness, address: string, raw: Buffer): Promise<string> {
  const store = h.server.services.store;
  const mailbox = (await store.resolveAddress(address))!;
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const summary = { subject: '', from: 'bob@remote.test', to: [], cc: [], date: null, messageId: null, attachments: [] };
  const envelope = { mailFrom: 'bob@remote.test', rcptTo: address, clientAddress: '127.0.0.1', transactionId: 'earlier' };
  const result = await store.deliver({
    mailboxId: mailbox.id, raw, sha256, prependHeaders: '', folder: 'INBOX', flags: [], tags: [], importance: 0,
    spamScore: 0, threadId: sha256.slice(0, 16), summary, envelope, ledger: [],
  });
  return result.entryId;
}

async function entryCount(h: Harness, address: string): Promise<number> {
  const store = h.server.services.store;
  const mailbox = (await store.resolveAddress(address))!;
  return (await store.listEntries({ mailboxId: mailbox.id, limit: 100 })).length;
}

describe('idempotent redelivery comes before policy', () => {
  it('answers 250 to bytes already stored, though the mailbox is now over quota and the message would now be refused as spam', async () => {
    const h = (hermod = await startHermod({}, [{ address: 'alice@example.test', quotaBytes: 300 }]));
    const message = sampleMessage('retry', `${GTUBE}\r\n${'x'.repeat(400)}`);
    await storeEarlierCopy(h, 'alice@example.test', Buffer.from(message));
    const client = await greet(h.lmtpPort, 'LHLO mta.test');
    const { rcpt, data } = await transaction(client, ['alice@example.test'], message);
    expect(rcpt[0]).toMatch(/^250 /);
    expect(data[0]).toMatch(/^250 2\.0\.0 Ok: already delivered/);
    // A new message is still judged by today's policy.
    const other = await transaction(client, ['alice@example.test'], sampleMessage('new', GTUBE));
    expect(other.data[0]).toMatch(/^550 5\.7\.1 /);
    client.close();
    expect(await entryCount(h, 'alice@example.test')).toBe(1);
  });
});

describe('XFORWARD attributes hold for one transaction', () => {
  const config = { proxy: { trusted: ['127.0.0.1/32'] }, xforward: { trusted: ['127.0.0.3/32'] } };
  const fromMta = Buffer.from('PROXY TCP4 127.0.0.3 127.0.0.1 40001 2424\r\n');

  it('takes HELO=[UNAVAILABLE] as unknown: MAIL is still accepted and the Received header says unknown', async () => {
    const h = (hermod = await startHermod(config));
    const client = await greet(h.lmtpPort, 'LHLO mx.example.test', fromMta);
    expect((await client.command('XFORWARD NAME=[UNAVAILABLE] ADDR=192.0.2.7 HELO=[UNAVAILABLE]')).code).toBe(250);
    const { data } = await transaction(client, ['alice@example.test'], sampleMessage('pickup'));
    client.close();
    expect(data[0]).toMatch(/^250 /);
    const id = /delivered as (\S+)/.exec(data[0])![1];
    const full = (await h.server.services.store.getFullMessage(id))!.toString();
    expect(full).toMatch(/^Received: from unknown \(\[192\.0\.2\.7\]\)/m);
  });

  it('does not keep the previous transaction client address on a reused connection', async () => {
    const h = (hermod = await startHermod(config));
    const client = await greet(h.lmtpPort, 'LHLO mx.example.test', fromMta);
    const clientOf = async (data: string) =>
      (await h.server.services.store.getEntry(/delivered as (\S+)/.exec(data)![1]))!.envelope.clientAddress;
    expect((await client.command('XFORWARD ADDR=192.0.2.7 HELO=client.remote.test')).code).toBe(250);
    const first = await transaction(client, ['alice@example.test'], sampleMessage('first'));
    expect(await clientOf(first.data[0])).toBe('192.0.2.7');
    expect((await client.command('XFORWARD ADDR=[UNAVAILABLE] HELO=[UNAVAILABLE]')).code).toBe(250);
    const second = await transaction(client, ['alice@example.test'], sampleMessage('second'));
    expect(await clientOf(second.data[0])).toBe('127.0.0.3');
    // No XFORWARD at all before a transaction: the MTA itself is the client.
    const third = await transaction(client, ['alice@example.test'], sampleMessage('third'));
    expect(await clientOf(third.data[0])).toBe('127.0.0.3');
    client.close();
  });
});

describe('MAIL and RCPT parameters', () => {
  it.each([
    ['MAIL FROM:<bob@remote.test> FOO=bar', /^555 5\.5\.4 /],
    ['MAIL FROM:<bob@remote.test> SIZE=abc', /^501 5\.5\.4 /],
    ['MAIL FROM:<bob@remote.test> BODY=foo', /^501 5\.5\.4 /],
    ['MAIL FROM:<bob@remote.test> SMTPUTF8=yes', /^501 5\.5\.4 /],
    ['MAIL FROM:<bob@remote.test> SIZE=100 BODY=8BITMIME', /^250 /],
  ])('%s → %s', async (line, expected) => {
    hermod = await startHermod();
    const client = await greet(hermod.smtpPort, 'EHLO client.test');
    expect((await client.command(line)).text).toMatch(expected);
    client.close();
  });

  it('an unknown RCPT parameter → 555 5.5.4, and the transaction goes on', async () => {
    hermod = await startHermod();
    const client = await greet(hermod.smtpPort, 'EHLO client.test');
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<alice@example.test> XYZZY=1')).text).toMatch(/^555 5\.5\.4 /);
    expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    client.close();
  });
});

describe('connection limits per client address', () => {
  it('limits strangers per address, but not the trusted MTAs in front of Hermod', async () => {
    const h = (hermod = await startHermod({ limits: { maxConnectionsPerClient: 2 }, proxy: { trusted: ['127.0.0.1/32'] } }));
    const stranger = (n: number) => Buffer.from(`PROXY TCP4 198.51.100.${n} 127.0.0.1 40001 2424\r\n`);
    const open: RawSmtpClient[] = [];
    for (let i = 0; i < 2; i++) open.push(await greet(h.lmtpPort, 'LHLO a.test', stranger(9)));
    const third = await RawSmtpClient.open(h.lmtpPort, '127.0.0.1', stranger(9));
    expect((await third.reply()).text).toMatch(/^421 4\.7\.0 /);
    third.close();
    // 127.0.0.1 itself (HAProxy, or Postfix connecting directly) is in proxy.trusted.
    for (let i = 0; i < 5; i++) open.push(await greet(h.lmtpPort, 'LHLO mta.test'));
    for (const c of open) c.close();
  });

  it('allows 50 connections per client address by default (Postfix smtpd_client_connection_count_limit)', async () => {
    hermod = await startHermod();
    expect(hermod.config.limits.maxConnectionsPerClient).toBe(50);
  });
});

describe('SMTP listener with per-recipient outcomes', () => {
  const carolStrict = { scoring: { mailboxes: { 'carol@example.test': { reject: 3 } } } };
  const two = [{ address: 'alice@example.test' }, { address: 'carol@example.test' }];

  it('keeps one set of refusing spam thresholds per transaction: a recipient with its own gets 452 4.5.3 at RCPT', async () => {
    const h = (hermod = await startHermod(carolStrict, two));
    const client = await greet(h.smtpPort, 'EHLO client.test');
    const { rcpt, data } = await transaction(client, ['alice@example.test', 'carol@example.test'], sampleMessage('both'));
    expect(rcpt[0]).toMatch(/^250 /);
    expect(rcpt[1]).toMatch(/^452 4\.5\.3 /);
    expect(data[0]).toMatch(/^250 /);
    // The client sends carol's copy on its own, judged by carol's thresholds alone.
    const alone = await transaction(client, ['carol@example.test'], sampleMessage('carol alone'));
    expect(alone.data[0]).toMatch(/^250 /);
    client.close();
  });

  it('a copy stored and one deferred → 451; the retry stores the deferred one and never the stored one twice', async () => {
    const h = (hermod = await startHermod({}, [{ address: 'alice@example.test', quotaBytes: 200 }, { address: 'carol@example.test' }]));
    const client = await greet(h.smtpPort, 'EHLO client.test');
    const message = sampleMessage('mixed', 'x'.repeat(300));
    const first = await transaction(client, ['alice@example.test', 'carol@example.test'], message);
    expect(first.data[0]).toMatch(/^451 4\.3\.0 /);
    expect(await entryCount(h, 'carol@example.test')).toBe(1);
    const retry = await transaction(client, ['alice@example.test', 'carol@example.test'], message);
    expect(retry.data[0]).toMatch(/^451 4\.3\.0 /);
    expect(await entryCount(h, 'carol@example.test')).toBe(1);
    client.close();
  });

  it('a copy stored and one refused for good → 250, the refused copy dropped with a logged reason', async () => {
    const h = (hermod = await startHermod({ quota: { overQuota: 'reject' } }, [{ address: 'alice@example.test', quotaBytes: 200 }, { address: 'carol@example.test' }]));
    const client = await greet(h.smtpPort, 'EHLO client.test');
    const { data } = await transaction(client, ['alice@example.test', 'carol@example.test'], sampleMessage('mixed', 'x'.repeat(300)));
    client.close();
    expect(data[0]).toMatch(/^250 /);
    expect(await entryCount(h, 'carol@example.test')).toBe(1);
    expect(await entryCount(h, 'alice@example.test')).toBe(0);
    const log = h.logs.find((l) => l.msg === 'transaction' && l.note === 'refused copies dropped');
    expect(log?.rcpt).toEqual(expect.arrayContaining([expect.objectContaining({ to: 'alice@example.test', reply: '552 5.2.2', dropped: true })]));
  });
});
