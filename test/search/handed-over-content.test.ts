import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readsLikeTheIndexer, type MessageContent } from '../../src/mail/message-content.js';
import { buildSearchDocument, documentFromContent, MAX_BODY_CHARS } from '../../src/search/document-builder.js';
import { parseMessageText } from '../../src/search/message-text.js';
import parse, { parseConfigSchema } from '../../plugins/parse/index.js';
import { MAIL_FIXTURE_DIR, makeTransaction, runHook } from '../helpers/plugin-context.js';
import { hostileMessage } from '../helpers/mime-arbitraries.js';
import { bareEntry, CORPUS, FIXTURES_DIR } from './search-corpus.js';

/** What the parse plugin hands over for these bytes (undefined: the indexer parses them itself). */
async function handedOver(raw: Buffer, config: Record<string, unknown> = {}): Promise<MessageContent | undefined> {
  const txn = makeTransaction(raw, [{ address: 'alice@example.org', aliases: [] }]);
  await runHook(parse, 'data', txn, config);
  return txn.searchContent;
}

/**
 * The entry has an empty summary, as when the parse plugin's listing fields are missing: the
 * document then takes subject, addresses and attachment names from the content too, so every
 * field of the content shows in the comparison.
 */
const entryFor = (raw: Buffer) => bareEntry(CORPUS[0], raw);

/** Asserts the content handed over builds the very document the indexer builds from the bytes. */
async function expectSameDocument(raw: Buffer): Promise<void> {
  const content = await handedOver(raw);
  expect(content).toBeDefined();
  expect(content).toEqual(await parseMessageText(raw));
  const entry = entryFor(raw);
  expect(await documentFromContent(entry, content!, 7)).toEqual(await buildSearchDocument(entry, raw, 7));
}

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

/** Crafted messages, one per shape the document builder treats differently. */
const crafted: [string, Buffer][] = [
  ['plain text', crlf(['From: "Smith, Bob" <bob@remote.test>', 'To: Alice <alice@example.org>, carol@example.org', 'Cc: Undisclosed:;', 'Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=', '', 'Hello München', ''])],
  ['html only', crlf(['From: bob@remote.test', 'Subject: html', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', '<html><head><title>t</title><style>p{}</style></head><body><p>Agenda&amp;minutes</p><script>x()</script><div>Room 4</div></body></html>', ''])],
  ['multipart/alternative', crlf(['From: bob@remote.test', 'Subject: alt', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary=b1', '', '--b1', 'Content-Type: text/plain', '', 'plain words', '--b1', 'Content-Type: text/html', '', '<p>html words</p>', '--b1--', ''])],
  ['attachments, named and unnamed', crlf(['From: bob@remote.test', 'Subject: att', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=m', '', '--m', 'Content-Type: text/plain', '', 'see attached', '--m', 'Content-Type: application/pdf; name="q1.pdf"', 'Content-Disposition: attachment; filename="q1.pdf"', 'Content-Transfer-Encoding: base64', '', Buffer.from('%PDF-1.4 fake').toString('base64'), '--m', 'Content-Type: application/octet-stream', 'Content-Disposition: attachment', '', 'opaque', '--m--', ''])],
  ['inline related parts only', crlf(['From: bob@remote.test', 'Subject: logo', 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary=r', '', '--r', 'Content-Type: text/html', '', '<p>with logo <img src="cid:logo"></p>', '--r', 'Content-Type: image/png', 'Content-ID: <logo>', 'Content-Disposition: inline; filename="logo.png"', 'Content-Transfer-Encoding: base64', '', 'iVBORw0KGgo=', '--r--', ''])],
  ['broken MIME: no closing boundary, bad base64', crlf(['From: bob@remote.test', 'Subject: broken', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=x', '', 'preamble', '--x', 'Content-Type: text/plain; charset=x-unknown-42', 'Content-Transfer-Encoding: base64', '', '!!!not base64!!!', '--x', 'Content-Type: text/plain', 'Content-Transfer-Encoding: quoted-printable', '', 'soft=', 'break =ZZ end', ''])],
  ['declared multipart without its boundary', crlf(['From: <<<@>>>', 'To: ,,,;;;', 'Subject: no parts', 'Content-Type: multipart/mixed; boundary="gone"', '', 'just text, no parts', ''])],
  ['bare LF line ends, garbage header line', Buffer.from('From: bob@remote.test\nnot a header\nSubject: lf\n\nbody line\n')],
  ['a body just under the per-part bound', crlf(['From: bob@remote.test', 'Subject: long', '', 'word '.repeat(50_000), ''])],
];

const fixtureFiles = (dir: string): [string, Buffer][] =>
  readdirSync(dir).filter((name) => name.endsWith('.eml')).sort().map((name) => [name, readFileSync(join(dir, name))]);

describe('content handed over by the parse plugin', () => {
  it.each([...fixtureFiles(MAIL_FIXTURE_DIR), ...fixtureFiles(FIXTURES_DIR)])('builds the same document as the stored bytes: %s', async (_name, raw) => {
    await expectSameDocument(raw);
  });

  it.each(crafted)('builds the same document as the stored bytes: %s', async (_name, raw) => {
    await expectSameDocument(raw);
  });

  it('builds the same document for generated hostile MIME, whenever the parse hands one over', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(hostileMessage(4), async (message) => {
        const raw = Buffer.from(message, 'latin1');
        const content = await handedOver(raw);
        if (!content) return;
        compared++;
        expect(content).toEqual(await parseMessageText(raw));
        const entry = entryFor(raw);
        expect(await documentFromContent(entry, content, 1)).toEqual(await buildSearchDocument(entry, raw, 1));
      }),
      { numRuns: 150, seed: Number(process.env.HERMOD_PROPERTY_SEED ?? 4242) },
    );
    expect(compared).toBeGreaterThan(100);
  });

  it('hands nothing over for a body past a bound (the indexer reads it up to MAX_BODY_CHARS itself)', async () => {
    const raw = crlf(['From: bob@remote.test', 'Subject: huge', '', 'x'.repeat(MAX_BODY_CHARS + 10), '']);
    expect(await handedOver(raw)).toBeUndefined();
    const document = await buildSearchDocument(entryFor(raw), raw, 1);
    expect(document.body).toHaveLength(MAX_BODY_CHARS);
  });

  it('hands nothing over when a part bound stops the parse', async () => {
    const parts = Array.from({ length: 12 }, (_, i) => ['--p', 'Content-Type: text/plain', '', `part ${i}`]).flat();
    const raw = crlf(['From: bob@remote.test', 'Content-Type: multipart/mixed; boundary=p', '', ...parts, '--p--', '']);
    expect(await handedOver(raw, { maxParts: 5 })).toBeUndefined();
    expect(await handedOver(raw)).toBeDefined();
  });

  it('hands nothing over when the parse reads more than the indexer would (looser bounds)', async () => {
    const raw = crafted[0][1];
    expect(await handedOver(raw, { maxHeaders: 5000 })).toBeUndefined();
    expect(await handedOver(raw, { maxHeaderFieldBytes: 64 * 1024 })).toBeUndefined();
    expect(await handedOver(raw, { maxParts: 20_000 })).toBeUndefined();
    expect(await handedOver(raw, { maxHeaderBytes: 1024 * 1024 })).toBeUndefined();
  });

  it('holds the default parse bounds within the indexer’s', () => {
    expect(readsLikeTheIndexer(parseConfigSchema.parse({}))).toBe(true);
  });
});
