import { runPass, runPassSliced, SLICE_STEPS, type SteppedPass, type TimeSlice } from '../../src/plugin-api.js';
import { urlTokens, type Emit } from './text-tokens.js';

/** Tags whose presence is evidence of its own: images, forms, scripts, fonts, tables, frames. */
const TELLING_TAGS = new Set(['img', 'form', 'input', 'script', 'iframe', 'font', 'table', 'map', 'object', 'embed', 'style']);
/** Tags that break a line when rendered; any other tag joins its neighbours (spam splits words with <b></b>). */
const BLOCK_TAGS = new Set(['p', 'br', 'div', 'tr', 'td', 'th', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'table', 'hr', 'blockquote', 'pre', 'title', 'center', 'body', 'html', 'head']);

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the common named entities and numeric character references (bounded, so linear). */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,8}|#\d{1,8}|[a-z]{1,10});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const isLetter = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

/** The lower-case tag name at the start of a tag body (`/td` → `td`). */
function tagName(body: string): string {
  let i = body[0] === '/' ? 1 : 0;
  const start = i;
  while (i < body.length && (isLetter(body[i]) || (i > start && body[i] >= '0' && body[i] <= '9'))) i++;
  return body.slice(start, i).toLowerCase();
}

/**
 * HTML to the text a reader sees: scripts, styles and comments dropped (a comment inside a word
 * joins it back: `Vi<!-- x -->agra`), block tags become spaces, inline tags vanish, entities
 * decoded. One forward pass over at most `maxChars`: once no `>` or closing marker follows,
 * nothing later is searched for it, so hostile markup (a MiB of `<`) stays linear.
 */
export function htmlToPlainText(html: string, maxChars = 200_000): string {
  return runPass(plainTextSteps(html, maxChars));
}

/** htmlToPlainText with a turn of the event loop whenever `slice` is spent: the same text. */
export function htmlToPlainTextSliced(html: string, maxChars: number, slice: TimeSlice): Promise<string> {
  return runPassSliced(plainTextSteps(html, maxChars), slice);
}

/** htmlToPlainText as a stepped pass: it yields every SLICE_STEPS steps of its loop. */
function* plainTextSteps(html: string, maxChars: number): SteppedPass<string> {
  const src = html.length > maxChars ? html.slice(0, maxChars) : html;
  const lower = src.toLowerCase();
  const out: string[] = [];
  let i = 0;
  // Where the next `<` is looked for: a `<` that starts no tag stays inside the text run, so a
  // megabyte of `<` is one slice rather than a push per character.
  let from = 0;
  let tags = true;
  let steps = 0;
  while (i < src.length) {
    if (++steps % SLICE_STEPS === 0) yield;
    if (from < i) from = i;
    const lt = tags ? src.indexOf('<', from) : -1;
    if (lt < 0) {
      out.push(src.slice(i));
      break;
    }
    if (lower.startsWith('<!--', lt)) {
      out.push(src.slice(i, lt));
      const end = lower.indexOf('-->', lt + 4);
      if (end < 0) break;
      i = end + 3;
      continue;
    }
    const next = src[lt + 1];
    const gt = isLetter(next) || next === '/' || next === '!' ? src.indexOf('>', lt + 1) : -2;
    if (gt < 0) {
      if (gt === -1) tags = false; // no `>` anywhere after: no later `<` is a tag either
      from = lt + 1;
      continue;
    }
    out.push(src.slice(i, lt));
    const name = tagName(src.slice(lt + 1, gt));
    i = gt + 1;
    if ((name === 'script' || name === 'style') && src[lt + 1] !== '/') {
      const close = lower.indexOf(`</${name}`, i);
      if (close < 0) break;
      const closeEnd = src.indexOf('>', close);
      i = closeEnd < 0 ? src.length : closeEnd + 1;
      out.push(' ');
    } else if (BLOCK_TAGS.has(name)) out.push(' ');
  }
  return decodeEntities(out.join(''));
}

/**
 * Evidence in the markup itself: `html:<tag>` for telling tags, and URL tokens for link and image
 * targets (the text may say "click here" while the link goes elsewhere).
 */
export function htmlMarkupTokens(html: string, emit: Emit, maxChars: number): void {
  runPass(markupTokenSteps(html, emit, maxChars));
}

/** htmlMarkupTokens with a turn of the event loop whenever `slice` is spent: the same tokens. */
export function htmlMarkupTokensSliced(html: string, emit: Emit, maxChars: number, slice: TimeSlice): Promise<void> {
  return runPassSliced(markupTokenSteps(html, emit, maxChars), slice);
}

/** htmlMarkupTokens as a stepped pass: it yields every SLICE_STEPS matches. */
function* markupTokenSteps(html: string, emit: Emit, maxChars: number): SteppedPass<void> {
  const markup = html.slice(0, maxChars);
  let steps = 0;
  for (const match of markup.matchAll(/<([a-z][a-z0-9]*)\b/gi)) {
    if (++steps % SLICE_STEPS === 0) yield;
    const name = match[1].toLowerCase();
    if (TELLING_TAGS.has(name)) emit(`html:${name}`);
  }
  for (const match of markup.matchAll(/\b(?:href|src|action)\s*=\s*["']?([^"'\s>]+)/gi)) {
    if (++steps % SLICE_STEPS === 0) yield;
    const target = decodeEntities(match[1]);
    if (/^(?:https?|ftp):\/\//i.test(target)) urlTokens(target, emit);
    else if (/^mailto:/i.test(target)) emit('html:mailto');
  }
}
