import { InputError } from '../errors.js';
import type { SearchQuery } from './search-index.js';

/**
 * The search box syntax, close to Gmail's. All conditions are ANDed.
 *
 * | Token                           | Meaning                                                        |
 * | ------------------------------- | -------------------------------------------------------------- |
 * | `word`                          | the word appears in subject, body or an attachment name        |
 * | `"a phrase"`                    | the words appear consecutively there                           |
 * | `from:x` / `from:"A Name"`      | the From header contains x (address or display name)           |
 * | `to:x`                          | a To **or Cc** address contains x                              |
 * | `subject:w` / `subject:"a b"`   | the subject contains the word / phrase                         |
 * | `tag:x`                         | the entry carries tag x (whole tag, any case)                  |
 * | `folder:X`                      | the entry is in folder X (whole name, any case)                |
 * | `has:attachment`                | the entry has at least one attachment                          |
 * | `after:YYYY-MM-DD`              | date >= that day 00:00 UTC (the day itself is included)        |
 * | `before:YYYY-MM-DD`             | date <  that day 00:00 UTC (the day itself is excluded)        |
 *
 * So `after:2024-03-01 before:2024-03-02` is exactly 1 March 2024 (UTC), as in Gmail.
 *
 * Decisions worth knowing:
 * - Field names and `has:` values are case-insensitive. Values are kept as typed; adapters
 *   compare case-insensitively.
 * - A token `name:value` whose `name` is letters only is a field; an unknown name is an error
 *   (so a typo like `form:bob` is not silently searched as text). Quote it to search the text:
 *   `"http://example.com"`. Tokens like `10:30` (prefix not all letters) stay free text.
 * - An unterminated quote runs to the end of the input rather than failing: a half-typed
 *   search box should still search.
 * - Free words without any letter or digit (`-`, `*`, `&`) are dropped: every analyzer tokenizes
 *   them to nothing, and an empty term would otherwise match nothing at all.
 * - Repeated `before:` keeps the earliest, repeated `after:` the latest (that is what ANDing
 *   them means). Two different `folder:` values cannot both hold and are an error.
 */
export function parseSearchQuery(input: string): SearchQuery {
  const query: SearchQuery = { text: [], from: [], to: [], subject: [], tags: [] };
  for (const token of tokenize(input)) {
    if (token.field === undefined) {
      if (hasWordChar(token.value)) query.text.push(token.value);
      continue;
    }
    applyField(query, token);
  }
  return query;
}

/** One lexical unit of the query: an optional field name and its (unquoted) value. */
interface Token {
  field?: string;
  value: string;
  /** The token as written, for error messages. */
  raw: string;
}

const FIELD_PREFIX = /^([A-Za-z]+):/;

/** Splits on whitespace, honouring double quotes both alone and after `field:`. */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    if (/\s/.test(input[i])) {
      i++;
      continue;
    }
    const start = i;
    let field: string | undefined;
    const prefix = FIELD_PREFIX.exec(input.slice(i));
    if (prefix) {
      field = prefix[1].toLowerCase();
      i += prefix[0].length;
    }
    let value: string;
    if (input[i] === '"') {
      const close = input.indexOf('"', i + 1);
      const end = close === -1 ? input.length : close;
      value = input.slice(i + 1, end).trim();
      i = close === -1 ? input.length : close + 1;
    } else {
      const rest = input.slice(i);
      const word = /^\S*/.exec(rest)![0];
      value = word;
      i += word.length;
    }
    const raw = input.slice(start, i);
    // A bare `""` says nothing; a `field:""` is still an error below (empty value).
    if (field === undefined && value === '') continue;
    tokens.push({ field, value, raw });
  }
  return tokens;
}

function applyField(query: SearchQuery, token: Token): void {
  const { field, value, raw } = token;
  if (value === '') throw new InputError(`search: "${raw}" has no value`);
  switch (field) {
    case 'from':
      query.from.push(value);
      return;
    case 'to':
      query.to.push(value);
      return;
    case 'subject':
      if (hasWordChar(value)) query.subject.push(value);
      return;
    case 'tag':
      query.tags.push(value);
      return;
    case 'folder':
      if (query.folder !== undefined && query.folder.toLowerCase() !== value.toLowerCase()) {
        throw new InputError(`search: "${raw}" conflicts with folder:${query.folder}`);
      }
      query.folder = value;
      return;
    case 'has':
      if (value.toLowerCase() !== 'attachment') {
        throw new InputError(`search: "${raw}" is not supported (only has:attachment)`);
      }
      query.hasAttachment = true;
      return;
    case 'before': {
      const day = parseDay(value, raw);
      if (query.before === undefined || day < query.before) query.before = day;
      return;
    }
    case 'after': {
      const day = parseDay(value, raw);
      if (query.after === undefined || day > query.after) query.after = day;
      return;
    }
    default:
      throw new InputError(
        `search: unknown field in "${raw}" (known: from, to, subject, tag, folder, has, before, after)`,
      );
  }
}

/** `YYYY-MM-DD` → that day at 00:00 UTC; rejects impossible days such as 2024-02-30. */
function parseDay(value: string, raw: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(year, month - 1, day));
    // Date.UTC rolls 2024-02-30 over into March; a round trip catches that.
    if (date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day) {
      return date;
    }
  }
  throw new InputError(`search: "${raw}" is not a valid date (use YYYY-MM-DD)`);
}

function hasWordChar(value: string): boolean {
  return /[\p{L}\p{N}]/u.test(value);
}
