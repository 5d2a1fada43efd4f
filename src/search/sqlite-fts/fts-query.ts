import type { SearchQuery } from '../search-index.js';
import { SEP, TEXT_COLUMNS } from './schema.js';

/** A WHERE clause on `docs d` with its positional parameters. */
export interface SqlFilter {
  where: string;
  params: (string | number)[];
}

/**
 * Quotes user text as one FTS5 string: inside double quotes every character is literal (the
 * tokenizer splits it into a phrase), and a double quote is escaped by doubling it. This is the
 * only way user text reaches MATCH, so `OR`, `NEAR(`, `*`, `^` or `col:` cannot become syntax.
 */
export function ftsString(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/** The FTS5 MATCH expression for the query's text and subject terms, or null when it has none. */
export function ftsExpression(query: SearchQuery): string | null {
  const parts = [
    ...query.text.map((term) => `${TEXT_COLUMNS} : ${ftsString(term)}`),
    ...query.subject.map((term) => `subject : ${ftsString(term)}`),
  ];
  return parts.length === 0 ? null : parts.join(' AND ');
}

/** Builds the ANDed filter over `docs d` for one mailbox and the query's conditions. */
export function buildFilter(mailboxId: string, query: SearchQuery): SqlFilter {
  const where: string[] = ['d.mailbox_id = ?'];
  const params: (string | number)[] = [mailboxId];
  const match = ftsExpression(query);
  if (match !== null) {
    where.push('d.id IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)');
    params.push(match);
  }
  // instr() on pre-folded text: a substring test with no LIKE wildcards to escape.
  for (const from of query.from) {
    where.push('instr(d.from_addr, ?) > 0');
    params.push(from.toLowerCase());
  }
  for (const to of query.to) {
    where.push('instr(d.to_addrs, ?) > 0');
    params.push(to.toLowerCase());
  }
  for (const tag of query.tags) {
    where.push('instr(d.tags, ?) > 0');
    params.push(`${SEP}${tag.toLowerCase()}${SEP}`);
  }
  if (query.folder !== undefined) {
    where.push('d.folder = ?');
    params.push(query.folder.toLowerCase());
  }
  if (query.hasAttachment !== undefined) {
    where.push('d.has_attachment = ?');
    params.push(query.hasAttachment ? 1 : 0);
  }
  if (query.after !== undefined) {
    where.push('d.date >= ?');
    params.push(query.after.getTime());
  }
  if (query.before !== undefined) {
    where.push('d.date < ?');
    params.push(query.before.getTime());
  }
  return { where: where.join(' AND '), params };
}

/** `[a, b]` → `"\na\nb\n"`: see SEP. */
export function joinList(values: string[]): string {
  return values.length === 0 ? SEP : `${SEP}${values.map((v) => v.toLowerCase()).join(SEP)}${SEP}`;
}
