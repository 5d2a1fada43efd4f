import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/message-store.js';
import type { Delivery } from '../../src/store/types.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { sampleMessage, startHermod, type Harness } from '../helpers/hermod-harness.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

async function deliver(port: number, rcpts: string[], message: string): Promise<string[]> {
  const client = await RawSmtpClient.open(port);
  await client.reply();
  await client.command('LHLO client.test');
  await client.command('MAIL FROM:<bob@remote.test>');
  for (const r of rcpts) expect((await client.command(`RCPT TO:<${r}>`)).code).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
  client.write(`${message}.\r\n`);
  const replies: string[] = [];
  for (const _ of rcpts) replies.push((await client.reply()).text);
  client.close();
  return replies;
}

async function countEntries(store: MessageStore, address: string): Promise<number> {
  const mailbox = (await store.resolveAddress(address))!;
  return (await store.listEntries({ mailboxId: mailbox.id, limit: 100 })).length;
}

describe('LMTP: a recipient is answered 250 only after its own durable write', () => {
  it('gives 451 4.3.0 to the one recipient whose write fails, 250 to the others', async () => {
    hermod = await startHermod({}, [{ address: 'alice@example.test' }, { address: 'carol@example.test' }]);
    const store = hermod.server.services.store;
    const carol = (await store.resolveAddress('carol@example.test'))!;
    // Wrap the real store's deliver so that carol's write fails, as a full disk for one
    // mailbox's shard would; everyone else's goes to SQLite as usual.
    const realDeliver = store.deliver.bind(store);
    store.deliver = async (d: Delivery) => {
      if (d.mailboxId === carol.id) throw new Error('simulated write failure');
      return realDeliver(d);
    };
    const replies = await deliver(hermod.lmtpPort, ['alice@example.test', 'carol@example.test'], sampleMessage());
    expect(replies[0]).toMatch(/^250 2\.0\.0 /);
    expect(replies[1]).toMatch(/^451 4\.3\.0 /);
    store.deliver = realDeliver;
    expect(await countEntries(store, 'alice@example.test')).toBe(1);
    expect(await countEntries(store, 'carol@example.test')).toBe(0);
  });

  it('gives every recipient 451 4.3.0 while SQLite cannot write, and 250 once on retry', async () => {
    hermod = await startHermod({ store: { sqlite: { busyTimeoutMs: 100 } } }, [
      { address: 'alice@example.test' },
      { address: 'carol@example.test' },
    ]);
    // Another connection holds SQLite's write lock: a real store that cannot write.
    const locker = new Database(join(hermod.config.dataDir, 'hermod.sqlite'));
    locker.exec('BEGIN EXCLUSIVE');
    const message = sampleMessage('locked');
    const rcpts = ['alice@example.test', 'carol@example.test'];
    const failed = await deliver(hermod.lmtpPort, rcpts, message);
    expect(failed).toEqual([expect.stringMatching(/^451 4\.3\.0 /), expect.stringMatching(/^451 4\.3\.0 /)]);
    locker.exec('ROLLBACK');
    locker.close();
    const store = hermod.server.services.store;
    expect(await countEntries(store, 'alice@example.test')).toBe(0);
    const retried = await deliver(hermod.lmtpPort, rcpts, message);
    expect(retried).toEqual([expect.stringMatching(/^250 /), expect.stringMatching(/^250 /)]);
    expect(await countEntries(store, 'alice@example.test')).toBe(1);
    expect(await countEntries(store, 'carol@example.test')).toBe(1);
  });
});
