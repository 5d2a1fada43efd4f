import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { startScriptedMta, type ScriptedMta } from '../helpers/scripted-mta.js';

/**
 * RFC 3461 DSN on the inbound SMTP listener: offered, parameters checked, and a message stored
 * in a mailbox with NOTIFY=SUCCESS answered by a "delivered" notice, which goes out through the
 * outbound queue to a real peer (the smarthost here, so nothing leaves loopback).
 */
let hermod: Harness | undefined;
let peer: ScriptedMta;

beforeAll(async () => {
  peer = await startScriptedMta();
});
afterAll(async () => {
  await peer?.stop();
});
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

function start(): Promise<Harness> {
  return startHermod({ relay: { host: '127.0.0.1', port: peer.port }, queue: { pollMs: 50 } });
}

async function greet(port: number, hello: string): Promise<{ client: RawSmtpClient; extensions: string[] }> {
  const client = await RawSmtpClient.open(port);
  expect((await client.reply()).code).toBe(220);
  const reply = await client.command(hello);
  expect(reply.code).toBe(250);
  return { client, extensions: reply.lines.slice(1).map((l) => l.slice(4)) };
}

/** One transaction with raw MAIL and RCPT lines; returns the DATA reply. */
async function send(client: RawSmtpClient, mail: string, rcpts: string[], message: string): Promise<string> {
  expect((await client.command(mail)).code).toBe(250);
  for (const r of rcpts) expect((await client.command(r)).code, r).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
  client.write(`${message}.\r\n`);
  return (await client.reply()).text;
}

/** Waits until the peer has `count` more messages than `before` (the delivery worker is asynchronous). */
async function noticesAfter(before: number, count: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  while (peer.messages.length < before + count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return peer.messages.slice(before).map((m) => m.raw.toString());
}

describe('DSN on the SMTP listener', () => {
  it('offers DSN on SMTP, not on LMTP (where NOTIFY stays an unknown parameter)', async () => {
    hermod = await start();
    const smtp = await greet(hermod.smtpPort, 'EHLO client.test');
    expect(smtp.extensions).toContain('DSN');
    smtp.client.close();
    const lmtp = await greet(hermod.lmtpPort, 'LHLO client.test');
    expect(lmtp.extensions).not.toContain('DSN');
    expect((await lmtp.client.command('MAIL FROM:<bob@remote.test> RET=HDRS')).text).toMatch(/^555 5\.5\.4 /);
    lmtp.client.close();
  });

  it('smtp.dsn: false takes DSN off the SMTP listener', async () => {
    hermod = await startHermod({ smtp: { host: '127.0.0.1', port: 0, dsn: false } });
    const { client, extensions } = await greet(hermod.smtpPort, 'EHLO client.test');
    expect(extensions).not.toContain('DSN');
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<alice@example.test> NOTIFY=SUCCESS')).text).toMatch(/^555 5\.5\.4 /);
    client.close();
  });

  it.each([
    ['MAIL FROM:<bob@remote.test> RET=ALL', /^501 5\.5\.4 RET must be FULL or HDRS/],
    [`MAIL FROM:<bob@remote.test> ENVID=${'x'.repeat(101)}`, /^501 5\.5\.4 ENVID/],
    ['MAIL FROM:<bob@remote.test> FOO=bar', /^555 5\.5\.4 /],
    ['MAIL FROM:<bob@remote.test> RET=FULL ENVID=abc', /^250 /],
  ])('%s → %s', async (line, expected) => {
    hermod = await start();
    const { client } = await greet(hermod.smtpPort, 'EHLO client.test');
    expect((await client.command(line)).text).toMatch(expected);
    client.close();
  });

  it('refuses bad NOTIFY and ORCPT at RCPT with 501 5.5.4, and the transaction goes on', async () => {
    hermod = await start();
    const { client } = await greet(hermod.smtpPort, 'EHLO client.test');
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<alice@example.test> NOTIFY=NEVER,SUCCESS')).text).toMatch(/^501 5\.5\.4 NOTIFY=NEVER/);
    expect((await client.command('RCPT TO:<alice@example.test> NOTIFY=SOMETIMES')).text).toMatch(/^501 5\.5\.4 /);
    expect((await client.command('RCPT TO:<alice@example.test> ORCPT=nosemicolon')).text).toMatch(/^501 5\.5\.4 ORCPT/);
    expect((await client.command('RCPT TO:<alice@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Alice@example.test')).code).toBe(250);
    client.close();
  });

  it('NOTIFY=SUCCESS: stored, and one "delivered" notice (ENVID, ORCPT, headers only) goes to the sender; a retry of the same message sends none', async () => {
    hermod = await start();
    const before = peer.messages.length;
    const { client } = await greet(hermod.smtpPort, 'EHLO mta.remote.test');
    const message = sampleMessage('please confirm', 'body text that stays home');
    const mail = 'MAIL FROM:<bob@remote.test> RET=FULL ENVID=bob-42';
    const rcpt = ['RCPT TO:<alice@example.test> NOTIFY=SUCCESS ORCPT=rfc822;Alice@example.test'];
    expect(await send(client, mail, rcpt, message)).toMatch(/^250 2\.0\.0 /);
    // The same bytes again, as after a lost reply: a duplicate, answered 250, no second notice.
    expect(await send(client, mail, rcpt, message)).toMatch(/^250 /);
    client.close();
    const [notice] = await noticesAfter(before, 1);
    expect(peer.messages[before]).toMatchObject({ from: '', to: ['bob@remote.test'] });
    expect(notice).toMatch(/^Subject: Successful Mail Delivery Report\r$/m);
    expect(notice).toMatch(/^Original-Envelope-Id: bob-42\r$/m);
    expect(notice).toMatch(/^Original-Recipient: rfc822; Alice@example\.test\r$/m);
    expect(notice).toMatch(/^Final-Recipient: rfc822; alice@example\.test\r\nAction: delivered\r\nStatus: 2\.0\.0\r$/m);
    expect(notice).toMatch(/^Subject: please confirm\r$/m);
    expect(notice).not.toMatch(/body text that stays home/);
    const mailbox = (await hermod.server.services.store.resolveAddress('alice@example.test'))!;
    expect(await hermod.server.services.store.listEntries({ mailboxId: mailbox.id, limit: 10 })).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(peer.messages.length).toBe(before + 1);
  });

  it('no notice without NOTIFY=SUCCESS, nor to the null sender', async () => {
    hermod = await start();
    const before = peer.messages.length;
    const { client } = await greet(hermod.smtpPort, 'EHLO mta.remote.test');
    expect(await send(client, 'MAIL FROM:<bob@remote.test>', ['RCPT TO:<alice@example.test> NOTIFY=FAILURE'], sampleMessage('one'))).toMatch(/^250 /);
    expect(await send(client, 'MAIL FROM:<bob@remote.test>', ['RCPT TO:<alice@example.test>'], sampleMessage('two'))).toMatch(/^250 /);
    expect(await send(client, 'MAIL FROM:<>', ['RCPT TO:<alice@example.test> NOTIFY=SUCCESS'], sampleMessage('three'))).toMatch(/^250 /);
    client.close();
    expect(hermod.logs.some((l) => l.msg === 'no success notice for the null sender')).toBe(true);
    expect(await hermod.server.outbound!.queue.list()).toEqual([]);
    expect(peer.messages.length).toBe(before);
  });
});
