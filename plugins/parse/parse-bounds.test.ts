import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ParsedMessage, PluginFinding } from '../../src/pipeline/types.js';
import { makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import { htmlToPlainText } from '../../src/plugin-api.js';
import parse, { type ParseConfig } from './index.js';

const HEAD = 'From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: bounded\r\nMessage-ID: <b@example.org>\r\n';

/** Runs the parse hook on raw bytes with some config keys set; expects exactly one ledger line. */
async function parseWith(raw: Buffer, config: Partial<ParseConfig> = {}) {
  const txn = makeTransaction(raw);
  const { verdict, findings } = await runHook(parse, 'data', txn, config);
  expect(findings).toHaveLength(1);
  return { verdict, finding: findings[0] as PluginFinding, parsed: txn.parsed as ParsedMessage };
}

/** multipart/mixed with `count` attachment parts, each `part N`. */
function manyParts(count: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(`--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="f${i}.txt"\r\n\r\npart ${i}\r\n`);
  }
  const head = `${HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n`;
  return Buffer.from(`${head}--p\r\nContent-Type: text/plain\r\n\r\nthe text\r\n${parts.join('')}--p--\r\n`);
}

/** multipart/mixed nested `depth` levels deep, an attachment on the first level, text at the bottom. */
function nested(depth: number): Buffer {
  let body = 'Content-Type: text/plain\r\n\r\ndeep text\r\n';
  for (let level = depth - 1; level >= 0; level--) {
    const attachment =
      level === 0 ? `--b0\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="top.bin"\r\n\r\ntop\r\n` : '';
    body = `Content-Type: multipart/mixed; boundary="b${level}"\r\n\r\n${attachment}--b${level}\r\n${body}--b${level}--\r\n`;
  }
  return Buffer.from(HEAD + 'MIME-Version: 1.0\r\n' + body);
}

function expectBound(finding: PluginFinding, bound: string, limit: number): void {
  expect(finding.tags).toContain('parse-bound');
  expect(finding.reason).toContain(`${bound} ${limit}`);
  expect(finding.details?.bounds).toEqual(expect.arrayContaining([{ bound, limit }]));
  expect(finding.details?.fallback).toBeUndefined();
}

describe('parse bounds', () => {
  it('keeps the first maxHeaders header fields and says so', async () => {
    const filler = Array.from({ length: 50 }, (_, i) => `X-Filler-${i}: ${i}\r\n`).join('');
    const { finding, parsed, verdict } = await parseWith(Buffer.from(`${HEAD}${filler}\r\nhello\r\n`), { maxHeaders: 10 });
    expect(verdict).toBeUndefined();
    expectBound(finding, 'maxHeaders', 10);
    const fields = [...parsed.headers.values()].reduce((n, values) => n + values.length, 0);
    expect(fields).toBe(10);
    expect(parsed.subject).toBe('bounded');
    expect(parsed.text).toContain('hello');
  });

  it('keeps header fields up to maxHeaderBytes and says so', async () => {
    const filler = Array.from({ length: 40 }, (_, i) => `X-Filler-${i}: ${'v'.repeat(80)}\r\n`).join('');
    const { finding, parsed } = await parseWith(Buffer.from(`${HEAD}${filler}\r\nhello\r\n`), { maxHeaderBytes: 1000 });
    expectBound(finding, 'maxHeaderBytes', 1000);
    const bytes = [...parsed.headers.entries()].reduce((n, [k, vs]) => n + vs.reduce((m, v) => m + k.length + v.length + 4, 0), 0);
    expect(bytes).toBeLessThanOrEqual(1000);
    expect(parsed.headers.has('x-filler-39')).toBe(false);
    expect(parsed.text).toContain('hello');
  });

  it('cuts a header field longer than maxHeaderFieldBytes, a 100 KiB From display name included', async () => {
    const name = 'a@a.'.repeat(25 * 1024);
    const raw = Buffer.from(`From: "${name}" <alice@example.org>\r\nSubject: bounded\r\nX-Long: ${'x'.repeat(5000)}\r\n\r\nhello\r\n`);
    const { finding, parsed } = await parseWith(raw, { maxHeaderFieldBytes: 4096 });
    expectBound(finding, 'maxHeaderFieldBytes', 4096);
    expect(parsed.headers.get('x-long')?.[0].length).toBe(4096 - 'X-Long: '.length);
    expect(parsed.from.length).toBeLessThanOrEqual(4096);
    expect(parsed.subject).toBe('bounded');
    expect(parsed.text).toContain('hello');
  });

  it('refuses a header block past what the splitter takes, falling back to the bounded headers', async () => {
    const filler = Array.from({ length: 12_000 }, (_, i) => `X-Filler-${i}: ${'v'.repeat(100)}\r\n`).join('');
    const { finding, parsed } = await parseWith(Buffer.from(`${HEAD}${filler}\r\nhello\r\n`));
    expect(finding.tags).toEqual(['parse-failed', 'parse-bound']);
    expect(finding.details).toMatchObject({ fallback: true, bounds: [{ bound: 'maxHeaderBytes', limit: 262_144 }] });
    expect(parsed.subject).toBe('bounded');
    const fields = [...parsed.headers.values()].reduce((n, values) => n + values.length, 0);
    expect(fields).toBeLessThanOrEqual(1000);
  });

  it('stops at maxParts: 5,000 parts parse without a fallback, the first parts kept', async () => {
    const { finding, parsed, verdict } = await parseWith(manyParts(5000));
    expect(verdict).toBeUndefined();
    expectBound(finding, 'maxParts', 1000);
    // The root, the text part, then attachments up to the 1,000th part.
    expect(parsed.attachments).toHaveLength(998);
    expect(parsed.attachments[0]).toMatchObject({ filename: 'f0.txt', size: 6 });
    expect(parsed.text).toContain('the text');
    expect(parsed.subject).toBe('bounded');
  });

  it('parses all 5,000 parts when maxParts allows them', async () => {
    const { finding, parsed } = await parseWith(manyParts(5000), { maxParts: 6000 });
    expect(finding.tags).toBeUndefined();
    expect(parsed.attachments).toHaveLength(5000);
    expect(parsed.attachments[4999].filename).toBe('f4999.txt');
  });

  it('stops at maxMimeDepth, keeping what came before the deep part', async () => {
    const { finding, parsed } = await parseWith(nested(100), { maxMimeDepth: 5 });
    expectBound(finding, 'maxMimeDepth', 5);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['top.bin']);
    expect(parsed.text).not.toContain('deep text');
    const { finding: shallow, parsed: whole } = await parseWith(nested(10), { maxMimeDepth: 20 });
    expect(shallow.tags).toBeUndefined();
    expect(whole.text).toContain('deep text');
  });

  it('cuts each text and HTML part to maxTextCharsPerPart', async () => {
    const raw = Buffer.from(
      `${HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n` +
        `--a\r\nContent-Type: text/plain\r\n\r\n${'t'.repeat(5000)}\r\n` +
        `--a\r\nContent-Type: text/html\r\n\r\n<p>${'h'.repeat(5000)}</p>\r\n--a--\r\n`,
    );
    const { finding, parsed } = await parseWith(raw, { maxTextCharsPerPart: 100 });
    expectBound(finding, 'maxTextCharsPerPart', 100);
    expect(parsed.text).toBe('t'.repeat(100));
    expect(parsed.html).toBe(`<p>${'h'.repeat(97)}`);
  });

  it('converts only a bounded slice of a huge HTML-only body, and bounds the text', async () => {
    const raw = Buffer.from(`${HEAD}Content-Type: text/html\r\n\r\n${'<'.repeat(1024 * 1024)}\r\n`);
    const { finding, parsed } = await parseWith(raw);
    expectBound(finding, 'maxTextCharsPerPart', 262_144);
    expect(parsed.html.length).toBe(262_144);
    expect(parsed.text.length).toBeLessThanOrEqual(262_144);
  });

  it('answers 554 5.6.0 at a bound when onBound is reject', async () => {
    const { verdict, finding } = await parseWith(manyParts(20), { maxParts: 5, onBound: 'reject' });
    expectBound(finding, 'maxParts', 5);
    expect(verdict).toMatchObject({ action: 'reject', code: 554, enhanced: '5.6.0' });
    expect((verdict as { text: string }).text).toContain('maxParts 5');
  });
});

