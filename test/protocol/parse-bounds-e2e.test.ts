import { afterEach, describe, expect, it } from 'vitest';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';

let hermod: Harness | undefined;
afterEach(async () => {
  await hermod?.stop();
  hermod = undefined;
});

/** multipart/mixed with `count` small attachment parts. */
function manyParts(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(`--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="f${i}.txt"\r\n\r\npart ${i}\r\n`);
  }
  return (
    'From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: many parts\r\nMessage-ID: <parts@remote.test>\r\n' +
    'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n' +
    `--p\r\nContent-Type: text/plain\r\n\r\nthe text\r\n${parts.join('')}--p--\r\n`
  );
}

/** One LMTP delivery to alice@example.test; returns the DATA reply. */
async function deliver(h: Harness, message: string): Promise<string> {
  const client = await RawSmtpClient.open(h.lmtpPort);
  await client.reply();
  await client.command('LHLO mta.test');
  await client.command('MAIL FROM:<sender@remote.test>');
  expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
  await client.command('DATA');
  client.write(`${message}.\r\n`);
  const reply = (await client.reply()).text;
  client.close();
  return reply;
}

describe('parse bounds through the default chain', () => {
  it('delivers a message of 5,000 parts with 250 and a parse-bound ledger line', async () => {
    hermod = await startHermod();
    const reply = await deliver(hermod, manyParts(5000));
    expect(reply).toMatch(/^250 2\.0\.0 /);
    const entryId = /delivered as (\S+)/.exec(reply)![1];
    const store = hermod.server.services.store;
    const ledger = await store.getLedger(entryId);
    const parseLine = ledger.find((l) => l.plugin === 'parse')!;
    expect(parseLine.reason).toContain('parse bound hit: maxParts 1000');
    expect(parseLine.details).toMatchObject({ tags: ['parse-bound'], bounds: [{ bound: 'maxParts', limit: 1000 }] });
    expect(parseLine.details?.fallback).toBeUndefined();
    const entry = (await store.getEntry(entryId))!;
    expect(entry.summary.subject).toBe('many parts');
    expect(entry.summary.attachments).toHaveLength(998);
  });

  it('refuses it with 554 5.6.0 when the operator sets onBound: reject', async () => {
    hermod = await startHermod({
      plugins: [{ name: 'parse', config: { onBound: 'reject' } }, { name: 'spam' }],
    });
    const reply = await deliver(hermod, manyParts(5000));
    expect(reply).toMatch(/^554 5\.6\.0 Message structure exceeds a limit \(maxParts 1000\)/);
  });
});
