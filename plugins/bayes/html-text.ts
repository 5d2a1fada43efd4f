import { decodeEntities, scanHtml } from '../spam/html-scan.js';
import { urlTokens, type Emit } from './text-tokens.js';

/** Tags whose presence is evidence of its own: images, forms, scripts, fonts, tables, frames. */
const TELLING_TAGS = new Set(['img', 'form', 'input', 'script', 'iframe', 'font', 'table', 'map', 'object', 'embed', 'style']);
/**
 * HTML to the text a reader sees: scripts, styles and comments dropped (a comment inside a word
 * joins it back: `Vi<!-- x -->agra`), block tags become spaces, inline tags vanish, entities
 * decoded. The spam plugin's linear scanner, so hostile markup costs one pass; at most
 * `maxChars` of the HTML are read.
 */
export function htmlToPlainText(html: string, maxChars?: number): string {
  return scanHtml(html, maxChars).text;
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
