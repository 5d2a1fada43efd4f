import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ParsedMessage } from '../../src/pipeline/types.js';
import {
  loadMailFixtures,
  MAIL_FIXTURE_DIR,
  makeTransaction,
  runHook,
} from '../../test/helpers/plugin-context.js';
import { fallbackParsed } from './build-parsed.js';
import { headerMap, parseDate } from './headers.js';
import parse, { parseConfigSchema } from './index.js';
import { deriveThreadId, normalizeSubject } from './thread-id.js';

const fixtures = loadMailFixtures();

async function parseRaw(raw: Buffer): Promise<{ parsed: ParsedMessage; details: Record<string, unknown> }> {
  const txn = makeTransaction(raw, [fixtures.recipient]);
  const { verdict, findings } = await runHook(parse, 'data', txn);
  expect(verdict).toBeUndefined();
  expect(findings).toHaveLength(1);
  return { parsed: txn.parsed as ParsedMessage, details: findings[0].details ?? {} };
}

describe('mail fixture corpus', () => {
  it('has at least 10 messages, all described in expected.json', () => {
    const files = readdirSync(MAIL_FIXTURE_DIR).filter((f) => f.endsWith('.eml')).sort();
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(fixtures.messages.map(([name]) => name)).toEqual(files);
  });

  it.each(fixtures.messages)('%s uses CRLF line endings only', (_name, raw) => {
    expect(raw.toString('latin1')).not.toMatch(/(^|[^\r])\n/);
  });
});

describe('parse plugin on the fixture corpus', () => {
  it.each(fixtures.messages)('%s', async (_name, raw, expected) => {
    const want = expected.parse;
    const { parsed, details } = await parseRaw(raw);
    expect(parsed.subject).toBe(want.subject);
    expect(parsed.from).toBe(want.from);
    if (want.to) expect(parsed.to).toEqual(want.to);
    if (want.toCount !== undefined) expect(parsed.to).toHaveLength(want.toCount);
    expect(parsed.cc).toEqual(want.cc);
    expect(parsed.date?.toISOString() ?? null).toBe(want.date);
    expect(parsed.messageId).toBe(want.messageId);
    if (want.textIncludes) expect(parsed.text).toContain(want.textIncludes);
    expect(parsed.html !== '').toBe(want.hasHtml);
    if (want.htmlIncludes) expect(parsed.html).toContain(want.htmlIncludes);
    expect(parsed.attachments).toEqual(want.attachments);
    expect(details.attachments).toBe(want.attachments.length);
    expect(parsed.threadId).toMatch(/^[0-9a-f]{16}$/);
    for (const [name, values] of Object.entries(want.headers ?? {})) {
      expect(parsed.headers.get(name)).toEqual(values);
    }
  });

  it('gives a reply the thread id of the message that started the thread', async () => {
    for (const [, raw, expected] of fixtures.messages) {
      if (!expected.parse.sameThreadAs) continue;
      const root = fixtures.messages.find(([name]) => name === expected.parse.sameThreadAs);
      const [a, b] = await Promise.all([parseRaw(raw), parseRaw(root![1])]);
      expect(a.parsed.threadId).toBe(b.parsed.threadId);
    }
  });

  it('gives unrelated messages different thread ids', async () => {
    const ids = await Promise.all(fixtures.messages.map(async ([, raw]) => (await parseRaw(raw)).parsed.threadId));
    // 01 and 02 share a thread; every other message is its own.
    expect(new Set(ids).size).toBe(ids.length - 1);
  });

  it('keeps header names lower case and values unfolded, folding white space kept', async () => {
    const [, raw] = fixtures.messages[0];
    const { parsed } = await parseRaw(raw);
    expect(parsed.headers.get('received')?.[0]).toMatch(/^from mail\.example\.org .*\]\)\tby mx\.example\.com/);
    expect(parsed.headers.get('received')?.[0]).not.toMatch(/\r|\n/);
    expect([...parsed.headers.keys()].every((k) => k === k.toLowerCase())).toBe(true);
  });

  it('reports without crashing when there is no message data', async () => {
    const txn = makeTransaction(Buffer.alloc(0));
    delete txn.raw;
    const { findings } = await runHook(parse, 'data', txn);
    expect(txn.parsed).toBeUndefined();
    expect(findings[0].reason).toMatch(/no message data/);
  });

  it('parses a message that is not mail at all into something minimal', async () => {
    const { parsed } = await parseRaw(Buffer.from('this is not a mail message'));
    expect(parsed).toMatchObject({ subject: '', from: '', to: [], messageId: null, date: null });
    expect(parsed.headers.size).toBe(0);
  });
});

