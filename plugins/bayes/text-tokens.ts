/**
 * Body text to tokens, in the manner of SpamBayes: white-space separated words, lower-cased,
 * with URLs and e-mail addresses taken apart into their telling pieces first.
 */

/** Words shorter than this say little (articles, "to", "of"). */
export const MIN_WORD = 3;
/** Longer words are mostly encodings, hashes or run-together junk: summarised, not kept. */
export const MAX_WORD = 12;

const URL_PATTERN = /\b(?:https?|ftp):\/\/[^\s<>"'()[\]{}]+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>"'()[\]{}]*/gi;
const EMAIL_PATTERN = /[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+/gi;
// Punctuation trimmed off both ends of a word; `$`, `%` and `!` stay, they carry meaning in spam.
const EDGE_PUNCTUATION = /^[^\p{L}\p{N}$€£]+|[^\p{L}\p{N}$€£%!]+$/gu;

/** Adds tokens to a set, in first-seen order. */
export type Emit = (token: string) => void;

/**
 * One word to its tokens: the word itself when 3..12 characters, an e-mail address taken apart,
 * or a `skip:` summary (first character and length in tens) for a long word.
 */
export function wordTokens(word: string, emit: Emit, prefix = ''): void {
  const w = word.replace(EDGE_PUNCTUATION, '').toLowerCase();
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

/** `mail.example.co.uk` → `example.co.uk`, `mail.example.co.uk` (the last label alone says little). */
export function domainSuffixes(domain: string): string[] {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean);
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

/** Tokens of a body text: URLs and e-mail addresses first (then blanked), then words. */
export function textTokens(text: string, emit: Emit, options: TextTokenOptions): void {
  let body = text.slice(0, options.maxChars);
  body = body.replace(URL_PATTERN, (url) => {
    urlTokens(url, emit);
    return ' ';
  });
  body = body.replace(EMAIL_PATTERN, (address) => {
    emailTokens(address, emit);
    return ' ';
  });
  let previous: string | null = null;
  for (const word of body.split(/\s+/)) {
    if (word === '') continue;
    wordTokens(word, emit);
    if (options.bigrams) previous = bigram(previous, word, emit);
  }
}

/** Emits `bi:previous word` for two adjacent plain words; returns the word to pair next. */
function bigram(previous: string | null, word: string, emit: Emit): string | null {
  const w = word.replace(EDGE_PUNCTUATION, '').toLowerCase();
  if (w.length < MIN_WORD || w.length > MAX_WORD) return null;
  if (previous !== null) emit(`bi:${previous} ${w}`);
  return w;
}
