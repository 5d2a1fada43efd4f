import { CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDate, formatSize, formatTable } from '../../src/cli/format.js';
import { parseSize } from '../../src/cli/parse-size.js';
import { reportError } from '../../src/cli/report-error.js';
import { addressProblem, domainProblem } from '../../src/admin/input-rules.js';
import { ConfigError, InputError, NotFoundError, StoreError } from '../../src/errors.js';

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['1048576', 1048576],
    ['1024K', 1024 * 1024],
    ['500M', 500 * 1024 ** 2],
    ['2G', 2 * 1024 ** 3],
    ['2g', 2 * 1024 ** 3],
    ['1.5G', 1.5 * 1024 ** 3],
    ['500MB', 500 * 1024 ** 2],
    ['1TiB', 1024 ** 4],
  ])('%s → %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'abc', '12Q', '-5M', '1.5', 'M', '5 GB extra', '99999999999999999999'])('rejects "%s"', (text) => {
    expect(() => parseSize(text)).toThrow(CommanderError);
  });
});

describe('address and domain checks', () => {
  it.each(['alice@example.org', 'a.b+tag@mail.example.co.uk', 'ALICE@Example.ORG'])('accepts %s', (a) => {
    expect(addressProblem(a)).toBeNull();
  });

  it.each([
    ['alice', 'local@domain'],
    ['a b@example.org', 'white space'],
    ['@example.org', 'empty local part'],
    ['.a@example.org', 'dots'],
    ['a..b@example.org', 'dots'],
    ['a<b@example.org', 'not allowed'],
    ['alice@localhost', 'two labels'],
    ['alice@-bad.org', 'labels'],
    ['alice@10.0.0.1', 'all-digit'],
  ])('rejects %s (%s)', (address, reason) => {
    expect(addressProblem(address)).toContain(reason);
  });

  it('checks domain names alone', () => {
    expect(domainProblem('example.org')).toBeNull();
    expect(domainProblem('exa mple.org')).toContain('white space');
  });
});

describe('format', () => {
  it('aligns columns, cuts long cells and strips control characters', () => {
    const text = formatTable(
      [{ header: 'name' }, { header: 'size', align: 'right' }, { header: 'subject', maxWidth: 8 }],
      [
        ['a', '1', 'short'],
        ['longer', '1234', 'a very long subject'],
        ['esc', '2', 'x\u001b[31my\r\nz'],
      ],
    );
    expect(text).toBe(
      ['NAME    SIZE  SUBJECT', 'a          1  short', 'longer  1234  a very …', 'esc        2  x [31my…', ''].join(
        '\n',
      ),
    );
  });

  it('formats sizes and dates', () => {
    expect([0, 512, 1536, 10 * 1024 ** 2, 2 * 1024 ** 3].map(formatSize)).toEqual(['0', '512', '1.5K', '10M', '2G']);
    expect(formatDate(new Date('2024-03-01T09:05:59Z'))).toBe('2024-03-01 09:05');
    expect(formatDate(null)).toBe('-');
  });
});

describe('reportError', () => {
  const saved = process.env.HERMOD_DEBUG;
  afterEach(() => {
    if (saved === undefined) delete process.env.HERMOD_DEBUG;
    else process.env.HERMOD_DEBUG = saved;
  });

  function report(err: unknown): { code: number; out: string } {
    let out = '';
    const code = reportError(err, (line) => (out += line));
    return { code, out };
  }

  it('maps coded errors to exit statuses, one line each', () => {
    delete process.env.HERMOD_DEBUG;
    expect(report(new ConfigError('a.yaml: unknown key x'))).toEqual({ code: 2, out: 'hermod: a.yaml: unknown key x\n' });
    expect(report(new InputError('bad\nthing')).out).toBe('hermod: bad thing\n');
    expect(report(new NotFoundError('no such')).code).toBe(1);
    expect(report(new StoreError('disk full')).code).toBe(1);
    expect(report(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toEqual({
      code: 2,
      out: "hermod: unknown option '--x'\n",
    });
    expect(report(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({ code: 0, out: '' });
  });

  it('reports system errors plainly and unknown ones as internal, with the stack only under HERMOD_DEBUG', () => {
    delete process.env.HERMOD_DEBUG;
    const quiet = report(new TypeError('boom'));
    expect(quiet.code).toBe(1);
    expect(quiet.out).toMatch(/^hermod: internal error: boom \(set HERMOD_DEBUG=1 for details\)\n$/);
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:2424'), {
      code: 'EADDRINUSE',
      syscall: 'listen',
    });
    expect(report(inUse)).toEqual({ code: 1, out: 'hermod: listen EADDRINUSE: address already in use 127.0.0.1:2424\n' });
    process.env.HERMOD_DEBUG = '1';
    const loud = report(new TypeError('boom'));
    expect(loud.out).toMatch(/^hermod: internal error: boom\nTypeError: boom\n\s+at /);
  });
});
