/**
 * Body text to tokens, in the manner of SpamBayes: white-space separated words, lower-cased,
 * with URLs and e-mail addresses taken apart into their telling pieces first.
 */
import { whiteSpaceChunks, type TimeSlice } from '../../src/plugin-api.js';

/** Words shorter than this say little (articles, "to", "of"). */
export const MIN_WORD = 3;
/** Longer words are mostly encodings, hashes or run-together junk: summarised, not kept. */
export const MAX_WORD = 12;

// Message text is hostile: every repetition below is bounded (a local part of at most 64, a label
// of at most 63 characters, at most 8 more labels), so a long run of address characters without
// an `@` costs a bounded amount per position instead of a rescan to its end (quadratic: 3 s for
// 20,000 characters). Both are applied word by word, to words that can hold a match.
const URL_PATTERN = /\b(?:https?|ftp):\/\/[^\s<>"'()[\]{}]+|\bwww\.[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}[^\s<>"'()[\]{}]*/gi;
const EMAIL_PATTERN = /[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}/gi;
// Punctuation trimmed off both ends of a word; `$`, `%` and `!` stay, they carry meaning in spam.
// The leading run is matched at the start only; the trailing run is walked back by hand: a
// global `[...]+$` tries every position of a punctuation run inside the word (quadratic).
const LEADING_PUNCTUATION = /^[^\p{L}\p{N}$€£]+/u;
const KEPT_AT_END = /[\p{L}\p{N}$€£%!]/u;
/** Longest word searched for URLs and addresses. */
const MAX_LINK_WORD = 4096;
/** Labels of a domain that make suffix tokens; more are hostile (each suffix copies the rest). */
const MAX_DOMAIN_LABELS = 10;

/** An ASCII letter or digit: a word that starts and ends with one has nothing to trim. */
function isAsciiAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** The word without leading and trailing punctuation. */
export function trimPunctuation(word: string): string {
  // Most words of most mail: no regex, no slice (the two patterns below would keep them whole).
  if (word.length > 0 && isAsciiAlnum(word.charCodeAt(0)) && isAsciiAlnum(word.charCodeAt(word.length - 1))) return word;
  const start = LEADING_PUNCTUATION.exec(word)?.[0].length ?? 0;
  let end = word.length;
  while (end > start) {
    const last = word.charCodeAt(end - 1);
    // A low surrogate ends a character of two code units (an astral letter).
    const width = last >= 0xdc00 && last <= 0xdfff && end - 2 >= start ? 2 : 1;
    if (KEPT_AT_END.test(word.slice(end - width, end))) break;
    end -= width;
  }
  return word.slice(start, end);
}

/** Adds tokens to a set, in first-seen order. */
export type Emit = (token: string) => void;

/**
 * One word to its tokens: the word itself when 3..12 characters, an e-mail address taken apart,
 * or a `skip:` summary (first character and length in tens) for a long word.
 */
export function wordTokens(word: string, emit: Emit, prefix = ''): void {
  const w = trimPunctuation(word).toLowerCase();
  if (w.length < MIN_WORD) return;
  if (w.length <= MAX_WORD) {
    emit(prefix + w);
    return;
  }
  if (w.includes('@') && /^[^@]+@[^@]+\.[^@]+$/.test(w)) {
    emailTokens(w, emit);
    return;
  }
  emit(`${prefix}skip:${[...w][0]} ${Math.floor(w.length / 10) * 10}`);
}

/** `user@mail.example.com` → `email name:user`, `email addr:example.com`, `email addr:mail.example.com`. */
export function emailTokens(address: string, emit: Emit, prefix = 'email'): void {
  const at = address.lastIndexOf('@');
  if (at <= 0) return;
  const local = address.slice(0, at).toLowerCase();
  emit(`${prefix} name:${local}`);
  for (const suffix of domainSuffixes(address.slice(at + 1))) emit(`${prefix} addr:${suffix}`);
}

/**
 * A lower-case domain of 1..MAX_DOMAIN_LABELS non-empty labels: split on dots it gives no empty
 * label and no label is dropped, so its suffixes can be sliced off it directly.
 */
function isPlainDomain(domain: string): boolean {
  if (domain === '' || domain[0] === '.' || domain[domain.length - 1] === '.' || domain.includes('..')) return false;
  let dots = 0;
  for (let at = domain.indexOf('.'); at >= 0; at = domain.indexOf('.', at + 1)) if (++dots >= MAX_DOMAIN_LABELS) return false;
  return true;
}

/** `mail.example.co.uk` → `example.co.uk`, `mail.example.co.uk` (the last label alone says little). */
export function domainSuffixes(domain: string): string[] {
  const plain = domain.toLowerCase();
  if (isPlainDomain(plain)) {
    // The suffixes by slicing at each dot from the right: no label array to split and re-join.
    const out: string[] = [];
    let dot = plain.lastIndexOf('.');
    if (dot < 0) return [plain];
    for (dot = plain.lastIndexOf('.', dot - 1); dot >= 0; dot = plain.lastIndexOf('.', dot - 1)) out.push(plain.slice(dot + 1));
    out.push(plain);
    return out;
  }
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean).slice(-MAX_DOMAIN_LABELS);
  const out: string[] = [];
  for (let i = labels.length - 2; i >= 0; i--) out.push(labels.slice(i).join('.'));
  return out.length > 0 ? out : labels;
}

