import { describe, expect, it, vi } from 'vitest';
import { makeTransaction, runHook } from '../../test/helpers/plugin-context.js';
import { headerText } from '../../src/plugin-api.js';
import parse from './index.js';

// mailparser rarely throws; this makes it fail on demand to prove the plugin degrades gracefully.
const failing = vi.hoisted(() => ({ on: false }));
vi.mock('mailparser', async (importOriginal) => {
  const real = await importOriginal<typeof import('mailparser')>();
  return {
    ...real,
    MailParser: class extends real.MailParser {
      _transform(chunk: Buffer, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
        if (failing.on) done(new Error('simulated parser failure'));
        else super._transform(chunk, encoding, done);
      }
    },
  };
});

describe('parse plugin when mailparser fails', () => {
  it('reports the failure and still sets a parsed message from the headers', async () => {
    failing.on = true;
    const raw = Buffer.from(
      'From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: still here\r\n' +
        'Date: Mon, 10 Mar 2025 09:13:58 +0000\r\nMessage-ID: <x@example.org>\r\n\r\nhello\r\n',
    );
    const txn = makeTransaction(raw);
    const { verdict, findings } = await runHook(parse, 'data', txn);
    failing.on = false;
    expect(verdict).toBeUndefined();
    expect(findings).toHaveLength(1);
    expect(findings[0].tags).toEqual(['parse-failed']);
    expect(findings[0].reason).toContain('simulated parser failure');
    expect(findings[0].details).toMatchObject({ fallback: true, attachments: 0 });
    expect(txn.parsed).toMatchObject({
      subject: 'still here',
      from: 'Alice <alice@example.org>',
      to: ['bob@example.com'],
      messageId: '<x@example.org>',
      text: 'hello\r\n',
    });
    expect(txn.parsed?.date?.toISOString()).toBe('2025-03-10T09:13:58.000Z');
  });

  it('ends the header section at the same empty line as mailparser and the plugin API, whatever the line ends', async () => {
    const odd: [string, [string, string[]][]][] = [
      // CRLF header lines ended by a bare-LF empty line, then a body line that looks like a header.
      ['Subject: a\r\nX-A: b\r\n\nSubject: body\r\n', [['subject', ['a']], ['x-a', ['b']]]],
      ['Subject: a\nX-A: b\n\r\nSubject: body\r\n', [['subject', ['a']], ['x-a', ['b']]]],
      // An empty first line: no headers at all.
      ['\r\nSubject: body\r\n\r\nmore', []],
    ];
    for (const [text, headers] of odd) {
      const raw = Buffer.from(text);
      const parsed = [];
      for (const fail of [false, true]) {
        failing.on = fail;
        const txn = makeTransaction(raw);
        await runHook(parse, 'data', txn);
        failing.on = false;
        parsed.push(txn.parsed);
      }
      expect(parsed.map((p) => [...p!.headers]), JSON.stringify(text)).toEqual([headers, headers]);
      expect(parsed[1]?.text.replace(/\r\n/g, '\n')).toBe(parsed[0]?.text);
      expect(headerText(raw).split(/\r?\n/).filter(Boolean).length).toBe(headers.length);
    }
  });
});
