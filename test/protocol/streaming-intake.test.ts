import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startServer } from '../../src/server.js';
import type { MessageStore } from '../../src/store/message-store.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient, type WireReply } from '../helpers/smtp-client.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

/** A message of about `size` bytes: headers, then 76-column lines (none starts with a dot). */
function bigMessage(size: number, tag: string): Buffer {
  const head = `From: Bob <bob@remote.test>\r\nTo: alice@example.test\r\nSubject: big ${tag}\r\nMessage-ID: <${tag}@remote.test>\r\n\r\n`;
  const lines: string[] = [];
  let length = head.length;
  for (let i = 0; length < size; i++) {
    const line = `${tag}:${i}:`.padEnd(76, String.fromCharCode(65 + (i % 26)));
    lines.push(line);
    length += 78;
  }
  return Buffer.from(`${head}${lines.join('\r\n')}\r\n`, 'latin1');
}

async function openTransaction(port: number, rcpt = 'alice@example.test'): Promise<RawSmtpClient> {
  const client = await RawSmtpClient.open(port);
  await client.reply();
  await client.command('LHLO client.test');
  await client.command('MAIL FROM:<bob@remote.test>');
  expect((await client.command(`RCPT TO:<${rcpt}>`)).code).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
  return client;
}

/** One LMTP transaction to alice; the DATA reply. */
async function deliver(port: number, message: Buffer): Promise<WireReply> {
  const client = await openTransaction(port);
  client.write(Buffer.concat([message, Buffer.from('.\r\n')]));
  const reply = await client.reply(30_000);
  client.close();
  return reply;
}

async function entriesOf(store: MessageStore, address: string) {
  const mailbox = (await store.resolveAddress(address))!;
  return store.listEntries({ mailboxId: mailbox.id, limit: 100 });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('streaming DATA intake', () => {
  it('stores a message past the spool threshold byte-identical, under the SHA-256 of its bytes, leaving no spool file', async () => {
    hermod = await startHermod({ limits: { spoolThresholdBytes: 64 * 1024 }, store: { sqlite: { fileThresholdBytes: 256 * 1024 } } });
    const message = bigMessage(3 * 1024 * 1024, 'large');
    const reply = await deliver(hermod.lmtpPort, message);
    expect(reply.text).toMatch(/^250 2\.0\.0 /);
    const store = hermod.server.services.store;
    const [entry] = await entriesOf(store, 'alice@example.test');
    expect(entry.sha256).toBe(sha256(message));
    expect((await store.getRaw(entry.sha256))!.equals(message)).toBe(true);
    const full = (await store.getFullMessage(entry.id))!;
    expect(full.subarray(full.length - message.length).equals(message)).toBe(true);
    // The store copied it to its content-addressed file; the spool holds nothing any more.
    const blobFile = join(hermod.config.dataDir, 'hermod.sqlite.blobs', entry.sha256.slice(0, 2), entry.sha256);
    expect(existsSync(blobFile)).toBe(true);
    expect(readdirSync(join(hermod.config.dataDir, 'spool'))).toEqual([]);
  });

  it('keeps the same bytes and hash for a message below the threshold', async () => {
    hermod = await startHermod({ limits: { spoolThresholdBytes: 1024 * 1024 } });
    const message = bigMessage(8 * 1024, 'small');
    expect((await deliver(hermod.lmtpPort, message)).code).toBe(250);
    const [entry] = await entriesOf(hermod.server.services.store, 'alice@example.test');
    expect(entry.sha256).toBe(sha256(message));
  });

  it('answers 451 4.3.1 to a DATA that finds the in-flight budget used up after its wait, and 250 once there is room', async () => {
    // Threshold 0: the first chunk of the held message makes a spool file, which shows that its
    // bytes are counted before the second DATA starts.
    hermod = await startHermod({ limits: { spoolThresholdBytes: 0, maxInflightBytes: 1024, inflightWaitMs: 200 } });
    const spoolDir = join(hermod.config.dataDir, 'spool');
    const held = await openTransaction(hermod.lmtpPort);
    const heldMessage = bigMessage(16 * 1024, 'held');
    held.write(heldMessage);
    await until(() => readdirSync(spoolDir).length > 0);

    const refused = await deliver(hermod.lmtpPort, bigMessage(2048, 'refused'));
    expect(refused.text).toMatch(/^451 4\.3\.1 /);

    held.write('.\r\n');
    expect((await held.reply(30_000)).text).toMatch(/^250 2\.0\.0 /);
    held.close();
    const retried = await deliver(hermod.lmtpPort, bigMessage(2048, 'refused'));
    expect(retried.text).toMatch(/^250 2\.0\.0 /);
    expect(await entriesOf(hermod.server.services.store, 'alice@example.test')).toHaveLength(2);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('answers 452 4.3.1, never 250, when the spool cannot be written, and stores nothing', async () => {
    hermod = await startHermod({ limits: { spoolThresholdBytes: 1024 } });
    const spoolDir = join(hermod.config.dataDir, 'spool');
    // A regular file where the spool directory was: every spool write fails, as on a full disk.
    rmSync(spoolDir, { recursive: true });
    writeFileSync(spoolDir, 'not a directory');
    const reply = await deliver(hermod.lmtpPort, bigMessage(64 * 1024, 'nospace'));
    expect(reply.text).toMatch(/^452 4\.3\.1 /);
    expect(await entriesOf(hermod.server.services.store, 'alice@example.test')).toEqual([]);
    // A message that fits in memory needs no spool and is still delivered.
    expect((await deliver(hermod.lmtpPort, bigMessage(512, 'tiny'))).code).toBe(250);
  });

  it('removes spool files an earlier run left behind when it starts', async () => {
    hermod = await startHermod();
    const spoolDir = join(hermod.config.dataDir, 'spool');
    await hermod.server.close();
    writeFileSync(join(spoolDir, 'left-by-a-crash.eml'), 'partial message');
    // The same data dir, started again (the harness would add its domain a second time).
    const again = await startServer(hermod.config, pino({ level: 'silent' }));
    try {
      expect(readdirSync(spoolDir)).toEqual([]);
    } finally {
      await again.close();
    }
  });
});
