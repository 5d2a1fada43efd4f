/**
 * HTML → plain text, in one forward pass: the `text` of an HTML-only message (parse plugin) and
 * the words an HTML-only body is indexed by (search).
 *
 * html-to-text (what mailparser uses) is not linear on hostile markup: 64 KiB of `<p>x` took
 * 1.2 s and 256 KiB of `<b>x` 5.3 s on the event loop, with every other connection waiting. This
 * pass looks at each character a bounded number of times: `indexOf` finds the next `<` and `>`,
 * a tag without `>` ends the scan (the rest is text), and a script/style/head element whose end
 * tag is missing is remembered so it is never searched for twice. Block elements become line
 * breaks so words of different paragraphs do not run together.
 */

const HIDDEN_ELEMENTS = ['script', 'style', 'head', 'title'] as const;

const BLOCK_ELEMENTS = new Set([
  'br', 'p', 'div', 'li', 'ul', 'ol', 'tr', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'blockquote', 'pre', 'hr', 'section', 'article', 'header', 'footer', 'td', 'th',
]);

const NAMED_ENTITIES: Record<string, string> = {
  nbsp: ' ', lt: '<', gt: '>', quot: '"', apos: "'", amp: '&', copy: '©', reg: '®', euro: '€',
  hellip: '…', mdash: '—', ndash: '–', laquo: '«', raquo: '»', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“',
};

/** The lower-case element name right after `<` or `</` at `at` (letters and digits only). */
function tagName(lower: string, at: number, end: number): string {
  let i = lower.charCodeAt(at) === 0x2f ? at + 1 : at;
  const start = i;
  while (i < end && /[a-z0-9]/.test(lower.charAt(i))) i++;
  return lower.slice(start, i);
}

/** Decodes named and numeric character references; an unknown one stays as written. */
function decodeEntities(text: string): string {
  // Bounded quantifiers, no nesting: each position is tried once.
  return text.replace(/&(#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});/gi, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Spaces collapsed inside each line, blank lines collapsed to one, ends trimmed. */
function tidyLines(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // Only runs and non-space blanks are replaced: a replacement per single space is slow on
    // a megabyte of `<a `.
    const tidy = line.replace(/[ \t\r\f\v\u00a0]{2,}|[\t\r\f\v\u00a0]/g, ' ').trim();
    if (tidy !== '' || (out.length > 0 && out[out.length - 1] !== '')) out.push(tidy);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

/**
 * Loop steps between two chances to give the event loop a turn: pipeline/time-slice.ts's
 * SLICE_STEPS, repeated because the mail room imports no other room.
 */
const STEPS_PER_YIELD = 4096;

/** Plain text of an HTML document: tags and hidden elements dropped, entities decoded. */
export function htmlToPlainText(html: string): string {
  const pass = htmlToPlainTextSteps(html);
  for (;;) {
    const step = pass.next();
    if (step.done) return step.value;
  }
}

/**
 * htmlToPlainText as a pass that yields every few thousand steps of its loop, so a caller on the
 * message path can give the event loop a turn between them (pipeline/time-slice.ts runs it);
 * it returns the same text.
 */
export function* htmlToPlainTextSteps(html: string): Generator<void, string, void> {
  const lower = html.toLowerCase();
  const endTagMissing = new Set<string>();
  const out: string[] = [];
  let i = 0;
  let steps = 0;
  while (i < html.length) {
    if (++steps % STEPS_PER_YIELD === 0) yield;
    const lt = html.indexOf('<', i);
    const gt = lt < 0 ? -1 : html.indexOf('>', lt + 1);
    if (lt < 0 || gt < 0) {
      // No further tag that ends: the rest is text.
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt));
    const name = tagName(lower, lt + 1, gt);
    out.push(BLOCK_ELEMENTS.has(name) ? '\n' : ' ');
    i = gt + 1;
    const hidden = lower.charCodeAt(lt + 1) !== 0x2f && HIDDEN_ELEMENTS.find((h) => h === name);
    if (hidden && !endTagMissing.has(hidden)) {
      const close = lower.indexOf(`</${hidden}`, i);
      const closeEnd = close < 0 ? -1 : lower.indexOf('>', close);
      if (closeEnd < 0) endTagMissing.add(hidden);
      else i = closeEnd + 1;
    }
  }
  return tidyLines(decodeEntities(out.join('')));
}
