import { describe, expect, it } from 'vitest';
import { TimeSlice } from '../../src/pipeline/time-slice.js';
import type { ParsedMessage } from '../../src/pipeline/types.js';
import { spamConfigSchema } from './config.js';
import {
  hasForgedOutlookMessageId, hasMalformedMessageId, hasMixedScriptWord, hasMixedScriptWordSliced, hasRiskyAttachment, hasUndeclared8bitBody,
  hasUnencoded8bitHeader, receiptTime,
} from './evidence.js';
import { headerText } from '../../src/plugin-api.js';
import { attribute, scanHtml, scanHtmlSliced } from './html-scan.js';
import { domainInText, isIpLiteral, linkEvidence, siteOf, textUrls, urlHost } from './links.js';
import { emailInText, GTUBE, hasTextPlainPart, RULES } from './rules.js';

const MiB = 1024 * 1024;

function parsed(headers: Record<string, string>, extra: Partial<ParsedMessage> = {}): ParsedMessage {
  return {
    subject: '', from: '', to: [], cc: [], date: null, messageId: null, threadId: '', text: '', html: '', attachments: [],
    headers: new Map(Object.entries(headers).map(([k, v]) => [k, [v]])),
    ...extra,
  };
}

describe('HTML scanner', () => {
  it('gives the visible text, links with their texts, and image counts', () => {
    const scan = scanHtml(
      '<html><style>p{}</style><p>Hi&nbsp;there</p><!-- hidden --><a href="http://x.example/a?b=1&amp;c=2">Click <b>here</b></a>' +
        '<img src=a.png><script>var x = "<p>";</script>Vi<!-- -->agra &lt;3',
    );
    expect(scan.text.replace(/\s+/g, ' ').trim()).toBe('Hi there Click here Viagra <3');
    expect(scan.links).toEqual([{ href: 'http://x.example/a?b=1&c=2', text: 'Click here' }]);
    expect(scan.images).toBe(1);
  });

  it('reads quoted and bare attributes, not look-alike names', () => {
    expect(attribute('a data-href="no" href=\'yes\'', 'href')).toBe('yes');
    expect(attribute('a href = bare title=x', 'href')).toBe('bare');
    expect(attribute('a title=x', 'href')).toBeUndefined();
  });

  it('is linear on hostile markup: a MiB of "<", of "<a", an unclosed comment, an unclosed script', () => {
    expect(scanHtml('<'.repeat(MiB), 2 * MiB).text).toHaveLength(MiB);
    expect(scanHtml('<a'.repeat(MiB / 2), 2 * MiB).text).toHaveLength(MiB);
    expect(scanHtml(`ok<!--${'-'.repeat(MiB)}`, 2 * MiB).text).toBe('ok');
    expect(scanHtml(`ok<script>${'<'.repeat(MiB)}`, 2 * MiB).text).toBe('ok');
    expect(scanHtml(`${'<a href=x>y</a>'.repeat(MiB / 16)}`, 2 * MiB).links).toHaveLength(500);
  });

  it('scans to the same result with turns of the event loop as at once', async () => {
    const samples = [
      '<'.repeat(MiB / 4),
      '<a '.repeat(MiB / 12),
      '<p>Hi</p><a href="http://x.example/">Click <b>here</b></a><img src=a.png>'.repeat(5000),
      `ok<script>${'<'.repeat(MiB / 8)}`,
    ];
    for (const html of samples) expect(await scanHtmlSliced(html, MiB, new TimeSlice(0))).toEqual(scanHtml(html, MiB));
  });
});

describe('links', () => {
  it('finds hosts, IP literals and sites', () => {
    expect(urlHost('HTTP://user@Www.Example.COM.:8080/x')).toBe('www.example.com');
    expect(urlHost('mailto:a@b.example')).toBe('');
    expect(['192.0.2.1', '[2001:db8::1]', '3221225985', '0xc0000201'].every(isIpLiteral)).toBe(true);
    expect(isIpLiteral('example.com')).toBe(false);
    expect(siteOf('a.b.example.co.uk')).toBe('example.co.uk');
    expect(siteOf('mail.example.com')).toBe('example.com');
  });

  it('finds bare URLs in text without trailing punctuation', () => {
    expect(textUrls('see http://a.example/x. and www.b.example, or https://c.example/?q=1!')).toEqual([
      'http://a.example/x', 'http://www.b.example', 'https://c.example/?q=1',
    ]);
  });

  it('tells an anchor text naming another site than its target', () => {
    const evidence = linkEvidence([{ href: 'http://198.51.100.7/login', text: 'www.bank.example' }, { href: 'http://bit.ly/x', text: 'more' }], '');
    expect(evidence).toMatchObject({ ipLiteral: true, shortener: true, textMismatch: true });
    expect(linkEvidence([{ href: 'https://news.bank.example/x', text: 'bank.example' }], '').textMismatch).toBe(false);
    expect(domainInText('click here')).toBe('');
  });

  it('is linear on a MiB of "http" or "www." with no end', () => {
    expect(textUrls('http'.repeat(MiB / 4)).length).toBeLessThanOrEqual(500);
    expect(textUrls('www.'.repeat(MiB / 4)).length).toBeLessThanOrEqual(500);
    expect(textUrls(`x ${'.'.repeat(MiB)}`)).toEqual([]);
  });
});

