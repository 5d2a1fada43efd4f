import { afterEach, describe, expect, it } from 'vitest';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

/**
 * Postfix hands mail over LMTP through HAProxy: the PROXY header names Postfix, and Postfix's
 * XFORWARD names the client Postfix received the mail from. Hermod records that client, but only
 * when the MTA asking is in xforward.trusted.
 */
let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

const config = { proxy: { trusted: ['127.0.0.1/32'] }, xforward: { trusted: ['127.0.0.3/32'] } };

/** PROXY v1 naming `source` as the client, as HAProxy would in front of that MTA. */
function proxyFrom(source: string): Buffer {
  return Buffer.from(`PROXY TCP4 ${source} 127.0.0.1 40001 2424\r\n`);
}

async function session(h: Harness, preamble?: Buffer): Promise<{ client: RawSmtpClient; lhlo: string[] }> {
  const client = await RawSmtpClient.open(h.lmtpPort, '127.0.0.1', preamble);
  expect((await client.reply()).code).toBe(220);
  const lhlo = (await client.command('LHLO mx.example.test')).lines;
  return { client, lhlo };
}

async function send(client: RawSmtpClient, subject: string): Promise<string> {
  await client.command('MAIL FROM:<bob@remote.test>');
  await client.command('RCPT TO:<alice@example.test>');
  await client.command('DATA');
  client.write(`${sampleMessage(subject)}.\r\n`);
  const reply = await client.reply();
  expect(reply.code).toBe(250);
  return /delivered as (\S+)/.exec(reply.text)![1];
}

describe('XFORWARD from a trusted MTA', () => {
  it('records the forwarded client address in the entry, the Received header and the log', async () => {
    const h = (hermod = await startHermod(config));
    const { client, lhlo } = await session(h, proxyFrom('127.0.0.3'));
    expect(lhlo.join('\n')).toContain('XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE');
    const reply = await client.command('XFORWARD NAME=client.remote.test ADDR=192.0.2.7 PORT=41000 HELO=client.remote.test');
    expect(reply.code).toBe(250);
    const id = await send(client, 'forwarded');
    client.close();

    const store = h.server.services.store;
    expect((await store.getEntry(id))!.envelope.clientAddress).toBe('192.0.2.7');
    const full = (await store.getFullMessage(id))!.toString();
    expect(full).toMatch(/^Received: from client\.remote\.test \(\[192\.0\.2\.7\]\)/m);
    const log = h.logs.find((l) => l.msg === 'transaction' && JSON.stringify(l.rcpt).includes(id));
    expect(log).toMatchObject({ client: '192.0.2.7', relay: '127.0.0.3', peer: '127.0.0.1' });
  });

  it('keeps the MTA address when Postfix has no client to name (ADDR=[UNAVAILABLE])', async () => {
    const h = (hermod = await startHermod(config));
    const { client } = await session(h, proxyFrom('127.0.0.3'));
    expect((await client.command('XFORWARD ADDR=[UNAVAILABLE] NAME=[UNAVAILABLE]')).code).toBe(250);
    const id = await send(client, 'local submission');
    client.close();
    expect((await h.server.services.store.getEntry(id))!.envelope.clientAddress).toBe('127.0.0.3');
  });
});

describe('XFORWARD from anyone else', () => {
  it('is neither offered nor accepted', async () => {
    const h = (hermod = await startHermod(config));
    const { client, lhlo } = await session(h, proxyFrom('198.51.100.20'));
    expect(lhlo.join('\n')).not.toContain('XFORWARD');
    expect((await client.command('XFORWARD ADDR=192.0.2.7')).code).toBeGreaterThanOrEqual(500);
    const id = await send(client, 'not forwarded');
    client.close();
    expect((await h.server.services.store.getEntry(id))!.envelope.clientAddress).toBe('198.51.100.20');
  });

  it('is off when xforward.trusted is empty (the default)', async () => {
    const h = (hermod = await startHermod({ proxy: { trusted: ['127.0.0.1/32'] } }));
    const { client, lhlo } = await session(h, proxyFrom('127.0.0.3'));
    expect(lhlo.join('\n')).not.toContain('XFORWARD');
    expect((await client.command('XFORWARD ADDR=192.0.2.7')).code).toBeGreaterThanOrEqual(500);
    client.close();
  });
});
