import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseSearchQuery } from '../../src/search/query-parser.js';
import type { SearchQuery } from '../../src/search/search-index.js';

const empty: SearchQuery = { text: [], from: [], to: [], subject: [], tags: [] };
const q = (patch: Partial<SearchQuery>): SearchQuery => ({ ...empty, ...patch });
const day = (iso: string): Date => new Date(`${iso}T00:00:00.000Z`);

const VALID: [input: string, expected: SearchQuery][] = [
  ['', empty],
  ['   \t ', empty],
  ['budget', q({ text: ['budget'] })],
  ['budget  review\tboard', q({ text: ['budget', 'review', 'board'] })],
  ['"third quarter"', q({ text: ['third quarter'] })],
  ['report "third quarter" numbers', q({ text: ['report', 'third quarter', 'numbers'] })],
  ['"  padded phrase  "', q({ text: ['padded phrase'] })],
  ['""', empty],
  ['"unterminated phrase', q({ text: ['unterminated phrase'] })],
  ['- * &', empty],
  ['Grüße 東京', q({ text: ['Grüße', '東京'] })],
  ['10:30', q({ text: ['10:30'] })],
  ['"http://example.com"', q({ text: ['http://example.com'] })],
  ['from:alice@example.com', q({ from: ['alice@example.com'] })],
  ['FROM:Alice', q({ from: ['Alice'] })],
  ['from:"Alice Example"', q({ from: ['Alice Example'] })],
  ['from:alice from:example.com', q({ from: ['alice', 'example.com'] })],
  ['to:bob', q({ to: ['bob'] })],
  ['subject:report', q({ subject: ['report'] })],
  ['subject:"spring sale"', q({ subject: ['spring sale'] })],
  ['subject:-', empty],
  ['tag:Finance tag:work', q({ tags: ['Finance', 'work'] })],
  ['folder:INBOX', q({ folder: 'INBOX' })],
  ['folder:inbox folder:INBOX', q({ folder: 'INBOX' })],
  ['folder:"Old Mail"', q({ folder: 'Old Mail' })],
  ['has:attachment', q({ hasAttachment: true })],
  ['HAS:Attachment', q({ hasAttachment: true })],
  ['after:2024-03-01', q({ after: day('2024-03-01') })],
  ['before:2024-03-02', q({ before: day('2024-03-02') })],
  ['after:2024-02-29', q({ after: day('2024-02-29') })],
  ['before:2024-05-01 before:2024-04-01', q({ before: day('2024-04-01') })],
  ['after:2024-01-01 after:2024-02-01', q({ after: day('2024-02-01') })],
  [
    'from:alice to:"Bob B" subject:report tag:x folder:INBOX has:attachment after:2024-01-01 before:2024-02-01 budget "board meeting"',
    {
      text: ['budget', 'board meeting'],
      from: ['alice'],
      to: ['Bob B'],
      subject: ['report'],
      tags: ['x'],
      folder: 'INBOX',
      hasAttachment: true,
      after: day('2024-01-01'),
      before: day('2024-02-01'),
    },
  ],
];

const INVALID: [input: string, messagePart: string][] = [
  ['form:bob', 'form:bob'],
  ['http://example.com', 'http://example.com'],
  ['cc:carol', 'cc:carol'],
  ['has:image', 'has:image'],
  ['has:', 'has:'],
  ['from:', 'from:'],
  ['from: alice', 'from:'],
  ['tag:""', 'tag:""'],
  ['before:2024-13-01', 'before:2024-13-01'],
  ['before:2023-02-29', 'before:2023-02-29'],
  ['after:2024-02-30', 'after:2024-02-30'],
  ['after:yesterday', 'after:yesterday'],
  ['after:2024-3-1', 'after:2024-3-1'],
  ['before:"2024-01-01 12:00"', 'before:"2024-01-01 12:00"'],
  ['folder:INBOX folder:Junk', 'folder:Junk'],
];

describe('parseSearchQuery', () => {
  it.each(VALID)('parses %j', (input, expected) => {
    expect(parseSearchQuery(input)).toEqual(expected);
  });

  it.each(INVALID)('rejects %j, naming the token', (input, messagePart) => {
    let caught: unknown;
    try {
      parseSearchQuery(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).code).toBe('HERMOD_INPUT');
    expect((caught as InputError).message).toContain(messagePart);
  });
});
