/**
 * Property tests: hostile MIME bodies delivered over LMTP to a real Hermod with its default
 * plugin chain (parse, spam, classify, indexer). Each message is answered once, with 250 (and the
 * entry is stored) or a permanent refusal with an enhanced code; never a tempfail, which an MTA
 * would retry forever for input that will never change. The server delivers normally afterwards.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHermod, type Harness } from '../helpers/hermod-harness.js';
import { hostileMessage } from '../helpers/mime-arbitraries.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { expectServersUnharmed, propertyParameters, replyLineProblem, watchProcessFaults } from '../helpers/wire-properties.js';

/** The message on the wire: dot-stuffed, ending in CRLF before the terminating dot. */
function dataBytes(message: string): Buffer {
  const stuffed = message.replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(`${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1');
}

/** One transaction to alice@example.test carrying `message`; returns the reply to the DATA. */
async function deliver(port: number, hello: string, message: string): Promise<{ lines: string[]; code: number; text: string }> {
  const client = await RawSmtpClient.open(port);
  try {
    expect((await client.reply()).code).toBe(220);
    expect((await client.command(`${hello} mta.test`)).code).toBe(250);
    expect((await client.command('MAIL FROM:<bob@remote.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<alice@example.test>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(dataBytes(message));
    const reply = await client.reply(30_000);
    expect((await client.command('QUIT')).code).toBe(221);
    return reply;
  } finally {
    client.close();
  }
}

let hermod: Harness;
let watch: ReturnType<typeof watchProcessFaults>;
beforeAll(async () => {
  watch = watchProcessFaults();
  hermod = await startHermod();
});
afterAll(async () => {
  await hermod?.stop();
  watch?.uninstall();
});
afterEach(() => expectServersUnharmed(watch.faults, [hermod]));

describe.each([
  ['LMTP', 'LHLO', () => hermod.lmtpPort],
  ['SMTP', 'EHLO', () => hermod.smtpPort],
])('hostile MIME bodies over %s', (_name, hello, port) => {
  it('each is answered with 250 (and stored) or a 5xx with an enhanced code', { timeout: 90_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(hostileMessage(5), async (message) => {
        const reply = await deliver(port(), hello, message);
        const context = { reply: reply.lines, message: message.slice(0, 2000) };
        expect({ problem: replyLineProblem(reply.text, true), context }).toEqual({ problem: null, context });
        expect({ permanentOrAccepted: reply.code === 250 || reply.code >= 500, context }).toEqual({ permanentOrAccepted: true, context });
        const entryId = /delivered as (\S+)/.exec(reply.text)?.[1];
        if (reply.code === 250 && entryId) {
          const stored = await hermod.server.services.store.getFullMessage(entryId);
          expect({ stored: stored !== null && stored.length > 0, context }).toEqual({ stored: true, context });
        }
      }),
      propertyParameters(30),
    );
    // The indexer read every hostile document too: the index catches up with the store.
    const store = hermod.server.services.store;
    const mailbox = (await store.resolveAddress('alice@example.test'))!;
    const stored = (await store.listEntries({ mailboxId: mailbox.id, limit: 1000 })).map((e) => e.id).sort();
    let indexed: string[] = [];
    for (let waited = 0; waited < 60_000 && indexed.length < stored.length; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      indexed = [...(await hermod.server.services.search.versions(mailbox.id)).keys()].sort();
    }
    expect(indexed).toEqual(stored);
  });
});
