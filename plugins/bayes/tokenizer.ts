import { loadAddressParser, TimeSlice, type ParsedMessage } from '../../src/plugin-api.js';
import type { TokenizerOptions } from './config.js';
import { headerTokens } from './header-tokens.js';
import { htmlMarkupTokensSliced, htmlToPlainTextSliced } from './html-text.js';
import { textTokensSliced } from './text-tokens.js';

/** Longest token kept; longer ones (odd header values) are cut, which keeps them distinct enough. */
export const MAX_TOKEN_CHARS = 64;

/** The tokenizer's defaults, for callers outside the plugin (tests, evaluation). */
export const DEFAULT_TOKENIZER: TokenizerOptions = {
  bigrams: false,
  headers: true,
  maxBodyChars: 200_000,
  maxTokens: 3000,
};

/**
 * Loads what {@link tokenize} needs that is not loaded at start (mailparser's address parser,
 * kept out of an idle server's memory). Await it once before the first tokenize.
 */
export async function loadTokenizer(): Promise<void> {
  await loadAddressParser();
}

/** Thrown inside emit once the message has given enough tokens; caught by {@link tokenize}. */
class Enough extends Error {}

/**
 * The distinct tokens of a parsed message, headers first, in first-seen order: header evidence
 * (see header-tokens.ts), then the body text — mailparser's text and the HTML part converted to
 * text (words seen in both count once) — and the URLs and telling tags of the HTML markup.
 *
 * Await {@link loadTokenizer} once before the first call. Between its passes, and inside the
 * text passes, the event loop gets a turn once `slice` is spent.
 *
 * @param raw the raw bytes, for MIME part headers (content types, charsets); optional
 */
export async function tokenize(
  parsed: ParsedMessage,
  raw: Buffer | undefined,
  options: TokenizerOptions,
  slice = new TimeSlice(),
): Promise<string[]> {
  const tokens = new Set<string>();
  const emit = (token: string): void => {
    tokens.add(token.length > MAX_TOKEN_CHARS ? token.slice(0, MAX_TOKEN_CHARS) : token);
    if (tokens.size >= options.maxTokens) throw new Enough();
  };
  try {
    if (options.headers) headerTokens(parsed, raw, emit);
    const textOptions = { bigrams: options.bigrams, maxChars: options.maxBodyChars };
    await slice.pause();
    await textTokensSliced(parsed.text, emit, textOptions, slice);
    if (parsed.html !== '') {
      // The HTML part too: a text part may be only a stub ("your mail program does not show HTML").
      const htmlText = await htmlToPlainTextSliced(parsed.html, options.maxBodyChars, slice);
      await textTokensSliced(htmlText, emit, textOptions, slice);
      await htmlMarkupTokensSliced(parsed.html, emit, options.maxBodyChars, slice);
    }
  } catch (err) {
    if (!(err instanceof Enough)) throw err;
  }
  return [...tokens];
}