describe('parse streaming', () => {
  it('hashes attachments (SHA-256 and size of the decoded bytes) as they stream', async () => {
    const content = Buffer.alloc(768 * 1024);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 0xff;
    const raw = Buffer.from(
      `${HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n` +
        `--q\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n` +
        `--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n` +
        `Content-Disposition: attachment; filename="blob.bin"\r\n\r\n${content.toString('base64')}\r\n--q--\r\n`,
    );
    const { finding, parsed } = await parseWith(raw);
    expect(finding.tags).toBeUndefined();
    expect(parsed.attachments).toEqual([
      {
        filename: 'blob.bin',
        contentType: 'application/octet-stream',
        size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
      },
    ]);
  });

  it('reads the message from transaction.rawStream when there is one', async () => {
    const raw = Buffer.from(`${HEAD}\r\nfrom the stream\r\n`);
    const txn = makeTransaction(Buffer.alloc(0));
    delete txn.raw;
    let opened = 0;
    txn.rawStream = () => {
      opened += 1;
      // Small chunks, as a spool file would give them.
      return Readable.from([raw.subarray(0, 10), raw.subarray(10, 40), raw.subarray(40)]);
    };
    const { findings } = await runHook(parse, 'data', txn);
    expect(opened).toBe(1);
    expect(findings[0].tags).toBeUndefined();
    expect(txn.parsed).toMatchObject({ subject: 'bounded', from: 'Alice <alice@example.org>' });
    expect(txn.parsed?.text).toContain('from the stream');
  });
});

describe('HTML to text', () => {
  it('drops tags and hidden elements, breaks lines at blocks, decodes entities', () => {
    const html = '<html><head><title>t</title><style>p{}</style></head><body><p>Hello</p><p>World &amp; co&#33;</p>' +
      '<script>alert(1)</script><div>a&nbsp; b</div></body></html>';
    expect(htmlToPlainText(html)).toBe('Hello\n\nWorld & co!\n\na b');
  });

  it('keeps an unclosed tag and a missing end tag as text rather than rescanning', () => {
    expect(htmlToPlainText('a <b>bold</b> <a ')).toBe('a bold <a');
    // A script without its end tag is shown rather than swallowing the rest of the message.
    expect(htmlToPlainText('<script>x <p>y')).toBe('x\ny');
    expect(htmlToPlainText('<script>a<script>b<p>c')).toBe('a b\nc');
  });
});
