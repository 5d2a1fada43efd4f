import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cassandraStoreSection, testSession, uniqueKeyspace } from '../helpers/cassandra.js';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

const keyspace = uniqueKeyspace('intake');
let hermod: Harness | undefined;

afterAll(async () => {
  await hermod?.stop();
  const session = await testSession('system');
  try {
    await session.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await session.shutdown();
  }
});

/** About `size` bytes of 76-column lines (none starts with a dot), CRLF line ends. */
function bigMessage(size: number): Buffer {
  const head = 'From: Bob <bob@remote.test>\r\nTo: alice@example.test\r\nSubject: big on Cassandra\r\n\r\n';
  const lines: string[] = [];
  for (let i = 0, length = head.length; length < size; i++, length += 78) {
    lines.push(`${i}:`.padEnd(76, String.fromCharCode(97 + (i % 26))));
  }
  return Buffer.from(`${head}${lines.join('\r\n')}\r\n`, 'latin1');
}

describe('streaming DATA intake on the Cassandra store', () => {
  it('stores a spooled 3 MiB message and reads it back byte-identical, leaving no spool file', async () => {
    hermod = await startHermod({
      limits: { spoolThresholdBytes: 64 * 1024 },
      store: cassandraStoreSection(keyspace, { migrateOnStart: true }),
    });
    const message = bigMessage(3 * 1024 * 1024);
    const client = await RawSmtpClient.open(hermod.lmtpPort);
    await client.reply();
    await client.command('LHLO client.test');
    await client.command('MAIL FROM:<bob@remote.test>');
    expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(Buffer.concat([message, Buffer.from('.\r\n')]));
    expect((await client.reply(60_000)).text).toMatch(/^250 2\.0\.0 /);
    client.close();

    const store = hermod.server.services.store;
    const mailbox = (await store.resolveAddress('alice@example.test'))!;
    const [entry] = await store.listEntries({ mailboxId: mailbox.id, limit: 10 });
    expect(entry.sha256).toBe(createHash('sha256').update(message).digest('hex'));
    expect((await store.getRaw(entry.sha256))!.equals(message)).toBe(true);
    const full = (await store.getFullMessage(entry.id))!;
    expect(full.subarray(full.length - message.length).equals(message)).toBe(true);
    expect(readdirSync(join(hermod.config.dataDir, 'spool'))).toEqual([]);
  });
});
