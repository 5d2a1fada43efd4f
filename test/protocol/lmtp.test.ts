import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

async function lhlo(port: number): Promise<RawSmtpClient> {
  const client = await RawSmtpClient.open(port);
  expect((await client.reply()).code).toBe(220);
  expect((await client.command('LHLO client.test')).code).toBe(250);
  return client;
}

async function sendData(client: RawSmtpClient, message: string, replies: number) {
  expect((await client.command('DATA')).code).toBe(354);
  client.write(`${message}.\r\n`);
  const out = [];
  for (let i = 0; i < replies; i++) out.push(await client.reply());
  return out;
}

describe('LMTP listener (RFC 2033)', () => {
  it('greets as LMTP, accepts LHLO and refuses HELO/EHLO', async () => {
    hermod = await startHermod();
    const client = await RawSmtpClient.open(hermod.lmtpPort);
    expect((await client.reply()).text).toMatch(/^220 .*LMTP/);
    expect((await client.command('EHLO client.test')).code).toBe(500);
    expect((await client.command('HELO client.test')).code).toBe(500);
    const reply = await client.command('LHLO client.test');
    expect(reply.code).toBe(250);
    expect(reply.lines.join('\n')).toMatch(/PIPELINING/);
    client.close();
  });

  it('answers once per accepted recipient, in RCPT order, after DATA', async () => {
    hermod = await startHermod({}, [{ address: 'alice@example.test' }, { address: 'carol@example.test' }]);
    const client = await lhlo(hermod.lmtpPort);
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<carol@example.test>')).code).toBe(250);
    const unknown = await client.command('RCPT TO:<nobody@example.test>');
    expect(unknown.text).toMatch(/^550 5\.1\.1 /);
    expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    const replies = await sendData(client, sampleMessage(), 2);
    expect(replies.map((r) => r.code)).toEqual([250, 250]);
    const [carol, alice] = replies.map((r) => /delivered as (\S+)/.exec(r.text)![1]);
    const store = hermod.server.services.store;
    expect((await store.getEntry(carol))?.mailboxAddress).toBe('carol@example.test');
    expect((await store.getEntry(alice))?.mailboxAddress).toBe('alice@example.test');
    expect((await client.command('QUIT')).code).toBe(221);
  });

  it('writes the per-recipient replies to DATA to the socket together, in one write', async () => {
    const addresses = ['alice@example.test', 'carol@example.test', 'dave@example.test'];
    hermod = await startHermod({}, addresses.map((address) => ({ address })));
    const client = await lhlo(hermod.lmtpPort);
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    for (const to of addresses) expect((await client.command(`RCPT TO:<${to}>`)).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    // vi.spyOn calls through and records each call's `this`: the listener's end of this
    // connection is the socket whose local port is the LMTP port.
    type Writes = { _write: () => void; _writev: () => void };
    const single = vi.spyOn(Socket.prototype as unknown as Writes, '_write');
    const vector = vi.spyOn(Socket.prototype as unknown as Writes, '_writev');
    const byListener = (contexts: unknown[]) => contexts.filter((socket) => (socket as Socket).localPort === hermod!.lmtpPort).length;
    try {
      client.write(`${sampleMessage('together')}.\r\n`);
      const replies = [await client.reply(), await client.reply(), await client.reply()];
      expect(replies.map((r) => r.code)).toEqual([250, 250, 250]);
      expect({ single: byListener(single.mock.contexts), vectored: byListener(vector.mock.contexts) }).toEqual({ single: 0, vectored: 1 });
    } finally {
      single.mockRestore();
      vector.mockRestore();
    }
    client.close();
  });

  it('stores the same bytes once per mailbox when the MTA retries after a lost reply', async () => {
    hermod = await startHermod();
    const message = sampleMessage('retry');
    for (let attempt = 0; attempt < 2; attempt++) {
      const client = await lhlo(hermod.lmtpPort);
      await client.command('MAIL FROM:<bob@remote.test>');
      await client.command('RCPT TO:<alice@example.test>');
      const [reply] = await sendData(client, message, 1);
      expect(reply.code).toBe(250);
      client.close();
    }
    const store = hermod.server.services.store;
    const mailbox = (await store.resolveAddress('alice@example.test'))!;
    const entries = await store.listEntries({ mailboxId: mailbox.id, limit: 10 });
    expect(entries).toHaveLength(1);
    const raw = await store.getRaw(entries[0].sha256);
    expect(raw?.toString('latin1')).toBe(message);
  });
});