describe('parse helpers', () => {
  it('unfolds header values and drops the space after the colon', () => {
    const map = headerMap([
      { key: 'subject', line: 'Subject: a\r\n folded\r\n\tline' },
      { key: 'x-a', line: 'X-A: 1' },
      { key: 'x-a', line: 'X-A:2' },
    ]);
    expect(map.get('subject')).toEqual(['a folded\tline']);
    expect(map.get('x-a')).toEqual(['1', '2']);
  });

  it('treats an unparseable Date as null, not as now', () => {
    expect(parseDate('not a date')).toBeNull();
    expect(parseDate('Mon, 10 Mar 2025 09:14:03 +0000 (UTC)')?.toISOString()).toBe('2025-03-10T09:14:03.000Z');
  });

  it('derives thread ids from References, then In-Reply-To, then Message-ID, then subject', () => {
    const root = deriveThreadId({ messageId: '<root@x>', subject: 'hello' });
    expect(deriveThreadId({ references: '<root@x> <mid@x>', inReplyTo: '<mid@x>', messageId: '<c@x>', subject: 'Re: hello' })).toBe(root);
    expect(deriveThreadId({ inReplyTo: '<root@x>', messageId: '<b@x>', subject: 'x' })).toBe(root);
    const bySubject = deriveThreadId({ messageId: null, subject: 'Hello  World' });
    expect(deriveThreadId({ messageId: null, subject: 'Re: Fwd: [list] hello world' })).toBe(bySubject);
    expect(bySubject).not.toBe(deriveThreadId({ messageId: null, subject: 'other' }));
  });

  it('normalizes subjects for threading', () => {
    expect(normalizeSubject('RE: AW: [dev]  Build   broken')).toBe('build broken');
  });

  it('builds a minimal parsed message from raw headers when MIME parsing is impossible', () => {
    const raw = Buffer.from('Subject: hi\r\nFrom: A <a@x.org>\r\nTo: b@y.org, "C, D" <c@y.org>\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n');
    const parsed = fallbackParsed(raw);
    expect(parsed).toMatchObject({
      subject: 'hi',
      from: 'A <a@x.org>',
      to: ['b@y.org', '"C, D" <c@y.org>'],
      messageId: '<m@x>',
      text: 'body\r\n',
      attachments: [],
    });
  });
});

describe('parse config', () => {
  it('has a default for every key', () => {
    expect(parseConfigSchema.parse({})).toEqual({
      htmlToText: true,
      maxHtmlToTextChars: 262_144,
      maxHeaders: 1000,
      maxHeaderBytes: 262_144,
      maxHeaderFieldBytes: 32_768,
      maxMimeDepth: 50,
      maxParts: 1000,
      maxTextCharsPerPart: 262_144,
      onBound: 'deliver',
    });
  });

  it('refuses unknown keys', () => {
    expect(() => parseConfigSchema.parse({ htmlTotext: false })).toThrow();
  });

  it('leaves text empty for an HTML-only message when htmlToText is off', async () => {
    const raw = fixtures.messages.find(([n]) => n.startsWith('07-'))![1];
    const txn = makeTransaction(raw);
    await runHook(parse, 'data', txn, { htmlToText: false });
    expect(txn.parsed?.text).toBe('');
    expect(txn.parsed?.html).toContain('Click here');
  });
});
