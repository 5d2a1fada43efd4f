import { describe, expect, it } from 'vitest';
import { buildSearchDocument, MAX_BODY_CHARS } from '../../src/search/document-builder.js';
import { htmlToPlainText } from '../../src/mail/html-text.js';
import { bareEntry, CORPUS, readFixture } from './search-corpus.js';

const spec = (fixture: string) => CORPUS.find((entry) => entry.fixture === fixture)!;

async function build(fixture: string) {
  const raw = await readFixture(fixture);
  return buildSearchDocument(bareEntry(spec(fixture), raw), raw, 42);
}

describe('buildSearchDocument', () => {
  it('takes entry fields from the entry and the rest from the message', async () => {
    const doc = await build('quarterly-report.eml');
    expect(doc).toMatchObject({
      entryId: 'entry-01',
      mailboxId: 'mbx-a',
      folder: 'INBOX',
      subject: 'Quarterly report draft',
      from: 'Alice Example <alice@example.com>',
      to: ['Bob Builder <bob@example.org>'],
      cc: ['Carol Danvers <carol@example.net>'],
      attachmentNames: [],
      hasAttachment: false,
      threadId: 'thread-entry-01',
      version: 42,
    });
    expect(doc.date.toISOString()).toBe('2024-03-05T10:15:02.000Z');
    expect(doc.body).toContain('budget numbers for the third quarter');
  });

  it('lists attachment names and flags the attachment', async () => {
    const doc = await build('invoice-attachment.eml');
    expect(doc.attachmentNames).toEqual(['receipt-march-2024.pdf']);
    expect(doc.hasAttachment).toBe(true);
    expect(doc.body).toContain('Your invoice is attached');
    expect(doc.body).not.toContain('JVBER');
  });

  it('decodes encoded words and quoted-printable UTF-8', async () => {
    const doc = await build('utf8-greetings.eml');
    expect(doc.subject).toBe('Grüße aus München — Café');
    expect(doc.from).toBe('Jürgen Müller <juergen@beispiel.de>');
    expect(doc.body).toContain('Das Café an der Straße hat wieder geöffnet.');
    expect(doc.body).toContain('東京');
  });

  it('prefers the text part of multipart/alternative', async () => {
    const doc = await build('newsletter-alternative.eml');
    expect(doc.body).toContain('tulip bulbs and seed packets');
    expect(doc.body).not.toContain('<');
    expect(doc.body).not.toContain('color: green');
  });

  it('turns an HTML-only body into text', async () => {
    const doc = await build('meeting-html-only.eml');
    expect(doc.body).toContain('Thursday afternoon, room Kepler');
    expect(doc.body).toContain('"roadmap"');
    expect(doc.body).not.toContain('<b>');
    expect(doc.to).toEqual(['Bob Builder <bob@example.org>', 'Alice Example <alice@example.com>']);
  });

  it('does not count an inline image of multipart/related as an attachment', async () => {
    const doc = await build('related-inline-image.eml');
    expect(doc.hasAttachment).toBe(false);
    expect(doc.attachmentNames).toEqual([]);
    expect(doc.body).toContain('Meet our new logo.');
  });

  it('prefers the summary the pipeline stored over the parsed headers', async () => {
    const raw = await readFixture('invoice-attachment.eml');
    const entry = bareEntry(spec('invoice-attachment.eml'), raw);
    entry.summary = {
      subject: 'Stored subject',
      from: 'stored@example.com',
      to: ['stored-to@example.com'],
      cc: ['stored-cc@example.com'],
      date: null,
      messageId: null,
      attachments: [{ filename: 'stored.pdf', contentType: 'application/pdf', size: 1, sha256: 'x' }],
    };
    const doc = await buildSearchDocument(entry, raw, 1);
    expect(doc).toMatchObject({
      subject: 'Stored subject',
      from: 'stored@example.com',
      to: ['stored-to@example.com'],
      cc: ['stored-cc@example.com'],
      attachmentNames: ['stored.pdf'],
      hasAttachment: true,
    });
  });

  it('indexes an HTML-only body of 1 MiB of < as text, stripped linearly', async () => {
    const raw = Buffer.from(`Subject: angles\r\nContent-Type: text/html\r\n\r\nhello ${'<'.repeat(1024 * 1024)}\r\n`);
    const doc = await buildSearchDocument(bareEntry(spec('quarterly-report.eml'), raw), raw, 1);
    expect(doc.body.startsWith('hello <<<')).toBe(true);
    expect(doc.body.length).toBe(MAX_BODY_CHARS);
  });

  it('indexes a message of 5,000 parts instead of failing on the part count', async () => {
    const parts = Array.from({ length: 5000 }, (_, i) =>
      `--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\n\r\nx\r\n`,
    ).join('');
    const raw = Buffer.from(`Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n` +
      `--p\r\nContent-Type: text/plain\r\n\r\nfindable words\r\n${parts}--p--\r\n`);
    const entry = bareEntry(spec('quarterly-report.eml'), raw);
    entry.summary = { ...entry.summary, attachments: [] };
    const doc = await buildSearchDocument(entry, raw, 1);
    expect(doc.body).toContain('findable words');
    expect(doc.attachmentNames).toHaveLength(5000);
    expect(doc.hasAttachment).toBe(true);
  });

  it('decodes at most 1,000 fields of a header block, as the parse plugin keeps, and still indexes the body', async () => {
    const filler = Array.from({ length: 10_000 }, (_, i) => `X-Filler-${i}: value ${i}\r\n`).join('');
    const raw = Buffer.from(`From: first@example.org\r\n${filler}Subject: past the bound\r\n\r\nfindable words\r\n`);
    const entry = bareEntry(spec('quarterly-report.eml'), raw);
    entry.summary = { ...entry.summary, subject: '', from: '' };
    const doc = await buildSearchDocument(entry, raw, 1);
    expect(doc.from).toBe('first@example.org');
    expect(doc.subject).toBe('');
    expect(doc.body).toContain('findable words');
  });

  it('decodes at most 32 KiB of one header field, as the parse plugin keeps', async () => {
    const name = 'n'.repeat(100 * 1024);
    const raw = Buffer.from(`From: "${name}" <far@example.org>\r\nSubject: long name\r\n\r\nfindable words\r\n`);
    const entry = bareEntry(spec('quarterly-report.eml'), raw);
    entry.summary = { ...entry.summary, from: '' };
    const doc = await buildSearchDocument(entry, raw, 1);
    expect(doc.from.length).toBeLessThan(32 * 1024);
    expect(doc.from.startsWith('nnnn')).toBe(true);
    expect(doc.body).toContain('findable words');
  });

  it('caps the indexed body', async () => {
    const big = Buffer.from(`Subject: big\r\n\r\n${'word '.repeat(MAX_BODY_CHARS / 4)}\r\n`);
    const doc = await buildSearchDocument(bareEntry(spec('quarterly-report.eml'), big), big, 1);
    expect(doc.body.length).toBe(MAX_BODY_CHARS);
  });
});