/**
 * A URL → `proto:http`, `url:` host suffixes (an IP host as `url:ip`) and `url:` path pieces of
 * word length. Query values are kept as pieces too: tracking ids are noise, but keys are telling.
 */
export function urlTokens(url: string, emit: Emit): void {
  const match = /^(?:([a-z]+):\/\/)?([^/?#:]+)(?::\d+)?([^\s]*)$/i.exec(url);
  if (!match) return;
  emit(`proto:${(match[1] ?? 'http').toLowerCase()}`);
  const host = match[2].toLowerCase();
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) emit('url:ip');
  else for (const suffix of domainSuffixes(host)) emit(`url:${suffix}`);
  for (const piece of (match[3] ?? '').split(/[/?#&=.,;_+%-]+/)) {
    const p = piece.toLowerCase();
    if (p.length >= MIN_WORD && p.length <= MAX_WORD) emit(`url:${p}`);
  }
}

/** Options for {@link textTokens}. */
export interface TextTokenOptions {
  bigrams: boolean;
  maxChars: number;
}

/**
 * The words of a text, emitting its URL and e-mail address tokens on the way: those are taken out
 * first (then blanked). URLs and addresses never span white space, so taking them out word by
 * word finds what a pass over the whole text would, and skips the regexes for the many words that
 * cannot hold one; for the same reason, a text cut before white space gives its words piece by piece.
 */
function wordsOf(text: string, emit: Emit, words: string[]): void {
  for (const raw of text.split(/\s+/)) {
    if (raw === '') continue;
    let word = raw;
    // A longer "word" is a data dump, not a link or an address; it still gives its skip: token.
    if (word.length > MAX_LINK_WORD) {
      words.push(word);
      continue;
    }
    // A link holds a dot or `://`: the case-blind `www.` pattern runs only on words with a dot.
    if (word.includes('://') || (word.includes('.') && /www\./i.test(word))) {
      word = word.replace(URL_PATTERN, (url) => {
        urlTokens(url, emit);
        return ' ';
      });
    }
    if (word.includes('@')) {
      word = word.replace(EMAIL_PATTERN, (address) => {
        emailTokens(address, emit);
        return ' ';
      });
    }
    if (word === raw) words.push(word);
    else for (const rest of word.split(' ')) if (rest !== '') words.push(rest);
  }
}

/** Tokens of a body text: URLs and e-mail addresses first (then blanked), then words. */
export function textTokens(text: string, emit: Emit, options: TextTokenOptions): void {
  const words: string[] = [];
  wordsOf(text.slice(0, options.maxChars), emit, words);
  let previous: string | null = null;
  for (const word of words) {
    wordTokens(word, emit);
    if (options.bigrams) previous = bigram(previous, word, emit);
  }
}

/** Words handled between two looks at the slice's clock. */
const WORDS_PER_CHECK = 1024;

/**
 * textTokens with turns of the event loop when the slice is spent: the same tokens in the same
 * order (addresses and URLs of the whole text first, then words), the text taken in pieces cut
 * before white space.
 */
export async function textTokensSliced(text: string, emit: Emit, options: TextTokenOptions, slice: TimeSlice): Promise<void> {
  const words: string[] = [];
  for (const piece of whiteSpaceChunks(text.slice(0, options.maxChars))) {
    wordsOf(piece, emit, words);
    await slice.pause();
  }
  let previous: string | null = null;
  for (let i = 0; i < words.length; i++) {
    if (i % WORDS_PER_CHECK === WORDS_PER_CHECK - 1) await slice.pause();
    wordTokens(words[i], emit);
    if (options.bigrams) previous = bigram(previous, words[i], emit);
  }
}

/** Emits `bi:previous word` for two adjacent plain words; returns the word to pair next. */
function bigram(previous: string | null, word: string, emit: Emit): string | null {
  const w = trimPunctuation(word).toLowerCase();
  if (w.length < MIN_WORD || w.length > MAX_WORD) return null;
  if (previous !== null) emit(`bi:${previous} ${w}`);
  return w;
}
