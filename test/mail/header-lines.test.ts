import { describe, expect, it } from 'vitest';
import { fieldsNamed, unfoldedValueAt } from '../../src/mail/header-lines.js';

describe('header fields found by name in the raw bytes', () => {
  it('finds each field at a line start, any case, in order, whatever ends the line before', () => {
    const raw = Buffer.from('Content-Type: a/b\r\nX: content-type: no\nCONTENT-TRANSFER-ENCODING: 7bit\rcontent-type:c/d\r\nX-Other: y\r\n content-type: folded, not a field');
    const found = [...fieldsNamed(raw, 'Content-Type', 'content-transfer-encoding')].map(([name, at]) => [name, unfoldedValueAt(raw, at, 100)]);
    expect(found).toEqual([['content-type', 'a/b'], ['content-transfer-encoding', '7bit'], ['content-type', 'c/d']]);
  });

  it('unfolds continuation lines, stops at a line that is not one, and reads at most the bound', () => {
    const raw = Buffer.from('Content-Type:\r\n multipart/signed;\n\tprotocol="x"\r\nSubject: s');
    const [[, at]] = [...fieldsNamed(raw, 'content-type')];
    expect(unfoldedValueAt(raw, at, 1000)).toBe('multipart/signed; protocol="x"');
    expect(unfoldedValueAt(raw, at, 13)).toBe('multipart/');
    // A bare CR ends the field, as it ends the line.
    expect(unfoldedValueAt(Buffer.from('a/b\r c'), 0, 100)).toBe('a/b');
  });
});
