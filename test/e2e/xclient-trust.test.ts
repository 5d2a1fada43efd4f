import { afterEach, describe, expect, it } from 'vitest';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

/**
 * Haraka hands mail over LMTP through HAProxy: the PROXY header names Haraka, and Hermod's
 * Haraka plugin sends XCLIENT to name the client Haraka received the mail from. Hermod hands the
 * session over to that client, but only when the MTA asking is in xclient.trusted.
 */
let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

const HARAKA = '127.0.0.13';
const config = { proxy: { trusted: ['127.0.0.1/32'] }, xclient: { trusted: [`${HARAKA}/32`] } };

/** PROXY v1 naming `source` as the client, as HAProxy would in front of that MTA. */
function proxyFrom(source: string): Buffer {
  return Buffer.from(`PROXY TCP4 ${source} 127.0.0.1 40001 2424\r\n`);
}

async function session(h: Harness, preamble?: Buffer): Promise<{ client: RawSmtpClient; lhlo: string[] }> {
  const client = await RawSmtpClient.open(h.lmtpPort, '127.0.0.1', preamble);
  expect((await client.reply()).code).toBe(220);
  const lhlo = (await client.command('LHLO haraka.example.test')).lines;
  return { client, lhlo };
}

async function send(client: RawSmtpClient, subject: string): Promise<string> {
  expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
  expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
  client.write(`${sampleMessage(subject)}.\r\n`);
  const reply = await client.reply();
  expect(reply.code).toBe(250);
  return /delivered as (\S+)/.exec(reply.text)![1];
}

describe('XCLIENT from a trusted MTA', () => {
  it('hands the session to the named client: entry, Received header (with its HELO) and log', async () => {
    const h = (hermod = await startHermod(config));
    const { client, lhlo } = await session(h, proxyFrom(HARAKA));
    expect(lhlo.join('\n')).toContain('XCLIENT NAME ADDR PORT PROTO HELO LOGIN');
    expect(lhlo.join('\n')).not.toContain('XFORWARD');
    const reply = await client.command('XCLIENT ADDR=192.0.2.9 PORT=41000 NAME=client.remote.test HELO=Client.Remote.Test PROTO=ESMTP');
    expect(reply.code).toBe(220);
    const again = (await client.command('LHLO haraka.example.test')).lines.join('\n');
    // The session is the client's now: no second XCLIENT to change it again.
    expect(again).not.toContain('XCLIENT');
    const id = await send(client, 'handed over');
    client.close();

    const store = h.server.services.store;
    expect((await store.getEntry(id))!.envelope.clientAddress).toBe('192.0.2.9');
    const full = (await store.getFullMessage(id))!.toString();
    // The HELO name is the client's (XCLIENT HELO=), not the one Haraka greeted Hermod with.
    expect(full).toMatch(/^Received: from client\.remote\.test \(\[192\.0\.2\.9\]\)/m);
    const log = h.logs.find((l) => l.msg === 'transaction' && JSON.stringify(l.rcpt).includes(id));
    expect(log).toMatchObject({ client: '192.0.2.9', relay: HARAKA, peer: '127.0.0.1' });
  });

  it('[UNAVAILABLE] means unknown: the MTA itself stays the client, the session goes on', async () => {
    const h = (hermod = await startHermod(config));
    const { client } = await session(h, proxyFrom(HARAKA));
    expect((await client.command('XCLIENT ADDR=[UNAVAILABLE] NAME=[UNAVAILABLE] HELO=[UNAVAILABLE]')).code).toBe(220);
    await client.command('LHLO haraka.example.test');
    const id = await send(client, 'unknown client');
    client.close();
    const store = h.server.services.store;
    expect((await store.getEntry(id))!.envelope.clientAddress).toBe(HARAKA);
    const full = (await store.getFullMessage(id))!.toString();
    expect(full).toMatch(/^Received: from haraka\.example\.test \(\[127\.0\.0\.13\]\)/m);
    expect(full).not.toContain('UNAVAILABLE');
  });

  it('a bad attribute changes nothing: 501 and the MTA may try again', async () => {
    const h = (hermod = await startHermod(config));
    const { client } = await session(h, proxyFrom(HARAKA));
    expect((await client.command('XCLIENT ADDR=192.0.2.9 NAME=bad+0D+0Aname')).code).toBe(501);
    expect((await client.command('XCLIENT ADDR=not-an-address')).code).toBe(501);
    expect((await client.command('XCLIENT ADDR=192.0.2.10')).code).toBe(220);
    await client.command('LHLO haraka.example.test');
    const id = await send(client, 'second try');
    client.close();
    expect((await h.server.services.store.getEntry(id))!.envelope.clientAddress).toBe('192.0.2.10');
  });
});

describe('XCLIENT from anyone else', () => {
  it('is neither offered nor accepted, not even from an MTA trusted for XFORWARD only', async () => {
    const h = (hermod = await startHermod({ ...config, xforward: { trusted: ['127.0.0.3/32'] } }));
    const { client, lhlo } = await session(h, proxyFrom('127.0.0.3'));
    expect(lhlo.join('\n')).toContain('XFORWARD');
    expect(lhlo.join('\n')).not.toContain('XCLIENT');
    expect((await client.command('XCLIENT ADDR=192.0.2.9')).code).toBeGreaterThanOrEqual(500);
    const id = await send(client, 'not handed over');
    client.close();
    expect((await h.server.services.store.getEntry(id))!.envelope.clientAddress).toBe('127.0.0.3');
  });

  it('is off when xclient.trusted is empty (the default)', async () => {
    const h = (hermod = await startHermod({ proxy: { trusted: ['127.0.0.1/32'] } }));
    const { client, lhlo } = await session(h, proxyFrom(HARAKA));
    expect(lhlo.join('\n')).not.toContain('XCLIENT');
    expect((await client.command('XCLIENT ADDR=192.0.2.9')).code).toBeGreaterThanOrEqual(500);
    client.close();
  });
});