describe('HTML to the indexed text', () => {
  it.each([
    ['<p>a <b>b</b></p>', 'a b'],
    ['<style>p{}</style><script>x()</script>text', 'text'],
    ['a&nbsp;&amp;&lt;b&gt;&quot;c&quot;&#39;', 'a &<b>"c"\''],
    ['<SCRIPT type=x>a<b</Script >after', 'after'],
    ['a < b and c > d', 'a d'],
    ['x <a href="y"', 'x <a href="y"'],
  ])('%j → %j', (html, text) => {
    expect(htmlToPlainText(html)).toBe(text);
  });

  // Hostile bodies: a tag-stripping regex with the global flag rescans to the end from every '<'
  // (quadratic). These inputs are large enough that such a scan would not finish within the test's
  // timeout; the assertions are on the output, which must keep the unclosed text.
  it('keeps 4 MiB of unclosed < as text', () => {
    const html = '<'.repeat(4 * 1024 * 1024);
    expect(htmlToPlainText(html)).toBe(html);
  });

  it('drops 1 MiB of <a tags and 200,000 unclosed <script elements', () => {
    expect(htmlToPlainText('<a>'.repeat(350_000) + 'end')).toBe('end');
    const scripts = '<script>x'.repeat(200_000);
    expect(htmlToPlainText(scripts)).toBe('x '.repeat(200_000).trim());
  });
});
