import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TimeSlice } from '../../src/pipeline/time-slice.js';
import { MAIL_FIXTURE_DIR, makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import parse from '../parse/index.js';
import { headerTokens } from './header-tokens.js';
import { htmlMarkupTokens, htmlMarkupTokensSliced, htmlToPlainText, htmlToPlainTextSliced } from './html-text.js';
import { domainSuffixes, emailTokens, textTokens, textTokensSliced, urlTokens, wordTokens } from './text-tokens.js';
import { DEFAULT_TOKENIZER, loadTokenizer, MAX_TOKEN_CHARS, tokenize } from './tokenizer.js';

// mailparser's address parser is loaded on first use, not at import (idle memory).
beforeAll(loadTokenizer);

/** Runs an emitting tokenizer function and returns what it emitted, in order. */
function collect(fn: (emit: (t: string) => void) => void): string[] {
  const out: string[] = [];
  fn((t) => out.push(t));
  return out;
}

async function tokensOf(raw: Buffer | string, options = DEFAULT_TOKENIZER): Promise<string[]> {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  const txn = makeTransaction(bytes);
  await runHook(parse, 'data', txn);
  return tokenize(txn.parsed!, bytes, options);
}

const fixture = (name: string): Buffer => readFileSync(join(MAIL_FIXTURE_DIR, name));

describe('wordTokens', () => {
  it.each([
    ['Hello', ['hello']],
    ['to', []], // shorter than 3
    ['"quoted,"', ['quoted']],
    ['FREE!!!', ['free!!!']], // ! stays: it is evidence
    ['$500', ['$500']],
    ['(100%)', ['100%']],
    ['Größe', ['größe']],
    ['internationalization', ['skip:i 20']], // longer than 12: summarised
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', ['skip:a 80']],
    ['verylongname@example.co.uk', ['email name:verylongname', 'email addr:co.uk', 'email addr:example.co.uk']],
  ])('%j → %j', (word, expected) => {
    expect(collect((emit) => wordTokens(word, emit))).toEqual(expected);
  });

  it('prefixes header words', () => {
    expect(collect((emit) => wordTokens('Invoice', emit, 'subject:'))).toEqual(['subject:invoice']);
  });
});

describe('domainSuffixes, emailTokens and urlTokens', () => {
  it.each([
    ['example.com', ['example.com']],
    ['mail.example.co.uk', ['co.uk', 'example.co.uk', 'mail.example.co.uk']],
    ['localhost', ['localhost']],
    ['Example.COM.', ['example.com']],
    ['', []],
    ['.example..com..', ['example.com']],
    ['a.b.c.d.e.f.g.h.i.j', ['i.j', 'h.i.j', 'g.h.i.j', 'f.g.h.i.j', 'e.f.g.h.i.j', 'd.e.f.g.h.i.j', 'c.d.e.f.g.h.i.j', 'b.c.d.e.f.g.h.i.j', 'a.b.c.d.e.f.g.h.i.j']],
    ['x.a.b.c.d.e.f.g.h.i.j', ['i.j', 'h.i.j', 'g.h.i.j', 'f.g.h.i.j', 'e.f.g.h.i.j', 'd.e.f.g.h.i.j', 'c.d.e.f.g.h.i.j', 'b.c.d.e.f.g.h.i.j', 'a.b.c.d.e.f.g.h.i.j']],
  ])('domainSuffixes(%j) → %j', (domain, expected) => {
    expect(domainSuffixes(domain)).toEqual(expected);
  });

  it('splits an address into its local part and domain suffixes', () => {
    expect(collect((emit) => emailTokens('Bob@Mail.Example.org', emit, 'from'))).toEqual([
      'from name:bob',
      'from addr:example.org',
      'from addr:mail.example.org',
    ]);
  });

  it.each([
    ['http://www.cheap-deals.example/claim/now.html?id=42', ['proto:http', 'url:cheap-deals.example', 'url:www.cheap-deals.example', 'url:claim', 'url:now', 'url:html']],
    ['https://192.0.2.7:8080/x', ['proto:https', 'url:ip']],
    ['www.example.org', ['proto:http', 'url:example.org', 'url:www.example.org']],
  ])('urlTokens(%j)', (url, expected) => {
    expect(collect((emit) => urlTokens(url, emit))).toEqual(expected);
  });
});

describe('textTokens', () => {
  const options = { bigrams: false, maxChars: 10_000 };

  it('takes URLs and addresses out before splitting words', () => {
    const tokens = collect((emit) => textTokens('Visit http://deals.example/win or mail win@deals.example now', emit, options));
    expect(tokens).toEqual([
      'proto:http', 'url:deals.example', 'url:win', 'email name:win', 'email addr:deals.example', 'visit', 'mail', 'now',
    ]);
  });

  it('adds bigrams of adjacent words when asked', () => {
    const tokens = collect((emit) => textTokens('claim your prize now', emit, { ...options, bigrams: true }));
    expect(tokens.filter((t) => t.startsWith('bi:'))).toEqual(['bi:claim your', 'bi:your prize', 'bi:prize now']);
  });

  it('reads no further than maxChars', () => {
    expect(collect((emit) => textTokens('alpha beta gamma', emit, { ...options, maxChars: 10 }))).toEqual(['alpha', 'beta']);
  });
});

describe('HTML', () => {
  it.each([
    ['<p>Hello</p><p>world</p>', ' Hello  world '],
    ['Vi<!-- x -->agra', 'Viagra'], // a comment inside a word joins it
    ['fr<b>ee</b> money', 'free money'], // inline tags join
    ['<script>var x = 1;</script>safe', ' safe'],
    ['caf&eacute; &amp; &#36;5 &#x41;', 'caf&eacute; & $5 A'],
  ])('htmlToPlainText(%j) → %j', (html, text) => {
    expect(htmlToPlainText(html)).toBe(text);
  });

  it('finds telling tags and link targets in the markup', () => {
    const html = '<table><tr><td><img src="http://img.example/a.gif"><a href="http://spam.example/buy">x</a>' +
      '<a href="mailto:x@y.example">m</a><form action="https://phish.example/login"></form></td></tr></table>';
    const tokens = collect((emit) => htmlMarkupTokens(html, emit, 10_000));
    expect(tokens).toEqual(expect.arrayContaining(['html:table', 'html:img', 'html:form', 'url:spam.example', 'url:phish.example', 'html:mailto']));
    expect(tokens).not.toContain('html:a');
  });
});

describe('tokenize on the fixture corpus', () => {
  it('gives header evidence first: header names, subject, sender, recipients, message id, MIME', async () => {
    const tokens = await tokensOf(fixture('01-personal.eml'));
    expect(tokens.slice(0, 3).every((t) => t.startsWith('header:'))).toBe(true);
    expect(tokens).toEqual(
      expect.arrayContaining([
        'header:received:1', 'subject:lunch', 'subject:thursday', 'from name:alice', 'from addr:example.org',
        'from:name:alice', 'from:name:liddell', 'to addr:example.com', 'to:count:1', 'message-id:@example.org',
        'received:example.org', 'received:ip:192.0.2', 'content-type:text/plain', 'charset:us-ascii', 'cte:7bit',
        'soup', 'street',
      ]),
    );
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('reads the HTML of an HTML-only message as text, and its markup for links', async () => {
    const tokens = await tokensOf(fixture('07-heuristic-spam.eml'));
    expect(tokens).toEqual(
      expect.arrayContaining(['subject:money', 'subject:fast!!!', 'subject:$$$', 'email name:service', 'to:count:0',
        'message-id:invalid', 'content-type:text/html', 'selected!', 'income', 'url:cheap-deals.example']),
    );
  });

  it('tokenizes HTML converted to text when the parse step left no text', async () => {
    const txn = makeTransaction(fixture('07-heuristic-spam.eml'));
    await runHook(parse, 'data', txn, { htmlToText: false });
    expect(txn.parsed!.text).toBe('');
    expect(await tokenize(txn.parsed!, txn.raw, DEFAULT_TOKENIZER)).toEqual(expect.arrayContaining(['dear', 'friend', 'income']));
  });

  it('counts attachments by type and skips header tokens when told', async () => {
    expect(await tokensOf(fixture('08-attachment.eml'))).toEqual(expect.arrayContaining(['attachment:pdf']));
    const bodyOnly = await tokensOf(fixture('01-personal.eml'), { ...DEFAULT_TOKENIZER, headers: false });
    expect(bodyOnly.some((t) => t.includes(':'))).toBe(false);
  });

  it('stops at maxTokens and cuts long tokens', async () => {
    const limited = await tokensOf(fixture('01-personal.eml'), { ...DEFAULT_TOKENIZER, maxTokens: 5 });
    expect(limited).toHaveLength(5);
    const long = await tokensOf(`X-Mailer: ${'Z'.repeat(200)}\r\nSubject: x\r\n\r\nbody text\r\n`);
    expect(Math.max(...long.map((t) => t.length))).toBeLessThanOrEqual(MAX_TOKEN_CHARS);
  });
});

describe('hostile input', () => {
  const MiB = 1024 * 1024;

  it('turns a MiB of "<" or an unclosed comment into text in one pass', () => {
    expect(htmlToPlainText('<'.repeat(MiB), 2 * MiB)).toHaveLength(MiB);
    expect(htmlToPlainText(`ok<!--${'<!--'.repeat(MiB / 4)}`, 2 * MiB)).toBe('ok');
    expect(htmlToPlainText('x'.repeat(10), 4)).toBe('xxxx');
  });

  // Each of these took seconds at 20,000 characters when a pattern rescanned a run to its end from
  // every position; at 200,000 such a scan would not end within the test's timeout.
  const options = { bigrams: true, maxChars: 200_000 };
  it('reads a 200,000-character run of address characters without an @', () => {
    const tokens = collect((emit) => textTokens(`see ${'a'.repeat(150_000)} and bob@example.org`, emit, options));
    expect(tokens).toEqual(['email name:bob', 'email addr:example.org', 'see', 'skip:a 150000', 'and']);
    const local = collect((emit) => textTokens(`${'a.'.repeat(90_000)}@`, emit, options));
    expect(local).toHaveLength(1);
  });

  it('trims a word whose punctuation run sits inside it', () => {
    expect(collect((emit) => wordTokens(`a${'<'.repeat(200_000)}b`, emit))).toEqual(['skip:a 200000']);
    expect(collect((emit) => wordTokens('¡¡hello!!..', emit))).toEqual(['hello!!']);
    expect(collect((emit) => wordTokens('..𝐀𝐁𝐂..', emit))).toEqual(['𝐀𝐁𝐂']);
  });

  it('keeps domain suffixes to the last labels of a 100,000-label domain', () => {
    const tokens = collect((emit) => textTokens(`x a@${'a.'.repeat(2000)}example.org y www.${'b.'.repeat(2000)}example.net`, emit, options));
    expect(tokens).toContain('email name:a');
    expect(tokens).toContain('url:example.net');
    expect(tokens).toContain('url:b.b.b.b.b.b.b.b.example.net');
    expect(domainSuffixes(`${'a.'.repeat(100_000)}example.org`)).toHaveLength(9);
  });

  it('reads Received hosts from a bounded slice of a huge header', () => {
    const received = `from mail.example.org (x) by ${'a.'.repeat(MiB / 2)}`;
    const parsed = { subject: '', from: '', to: [], cc: [], date: null, messageId: null, threadId: '', text: '', html: '', attachments: [], headers: new Map([['received', [received]]]) };
    const tokens = collect((emit) => headerTokens(parsed, undefined, emit));
    expect(tokens).toContain('received:example.org');
  });
});

describe('tokenizing with turns of the event loop', () => {
  const prose = 'Visit http://deals.example/win now, mail win@deals.example or www.prize.example today! '.repeat(3000);
  const html = '<p>Claim <b>your</b> prize</p><a href="http://x.example/p?id=1">here</a><img src=a.png><form action=http://y.example/>'.repeat(3000);

  it('gives the same text tokens, in the same order, bigrams included', async () => {
    for (const [text, bigrams] of [[prose, true], [prose, false], ['<a '.repeat(100_000), true], [`${'a'.repeat(50_000)} b@c.example`, true]] as const) {
      const options = { bigrams, maxChars: 200_000 };
      const sliced: string[] = [];
      await textTokensSliced(text, (t) => sliced.push(t), options, new TimeSlice(0));
      expect(sliced).toEqual(collect((emit) => textTokens(text, emit, options)));
    }
  });

  it('gives the same HTML text and markup tokens', async () => {
    for (const markup of [html, '<'.repeat(300_000), '<a '.repeat(100_000)]) {
      expect(await htmlToPlainTextSliced(markup, 200_000, new TimeSlice(0))).toBe(htmlToPlainText(markup, 200_000));
      const sliced: string[] = [];
      await htmlMarkupTokensSliced(markup, (t) => sliced.push(t), 200_000, new TimeSlice(0));
      expect(sliced).toEqual(collect((emit) => htmlMarkupTokens(markup, emit, 200_000)));
    }
  });
});
