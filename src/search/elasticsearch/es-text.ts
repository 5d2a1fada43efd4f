/**
 * Text preparation shared by indexing and querying, so the Elasticsearch index finds what the
 * embedded FTS5 index finds.
 *
 * The index uses Elasticsearch's `standard` analyzer (the only one a minimal cluster without
 * analysis-common offers). On its own it differs from FTS5's `unicode61 remove_diacritics 2` in
 * two ways that users notice: it keeps diacritics (`münchen` would not find `Munchen`), and it
 * keeps `shop.example.com` or `don't` as single tokens (so `example` or `don` would not match).
 * Running the same JavaScript pass over documents and query terms closes both gaps without an
 * analysis plugin: diacritics are stripped, and every run of characters that is not a letter,
 * mark, number or private-use character (FTS5's token characters) becomes one space. The
 * analyzer then only splits on those spaces and lower-cases.
 *
 * What still differs: CJK. The standard analyzer indexes each ideograph as its own token, so
 * `東京` also matches inside a longer run of CJK text, where FTS5 needs the whole run.
 */

/** Combining diacritical marks (U+0300–U+036F): what FTS5's remove_diacritics strips from Latin. */
const DIACRITICS = /[\u0300-\u036f]/g;

/** Everything FTS5's unicode61 tokenizer treats as a separator. */
const SEPARATORS = /[^\p{L}\p{M}\p{N}\p{Co}]+/gu;

/**
 * Lower-cases, strips Latin diacritics (`Café` → `cafe`) and turns separators into single spaces.
 * Applied to indexed text and to query terms alike.
 */
export function foldText(text: string): string {
  if (text === '') return '';
  return text
    .normalize('NFD')
    .replace(DIACRITICS, '')
    .normalize('NFC')
    .toLowerCase()
    .replace(SEPARATORS, ' ')
    .trim();
}

/**
 * Lucene refuses a keyword term over 32766 UTF-8 bytes and fails the whole document. At four
 * bytes per character at most, this many characters always fit.
 */
export const MAX_KEYWORD_CHARS = 8000;

/**
 * A keyword value as indexed and queried: lower-cased by JavaScript (which folds all of Unicode,
 * as the FTS5 adapter does) and cut to {@link MAX_KEYWORD_CHARS}.
 */
export function keyword(value: string): string {
  return value.toLowerCase().slice(0, MAX_KEYWORD_CHARS);
}

/**
 * A wildcard pattern matching any keyword that contains `value` (case-insensitively): the
 * substring test FTS5 does with `instr()`. `*`, `?` and `\` in the value are escaped, so user
 * text can never become a pattern.
 */
export function containsPattern(value: string): string {
  return `*${keyword(value).replace(/[\\*?]/g, (c) => `\\${c}`)}*`;
}
