import { afterEach, describe, expect, it, vi } from 'vitest';
import { headerBlock } from '../../src/admin/headers.js';
import {
  bodyStart, headerSectionBytes, headerSectionEnd, headerText, headerValues, MAX_HEADER_SECTION, withoutBcc,
} from '../../src/mail/message-headers.js';
import { headerSection } from '../../src/queue/dsn-builder.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The longest string any Buffer turned into while `run` ran: how much of a message was copied into text. */
function longestStringFromBuffers(run: () => void): number {
  const toString = vi.spyOn(Buffer.prototype, 'toString');
  run();
  const lengths = toString.mock.results.map((r) => (typeof r.value === 'string' ? r.value.length : 0));
  toString.mockRestore();
  return Math.max(0, ...lengths);
}

describe('where the header section ends', () => {
  it('ends at the first empty line, whatever the line ends', () => {
    const cases: [string, string][] = [
      ['Subject: a\r\nFrom: b\r\n\r\nbody\n\nmore', 'Subject: a\r\nFrom: b'],
      ['Subject: a\nFrom: b\n\nbody\r\n\r\nmore', 'Subject: a\nFrom: b'],
      // CRLF header lines ended by a bare-LF empty line: the CR belongs to the line break.
      ['Subject: a\r\nFrom: b\r\n\nFrom: body@example.test\r\n\r\n', 'Subject: a\r\nFrom: b'],
      // A bare-LF line followed by a CRLF empty line.
      ['Subject: a\nFrom: b\n\r\nFrom: body@example.test\r\n\r\n', 'Subject: a\nFrom: b'],
      // An empty first line: no headers at all, and the body's lines are not headers.
      ['\r\nFrom: body@example.test\r\n\r\n', ''],
      ['\nFrom: body@example.test\n\n', ''],
      ['Subject: \xe9\r\n\r\n', 'Subject: \xe9'],
    ];
    for (const [message, head] of cases) {
      const raw = Buffer.from(message, 'latin1');
      expect(raw.toString('latin1', bodyStart(raw)), JSON.stringify(message)).toMatch(/^(body|From: body|$)/);
      expect(headerText(raw), JSON.stringify(message)).toBe(head);
      expect(headerSectionEnd(raw)).toBe(head.length);
      expect(headerValues(raw, 'from')).toEqual(head.includes('From: b') ? ['b'] : []);
      expect(headerBlock(raw)).toBe(Buffer.from(head, 'latin1').toString('utf8'));
    }
  });

  it('takes a message of headers alone as all header section, and reads no further than the bound', () => {
    expect(headerSectionEnd(Buffer.from('Subject: a\r\nFrom: b\r\n'))).toBe(-1);
    expect(bodyStart(Buffer.from('Subject: a\r\nFrom: b\r\n'))).toBe('Subject: a\r\nFrom: b\r\n'.length);
    expect(headerText(Buffer.from('Subject: a\r\nFrom: b\r\n'))).toBe('Subject: a\r\nFrom: b\r\n');
    expect(headerText(Buffer.alloc(70_000, 'a'))).toHaveLength(70_000);
    const endless = Buffer.alloc(MAX_HEADER_SECTION + 10, 'a');
    expect(headerSectionBytes(endless)).toHaveLength(MAX_HEADER_SECTION);
    // An empty line past the bound is not looked for.
    const late = Buffer.concat([Buffer.alloc(MAX_HEADER_SECTION, 'a'), Buffer.from('\r\n\r\nbody')]);
    expect(headerSectionEnd(late)).toBe(-1);
  });

  it('turns only the header bytes of a large message into text', () => {
    const head = 'From: a@example.test\r\nSubject: s\r\n';
    const raw = Buffer.from(`${head}\r\n${'body line\r\n'.repeat(100_000)}`);
    expect(longestStringFromBuffers(() => headerText(raw))).toBe(head.length - 2);
    expect(longestStringFromBuffers(() => headerSection(raw))).toBe(head.length - 2);
    expect(longestStringFromBuffers(() => headerBlock(raw))).toBe(head.length - 2);
    expect(longestStringFromBuffers(() => withoutBcc(raw))).toBe(head.length);
  });
});

describe('Bcc removal at the edges of the header section', () => {
  it('drops a Bcc from a message of headers alone (no empty line, no body)', () => {
    expect(withoutBcc(Buffer.from('From: a@b.test\r\nBcc: x@y.test\r\nSubject: s\r\n')).toString()).toBe('From: a@b.test\r\nSubject: s\r\n');
    expect(withoutBcc(Buffer.from('From: a@b.test\r\nBcc: x@y.test')).toString()).toBe('From: a@b.test\r\n');
  });

  it('leaves a body that looks like headers alone after a bare-LF empty line', () => {
    const raw = Buffer.from('From: a@b.test\r\nBcc: x@y.test\r\n\nBcc: in body\r\n');
    expect(withoutBcc(raw).toString()).toBe('From: a@b.test\r\n\nBcc: in body\r\n');
    const noHeaders = Buffer.from('\r\nBcc: in body\r\n');
    expect(withoutBcc(noHeaders)).toBe(noHeaders);
  });

  it('reads a header section longer than the bound up to its last whole line within it', () => {
    const filler = `X-Filler: ${'a'.repeat(990)}\r\n`.repeat(Math.ceil(MAX_HEADER_SECTION / 1000));
    const raw = Buffer.from(`Bcc: x@y.test\r\n${filler}\r\nbody`);
    const out = withoutBcc(raw);
    expect(out.toString()).toBe(`${filler}\r\nbody`);
  });
});

describe('the header section of a bounce report', () => {
  it('has CRLF line ends and stops at the first empty line of any kind', () => {
    expect(headerSection(Buffer.from('Subject: a\nFrom: b\r\n\nSecret: body\r\n'))).toBe('Subject: a\r\nFrom: b\r\n');
  });
});
