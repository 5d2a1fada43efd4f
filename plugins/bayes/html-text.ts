import { urlTokens, type Emit } from './text-tokens.js';

/** Tags whose presence is evidence of its own: images, forms, scripts, fonts, tables, frames. */
const TELLING_TAGS = new Set(['img', 'form', 'input', 'script', 'iframe', 'font', 'table', 'map', 'object', 'embed', 'style']);
/** Tags that break a line when rendered; any other tag joins its neighbours (spam splits words with <b></b>). */
const BLOCK_TAGS = /^(?:p|br|div|tr|td|th|li|ul|ol|h[1-6]|table|hr|blockquote|pre|title|center|body|html|head)$/;

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the common named entities and numeric character references. */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/**
 * HTML to the text a reader sees: scripts, styles and comments dropped (a comment inside a word
 * joins it back: `Vi<!-- x -->agra`), block tags become spaces, inline tags vanish, entities decoded.
 * Used when the parse step left no text (HTML-to-text turned off).
 */
export function htmlToPlainText(html: string): string {
  const withoutCode = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ');
  const text = withoutCode.replace(/<\/?([a-z][a-z0-9]*)\b[^>]*>/gi, (_tag, name: string) =>
    BLOCK_TAGS.test(name.toLowerCase()) ? ' ' : '',
  );
  return decodeEntities(text);
}

/**
 * Evidence in the markup itself: `html:<tag>` for telling tags, and URL tokens for link and image
 * targets (the text may say "click here" while the link goes elsewhere).
 */
export function htmlMarkupTokens(html: string, emit: Emit, maxChars: number): void {
  const markup = html.slice(0, maxChars);
  for (const match of markup.matchAll(/<([a-z][a-z0-9]*)\b/gi)) {
    const name = match[1].toLowerCase();
    if (TELLING_TAGS.has(name)) emit(`html:${name}`);
  }
  for (const match of markup.matchAll(/\b(?:href|src|action)\s*=\s*["']?([^"'\s>]+)/gi)) {
    const target = decodeEntities(match[1]);
    if (/^(?:https?|ftp):\/\//i.test(target)) urlTokens(target, emit);
    else if (/^mailto:/i.test(target)) emit('html:mailto');
  }
}
