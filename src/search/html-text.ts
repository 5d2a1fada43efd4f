/**
 * HTML → plain text for indexing words, in one forward pass.
 *
 * Mail bodies are hostile input, so this never uses a pattern like `<[^>]*>` with the global flag:
 * on a body of many `<` without `>`, every `<` rescans to the end and the work grows with the
 * square of the size (minutes for a megabyte, with every other connection waiting). Here each
 * character is looked at a bounded number of times: an unclosed tag ends the scan, and a
 * script/style/head element whose end tag is missing is remembered, so it is never searched twice.
 */

/** Elements whose content is not text a reader sees. */
const HIDDEN_ELEMENTS = ['script', 'style', 'head'] as const;

const ENTITIES: Record<string, string> = {
  '&nbsp;': ' ',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&apos;': "'",
  '&amp;': '&',
};

/** The hidden element that starts right after `<` at `at`, if any (`<script`, `<STYLE `, …). */
function hiddenElementAt(lower: string, at: number): string | null {
  for (const name of HIDDEN_ELEMENTS) {
    if (lower.startsWith(name, at) && !/[a-z0-9]/.test(lower.charAt(at + name.length))) return name;
  }
  return null;
}

/** A crude HTML → text: tags and hidden elements dropped, common entities decoded, spaces collapsed. */
export function stripHtml(html: string): string {
  const lower = html.toLowerCase();
  const endTagMissing = new Set<string>();
  const out: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt));
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) {
      // No '>' anywhere after this point: the rest is text, not a tag.
      out.push(html.slice(lt));
      break;
    }
    out.push(' ');
    i = gt + 1;
    const hidden = hiddenElementAt(lower, lt + 1);
    if (hidden && !endTagMissing.has(hidden)) {
      const close = lower.indexOf(`</${hidden}`, i);
      const closeEnd = close < 0 ? -1 : lower.indexOf('>', close);
      if (closeEnd < 0) endTagMissing.add(hidden);
      else i = closeEnd + 1;
    }
  }
  return out
    .join('')
    .replace(/&(?:nbsp|lt|gt|quot|#39|apos|amp);/gi, (entity) => ENTITIES[entity.toLowerCase()] ?? entity)
    // Runs of two or more, and single white space other than ' ': the same result as /\s+/ → ' ',
    // without a replacement for every single space (350,000 of them in 1 MiB of `<a `).
    .replace(/\s{2,}|[^\S ]/g, ' ')
    .trim();
}
