/**
 * A linear-time HTML scanner: the text a reader sees, the links with their texts, and image
 * counts. Hostile markup (a megabyte of `<`, an unclosed comment) costs one pass: every search
 * moves forward, and once a `>` or a closing marker is missing, nothing later is searched for it.
 */
import { runPass, runPassSliced, SLICE_STEPS, type SteppedPass, type TimeSlice } from '../../src/plugin-api.js';

/** A link: its target and the text shown for it. */
export interface HtmlLink {
  href: string;
  text: string;
}

export interface HtmlScan {
  /** Visible text: scripts, styles and comments dropped, block tags as spaces, entities decoded. */
  text: string;
  links: HtmlLink[];
  /** `<img>` tags. */
  images: number;
}

/** Tags that break a line when rendered; any other tag joins its neighbours (spam splits words with <b></b>). */
const BLOCK_TAGS = new Set(['p', 'br', 'div', 'tr', 'td', 'th', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'table', 'hr', 'blockquote', 'pre', 'title', 'center', 'body', 'html', 'head']);

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Most links kept per message (the rest are counted in text only). */
const MAX_LINKS = 500;
/** Most characters of link text kept per link. */
const MAX_LINK_TEXT = 200;

/** Decodes the common named entities and numeric character references (bounded, so linear). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,8}|#\d{1,8}|[a-z]{1,10});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const isLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

/** The tag name at the start of a tag body (`a href=…` → `a`, `/td` → `td`), lower case. */
function tagName(body: string): string {
  let i = body[0] === '/' ? 1 : 0;
  const start = i;
  while (i < body.length && (isLetter(body[i]) || (i > start && body[i] >= '0' && body[i] <= '9'))) i++;
  return body.slice(start, i).toLowerCase();
}

/** An attribute's value in a tag body (quoted or bare), or undefined. */
export function attribute(body: string, name: string): string | undefined {
  const lower = body.toLowerCase();
  let from = 0;
  for (;;) {
    const at = lower.indexOf(name, from);
    if (at < 0) return undefined;
    from = at + name.length;
    const before = lower[at - 1];
    if (before !== undefined && before !== ' ' && before !== '\t' && before !== '\n' && before !== '\r' && before !== '"' && before !== "'") continue;
    let i = from;
    while (i < body.length && /\s/.test(body[i])) i++;
    if (body[i] !== '=') continue;
    i++;
    while (i < body.length && /\s/.test(body[i])) i++;
    const quote = body[i];
    if (quote === '"' || quote === "'") {
      const end = body.indexOf(quote, i + 1);
      return decodeEntities(body.slice(i + 1, end < 0 ? body.length : end)).trim();
    }
    let end = i;
    while (end < body.length && !/\s/.test(body[end])) end++;
    return decodeEntities(body.slice(i, end));
  }
}

/** Scans at most `maxChars` of the HTML. */
export function scanHtml(html: string, maxChars = 200_000): HtmlScan {
  return runPass(scanSteps(html, maxChars));
}

/** scanHtml with a turn of the event loop whenever `slice` is spent: the same scan. */
export function scanHtmlSliced(html: string, maxChars: number, slice: TimeSlice): Promise<HtmlScan> {
  return runPassSliced(scanSteps(html, maxChars), slice);
}

/** The scan as a stepped pass: it yields every SLICE_STEPS steps of its loop. */
function* scanSteps(html: string, maxChars: number): SteppedPass<HtmlScan> {
  const src = html.length > maxChars ? html.slice(0, maxChars) : html;
  const lower = src.toLowerCase();
  const out: string[] = [];
  const links: HtmlLink[] = [];
  let images = 0;
  let open: { href: string; start: number } | null = null;
  let i = 0;
  // Where the next `<` is looked for: past a `<` that starts no tag, the text run goes on, so a
  // megabyte of `<` is one slice rather than a push per character.
  let from = 0;
  let tagsClosed = true;
  let steps = 0;
  while (i < src.length) {
    if (++steps % SLICE_STEPS === 0) yield;
    if (from < i) from = i;
    const lt = tagsClosed ? src.indexOf('<', from) : -1;
    if (lt < 0) {
      out.push(src.slice(i));
      break;
    }
    const next = src[lt + 1] ?? '';
    if (!isLetter(next) && next !== '/' && next !== '!') {
      from = lt + 1;
      continue;
    }
    out.push(src.slice(i, lt));
    if (lower.startsWith('<!--', lt)) {
      const end = lower.indexOf('-->', lt + 4);
      if (end < 0) break; // an unclosed comment hides the rest
      i = end + 3;
      continue;
    }
    const gt = src.indexOf('>', lt + 1);
    if (gt < 0) {
      // No `>` anywhere after: no later `<` can be a tag either.
      tagsClosed = false;
      i = lt;
      continue;
    }
    const body = src.slice(lt + 1, gt);
    const name = tagName(body);
    i = gt + 1;
    if (name === 'script' || name === 'style') {
      if (body[0] === '/') continue;
      const close = lower.indexOf(`</${name}`, i);
      if (close < 0) break;
      const closeEnd = src.indexOf('>', close);
      i = closeEnd < 0 ? src.length : closeEnd + 1;
      out.push(' ');
      continue;
    }
    if (name === 'img') images++;
    if (name === 'a' && body[0] !== '/') {
      const href = attribute(body, 'href');
      open = href === undefined ? null : { href, start: out.length };
    } else if (name === 'a' && open) {
      if (links.length < MAX_LINKS) {
        const text = decodeEntities(out.slice(open.start).join('').slice(0, MAX_LINK_TEXT * 4)).replace(/\s+/g, ' ').trim();
        links.push({ href: open.href, text: text.slice(0, MAX_LINK_TEXT) });
      }
      open = null;
    }
    if (BLOCK_TAGS.has(name)) out.push(' ');
  }
  return { text: decodeEntities(out.join('')), links, images };
}

/** The visible text of an HTML body (see scanHtml). */
export function htmlToPlainText(html: string, maxChars?: number): string {
  return scanHtml(html, maxChars).text;
}
