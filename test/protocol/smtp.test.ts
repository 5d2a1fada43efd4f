import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

async function selfSignedFiles(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'hermod-tls-'));
  writeFileSync(join(dir, 'key.pem'), pems.private);
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  return { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
}

async function ehlo(port: number): Promise<{ client: RawSmtpClient; extensions: string[] }> {
  const client = await RawSmtpClient.open(port);
  expect((await client.reply()).text).toMatch(/^220 .*ESMTP/);
  const reply = await client.command('EHLO client.test');
  return { client, extensions: reply.lines.slice(1).map((l) => l.slice(4)) };
}

describe('SMTP listener', () => {
  it('advertises PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and no STARTTLS without a certificate', async () => {
    hermod = await startHermod({ limits: { maxMessageBytes: 1_000_000 } });
    const { client, extensions } = await ehlo(hermod.smtpPort);
    expect(extensions).toEqual(expect.arrayContaining(['PIPELINING', 'SIZE 1000000', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES']));
    expect(extensions).not.toContain('STARTTLS');
    expect(extensions.some((e) => e.startsWith('AUTH'))).toBe(false);
    client.close();
  });

  it('offers STARTTLS with a configured certificate and delivers over TLS', async () => {
    hermod = await startHermod({ tls: await selfSignedFiles() });
    const { client, extensions } = await ehlo(hermod.smtpPort);
    expect(extensions).toContain('STARTTLS');
    client.close();
    const transport = createTransport({
      host: '127.0.0.1',
      port: hermod.smtpPort,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({ envelope: { from: 'bob@remote.test', to: ['alice@example.test'] }, raw: sampleMessage('tls') });
    expect(info.accepted).toEqual(['alice@example.test']);
    const store = hermod.server.services.store;
    const mailbox = (await store.resolveAddress('alice@example.test'))!;
    const [entry] = await store.listEntries({ mailboxId: mailbox.id, limit: 1 });
    const full = (await store.getFullMessage(entry.id))!.toString();
    expect(full).toMatch(/with ESMTPS id/);
  });

  it('refuses to relay to a foreign domain (550 5.7.1) and knows its own users (550 5.1.1)', async () => {
    hermod = await startHermod();
    const { client } = await ehlo(hermod.smtpPort);
    await client.command('MAIL FROM:<bob@remote.test>');
    expect((await client.command('RCPT TO:<someone@elsewhere.test>')).text).toMatch(/^550 5\.7\.1 /);
    expect((await client.command('RCPT TO:<nobody@example.test>')).text).toMatch(/^550 5\.1\.1 /);
    expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    client.close();
  });

  it('answers 452 4.2.2 at DATA for a message that does not fit the quota, and 250 to a retry of one already stored', async () => {
    hermod = await startHermod({}, [{ address: 'alice@example.test', quotaBytes: 800 }]);
    const { client } = await ehlo(hermod.smtpPort);
    const send = async (message: string) => {
      await client.command('MAIL FROM:<bob@remote.test>');
      expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
      await client.command('DATA');
      client.write(`${message}.\r\n`);
      return (await client.reply()).text;
    };
    expect(await send(sampleMessage('first', 'x'))).toMatch(/^250 /);
    expect(await send(sampleMessage('too big', 'x'.repeat(400)))).toMatch(/^452 4\.2\.2 /);
    const fits = sampleMessage('fits', 'x'.repeat(100));
    expect(await send(fits)).toMatch(/^250 /);
    // The mailbox is now full: new mail is deferred, but the same bytes again (a retry after a
    // lost reply) are recognised before the quota rule and answered 250.
    expect(await send(sampleMessage('more', 'x'))).toMatch(/^452 4\.2\.2 /);
    expect(await send(fits)).toMatch(/^250 2\.0\.0 Ok: already delivered/);
    client.close();
  });

  it('runs the same pipeline as LMTP: a GTUBE message is refused with 550 5.7.1', async () => {
    hermod = await startHermod();
    const { client } = await ehlo(hermod.smtpPort);
    await client.command('MAIL FROM:<bob@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    await client.command('DATA');
    client.write(`${sampleMessage('spam', 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X')}.\r\n`);
    expect((await client.reply()).text).toMatch(/^550 5\.7\.1 /);
    client.close();
  });
});