describe('an address in a display name', () => {
  it('finds local@domain.tld and nothing in plain names', () => {
    expect(emailInText('"service@bank.example" via')).toBe('service@bank.example');
    expect(emailInText('Alice Example')).toBeUndefined();
    expect(emailInText('a@b')).toBeUndefined();
  });

  it('is linear on a MiB without a stop character or with many @', () => {
    expect(emailInText('a'.repeat(MiB))).toBeUndefined();
    expect(emailInText('@'.repeat(MiB))).toBeUndefined();
    expect(emailInText(`${'a'.repeat(MiB)}@x`)).toBeUndefined();
  });
});

describe('evidence rules', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('takes the receipt time from the newest Received header, else Delivery-Date, else the clock', () => {
    const received = parsed({ received: 'from a by b; Mon, 9 Sep 2002 10:49:06 +0100 (IST)' });
    expect(receiptTime(received, now).toISOString()).toBe('2002-09-09T09:49:06.000Z');
    expect(receiptTime(parsed({ 'delivery-date': 'Thu Sep  5 23:42:38 2002' }), now).getUTCFullYear()).toBe(2002);
    expect(receiptTime(parsed({}), now)).toBe(now);
    expect(receiptTime(parsed({ received: 'from a by b; garbage' }), now)).toBe(now);
  });

  it('tells a Message-ID in Outlook form without a Microsoft mailer', () => {
    const id = '<002a38a20d2c$2885d7c4$1de48cb6@lcrbal>';
    expect(hasForgedOutlookMessageId(parsed({ 'message-id': id, 'x-mailer': 'The Bat! (v1.52f)' }))).toBe(true);
    expect(hasForgedOutlookMessageId(parsed({ 'message-id': id }))).toBe(true);
    expect(hasForgedOutlookMessageId(parsed({ 'message-id': id, 'x-mailer': 'Microsoft Outlook Express 6.00' }))).toBe(false);
    expect(hasForgedOutlookMessageId(parsed({ 'message-id': '<abc@example.org>' }))).toBe(false);
  });

  it('tells a malformed Message-ID', () => {
    expect(hasMalformedMessageId(parsed({ 'message-id': 'abc@example.org' }))).toBe(true);
    expect(hasMalformedMessageId(parsed({ 'message-id': '<abc>' }))).toBe(true);
    expect(hasMalformedMessageId(parsed({ 'message-id': '<abc@host>' }))).toBe(false);
  });

  it('tells words mixing Latin with Cyrillic or Greek letters, not neighbouring words', () => {
    expect(hasMixedScriptWord('Log in to P\u0430ypal')).toBe(true);
    expect(hasMixedScriptWord('Hello \u043c\u0438\u0440 and \u03b1\u03b2\u03b3 caf\u00e9')).toBe(false);
    // Characters outside the BMP: a letter keeps the word going, anything else ends it.
    expect(hasMixedScriptWord('Pay\u{1D41A}\u0430\u0431')).toBe(true);
    expect(hasMixedScriptWord('Pay\u{1F600}\u0430\u0431')).toBe(false);
    expect(hasMixedScriptWord('Pay\ud800\u0430\u0431')).toBe(false);
  });

  it('gives the same mixed-script answer piece by piece, with event-loop turns, as on the whole text', async () => {
    const plain = 'Hello \u043c\u0438\u0440 and \u03b1\u03b2\u03b3 caf\u00e9\u00a0'.repeat(5000);
    for (const text of [plain, plain + 'Log in to P\u0430ypal', '<'.repeat(300_000), `${plain}P\u0430y${'pal'.repeat(20_000)}`]) {
      expect(await hasMixedScriptWordSliced(text, new TimeSlice(0))).toBe(hasMixedScriptWord(text));
    }
    expect(await hasMixedScriptWordSliced(plain + 'P\u0430ypal', new TimeSlice(0))).toBe(true);
  });

  it('finds a text/plain part header and GTUBE wherever they lie in a large raw message, window edges included', async () => {
    const multipart = parsed({ 'content-type': 'multipart/alternative; boundary=b' }, { html: '<p>x</p>', text: '' });
    const filler = `${'z'.repeat(1000)}\r\n`.repeat(1100);
    const withPart = Buffer.from(`Content-Type: multipart/alternative; boundary=b\r\n\r\n${filler}--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n`);
    expect(await hasTextPlainPart(multipart, withPart, new TimeSlice(0))).toBe(true);
    expect(await hasTextPlainPart(multipart, Buffer.from(filler), new TimeSlice(0))).toBe(false);
    // Any case, blanks after the colon, a line begun after CR alone; a longer header name is not it.
    const upper = Buffer.from(`x\rCONTENT-TYPE: \tText/PLAIN; charset=utf-8\r\n`);
    expect(await hasTextPlainPart(multipart, upper, new TimeSlice(0))).toBe(true);
    const other = Buffer.from(`X-Content-Type: text/plain\r\nContent-Type: text/html\r\nContent-Type:text/plai`);
    expect(await hasTextPlainPart(multipart, other, new TimeSlice(0))).toBe(false);
    const gtube = RULES.find(([name]) => name === 'GTUBE')![1];
    const config = spamConfigSchema.parse({});
    for (const at of [0, MiB - 10, MiB, 3 * MiB - 1]) {
      const raw = Buffer.alloc(3 * MiB + GTUBE.length, 'y');
      raw.write(GTUBE, at, 'latin1');
      const input = { parsed: multipart, raw, config, now: new Date(), evidence: undefined as never };
      expect(await gtube(input, new TimeSlice(0))).toBe(true);
    }
  });

  it('tells risky attachment types by their last extension', () => {
    const attachment = (filename: string) => ({ filename, contentType: 'application/octet-stream', size: 1, sha256: '' });
    expect(hasRiskyAttachment(parsed({}, { attachments: [attachment('invoice.pdf.EXE')] }))).toBe(true);
    expect(hasRiskyAttachment(parsed({}, { attachments: [attachment('invoice.pdf')] }))).toBe(false);
  });

  it('tells 8-bit bytes where no charset says how to read them', () => {
    expect(hasUnencoded8bitHeader(Buffer.from('Subject: \xb9\xab\xb7\xe1\r\n\r\nbody', 'latin1'))).toBe(true);
    expect(hasUnencoded8bitHeader(Buffer.from('Subject: =?gb2312?B?xxx?=\r\n\r\n\xb9', 'latin1'))).toBe(false);
    const raw = (type: string) => Buffer.from(`Content-Type: ${type}\r\n\r\ncaf\xe9\r\n`, 'latin1');
    expect(hasUndeclared8bitBody(parsed({ 'content-type': 'text/plain' }), raw('text/plain'))).toBe(true);
    expect(hasUndeclared8bitBody(parsed({ 'content-type': 'text/plain; charset=iso-8859-1' }), raw('text/plain; charset=iso-8859-1'))).toBe(false);
  });

  it('has defaults for the new thresholds', () => {
    expect(spamConfigSchema.parse({})).toMatchObject({ futureHours: 2, pastDays: 30, linkDomains: 4, imageMostlyText: 200 });
  });

  it('reads the header section where every header reader ends it, whatever the line ends', () => {
    // LF header lines ended by a CRLF empty line: the body's 8-bit Subject line is not a header.
    const lfThenCrlf = Buffer.from('Subject: a\nFrom: b\n\r\nSubject: caf\xe9\r\n', 'latin1');
    expect(headerText(lfThenCrlf)).toBe('Subject: a\nFrom: b');
    expect(hasUnencoded8bitHeader(lfThenCrlf)).toBe(false);
    // CRLF header lines ended by a bare-LF empty line: the 8-bit body is a body.
    const crlfThenLf = Buffer.from('Content-Type: text/plain\r\n\ncaf\xe9\r\n', 'latin1');
    expect(headerText(crlfThenLf)).toBe('Content-Type: text/plain');
    expect(hasUndeclared8bitBody(parsed({ 'content-type': 'text/plain' }), crlfThenLf)).toBe(true);
    expect(hasUnencoded8bitHeader(Buffer.from('\r\nSubject: caf\xe9\r\n', 'latin1'))).toBe(false);
  });
});
