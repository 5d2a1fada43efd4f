import { afterEach, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/message-store.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

async function session(port: number, greeting = 'EHLO client.test'): Promise<RawSmtpClient> {
  const client = await RawSmtpClient.open(port);
  expect((await client.reply()).code).toBe(220);
  expect((await client.command(greeting)).code).toBe(250);
  return client;
}

async function entries(store: MessageStore): Promise<{ subject: string; sha256: string }[]> {
  const mailbox = (await store.resolveAddress('alice@example.test'))!;
  return (await store.listEntries({ mailboxId: mailbox.id, limit: 100 })).map((e) => ({
    subject: e.summary.subject,
    sha256: e.sha256,
  }));
}

describe('bad input gets a precise reply and loses nothing', () => {
  it('over the size limit: 552 5.3.4, nothing stored, and the session stays usable', async () => {
    hermod = await startHermod({ limits: { maxMessageBytes: 2000 } });
    const client = await session(hermod.smtpPort);
    await client.command('MAIL FROM:<bob@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    await client.command('DATA');
    client.write(`${sampleMessage('huge', 'y'.repeat(5000))}.\r\n`);
    expect((await client.reply()).text).toMatch(/^552 5\.3\.4 /);
    expect(await entries(hermod.server.services.store)).toEqual([]);
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    await client.command('RCPT TO:<alice@example.test>');
    await client.command('DATA');
    client.write(`${sampleMessage('small')}.\r\n`);
    expect((await client.reply()).code).toBe(250);
    client.close();
  });

  it('a SIZE= parameter over the limit is refused at MAIL with 552 5.3.4', async () => {
    hermod = await startHermod({ limits: { maxMessageBytes: 2000 } });
    const client = await session(hermod.smtpPort);
    expect((await client.command('MAIL FROM:<bob@remote.test> SIZE=999999')).text).toMatch(/^552 5\.3\.4 /);
    client.close();
  });

  it.each([
    ['MAIL FROM:bob', /^501 5\.\d\.\d /],
    ['MAIL FROM:<bob@@remote>', /^501 5\.1\.7 /],
    ['MAIL TO:<bob@remote.test>', /^501 5\.\d\.\d /],
  ])('malformed MAIL %s → 501 with an enhanced code', async (line, expected) => {
    hermod = await startHermod();
    const client = await session(hermod.smtpPort);
    expect((await client.command(line)).text).toMatch(expected);
    client.close();
  });

  it.each([
    ['RCPT TO:alice', /^501 5\.\d\.\d /],
    ['RCPT TO:<alice@@example.test>', /^501 5\.1\.3 /],
  ])('malformed RCPT %s → 501 with an enhanced code', async (line, expected) => {
    hermod = await startHermod();
    const client = await session(hermod.smtpPort);
    await client.command('MAIL FROM:<bob@remote.test>');
    expect((await client.command(line)).text).toMatch(expected);
    client.close();
  });

  it.each([
    ['LMTP', 'LHLO client.test', (h: Harness) => h.lmtpPort],
    ['SMTP', 'EHLO client.test', (h: Harness) => h.smtpPort],
  ])('%s: an address that is not UTF-8 is refused, not recorded with U+FFFD', async (_name, greeting, port) => {
    hermod = await startHermod();
    const client = await session(port(hermod), greeting);
    // Written as latin1, 0xFF and 0xE9 go out as single bytes, which UTF-8 never has alone.
    const raw = async (line: string) => {
      client.write(Buffer.from(`${line}\r\n`, 'latin1'));
      return (await client.reply()).text;
    };
    expect(await raw('MAIL FROM:<b\xffb@remote.test>')).toMatch(/^501 5\.1\.7 /);
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect(await raw('RCPT TO:<al\xe9ce@example.test>')).toMatch(/^501 5\.1\.3 /);
    // The same letter in UTF-8, in an SMTPUTF8 transaction, is an address like any other (here: not a local one).
    expect((await client.command('RSET')).code).toBe(250);
    expect((await client.command('MAIL FROM:<bob@remote.test> SMTPUTF8')).code).toBe(250);
    expect((await client.command('RCPT TO:<al\u00e9ce@example.test>')).text).toMatch(/^550 5\.1\.1 /);
    client.close();
  });

  it.each([
    ['LMTP', 'LHLO client.test', (h: Harness) => h.lmtpPort],
    ['SMTP', 'EHLO client.test', (h: Harness) => h.smtpPort],
  ])('%s: a UTF-8 address without SMTPUTF8 on MAIL FROM gets 553 5.6.7', async (_name, greeting, port) => {
    hermod = await startHermod();
    const client = await session(port(hermod), greeting);
    expect((await client.command('MAIL FROM:<b\u00f6b@remote.test>')).text).toMatch(/^553 5\.6\.7 /);
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<al\u00e9ce@example.test>')).text).toMatch(/^553 5\.6\.7 /);
    expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    expect((await client.command('RSET')).code).toBe(250);
    expect((await client.command('MAIL FROM:<b\u00f6b@remote.test> SMTPUTF8')).code).toBe(250);
    client.close();
  });

  it('unknown command → 500 5.5.1, session goes on', async () => {
    hermod = await startHermod();
    const client = await session(hermod.lmtpPort, 'LHLO client.test');
    expect((await client.command('FROB nicate')).text).toMatch(/^500 5\.5\.1 /);
    expect((await client.command('NOOP')).code).toBe(250);
    client.close();
  });

  it('one recipient over the limit → 452 4.5.3, the accepted ones still get the message', async () => {
    hermod = await startHermod({ limits: { maxRecipients: 2 } });
    const client = await session(hermod.lmtpPort, 'LHLO client.test');
    await client.command('MAIL FROM:<bob@remote.test>');
    expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<alice+a@example.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<alice+b@example.test>')).text).toMatch(/^452 4\.5\.3 /);
    await client.command('DATA');
    client.write(`${sampleMessage('limit')}.\r\n`);
    expect((await client.reply()).code).toBe(250);
    expect((await client.reply()).code).toBe(250);
    client.close();
  });

  it('a command line over 512 octets is refused and the connection closed; the server keeps serving', async () => {
    hermod = await startHermod();
    const client = await session(hermod.smtpPort);
    const reply = await client.command(`MAIL FROM:<${'a'.repeat(600)}@remote.test>`);
    expect(reply.text).toMatch(/^(421 4\.\d\.\d|500 5\.5\.\d) /);
    client.close();
    const next = await session(hermod.smtpPort);
    expect((await next.command('NOOP')).code).toBe(250);
    next.close();
  });

  it('too many connections from one client address → 421', async () => {
    hermod = await startHermod({ limits: { maxConnectionsPerClient: 2 } });
    const a = await session(hermod.smtpPort);
    const b = await session(hermod.smtpPort);
    const c = await RawSmtpClient.open(hermod.smtpPort);
    expect((await c.reply()).text).toMatch(/^421 4\.7\.0 /);
    expect(await c.waitClosed()).toBe(true);
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const d = await RawSmtpClient.open(hermod.smtpPort);
    expect((await d.reply()).code).toBe(220);
    b.close();
    d.close();
  });
});

describe('only CRLF.CRLF ends DATA (no SMTP smuggling)', () => {
  const smuggled = 'MAIL FROM:<evil@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nforged\r\n';
  it.each([
    ['LF.CRLF', '\n.\r\n'],
    ['CR.CRLF', '\r.\r\n'],
    ['LF.LF', '\n.\n'],
    ['CRLF.LF', '\r\n.\n'],
  ])('%s inside a message does not end it', async (_name, sequence) => {
    hermod = await startHermod();
    const client = await session(hermod.smtpPort);
    await client.command('MAIL FROM:<bob@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    await client.command('DATA');
    const message = sampleMessage('outer', `before${sequence}${smuggled}after`);
    client.write(`${message}.\r\n`);
    expect((await client.reply()).code).toBe(250);
    expect((await client.command('NOOP')).code).toBe(250);
    client.close();
    const stored = await entries(hermod.server.services.store);
    expect(stored.map((e) => e.subject)).toEqual(['outer']);
  });

  it('a bare LF message is accepted as one message, byte-exact', async () => {
    hermod = await startHermod();
    const client = await session(hermod.smtpPort);
    await client.command('MAIL FROM:<bob@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    await client.command('DATA');
    const body = 'Subject: bare\nFrom: bob@remote.test\n\nline one\nline two\n';
    client.write(`${body}\r\n.\r\n`);
    expect((await client.reply()).code).toBe(250);
    client.close();
    const store = hermod.server.services.store;
    const [entry] = await entries(store);
    expect((await store.getRaw(entry.sha256))!.toString()).toBe(`${body}\r\n`);
  });
});
