import type { estypes } from '@elastic/elasticsearch';
import type { SearchQuery } from '../search-index.js';
import { containsPattern, foldText, keyword } from './es-text.js';

type Query = estypes.QueryDslQueryContainer;

/** Fields free text is searched in (from:/to: are keyword filters, not text). */
export const TEXT_FIELDS = ['subject', 'body', 'attachments'];

/** Live documents of one mailbox: every search and scan starts from this. */
export function mailboxFilter(mailboxId: string): Query[] {
  return [{ term: { mailboxId } }, { term: { deleted: false } }];
}

/**
 * The Elasticsearch query for one mailbox and a parsed search, mirroring the FTS5 adapter term for
 * term. Everything is a filter (no scoring: results are ordered by date), and every user value
 * reaches Elasticsearch as a value, never as query syntax: phrases go through `match_phrase`
 * (analyzed text, no operators), keywords through `term`, substrings through escaped wildcards.
 */
export function buildSearchQuery(mailboxId: string, query: SearchQuery): Query {
  const filter: Query[] = mailboxFilter(mailboxId);
  // A free word or "phrase": the words appear consecutively in one of the text fields.
  for (const term of query.text) {
    filter.push({ multi_match: { query: foldText(term), type: 'phrase', fields: TEXT_FIELDS } });
  }
  for (const term of query.subject) filter.push({ match_phrase: { subject: foldText(term) } });
  for (const from of query.from) filter.push({ wildcard: { from: { value: containsPattern(from) } } });
  for (const to of query.to) {
    const value = containsPattern(to);
    filter.push({ bool: { should: [{ wildcard: { to: { value } } }, { wildcard: { cc: { value } } }], minimum_should_match: 1 } });
  }
  for (const tag of query.tags) filter.push({ term: { tags: keyword(tag) } });
  if (query.folder !== undefined) filter.push({ term: { folder: keyword(query.folder) } });
  if (query.hasAttachment !== undefined) filter.push({ term: { hasAttachment: query.hasAttachment } });
  const range = dateRange(query);
  if (range) filter.push({ range: { date: range } });
  return { bool: { filter } };
}

/** after: is inclusive, before: exclusive, both at 00:00 UTC (see query-parser.ts). */
function dateRange(query: SearchQuery): estypes.QueryDslDateRangeQuery | null {
  if (query.after === undefined && query.before === undefined) return null;
  const range: estypes.QueryDslDateRangeQuery = { format: 'epoch_millis' };
  if (query.after !== undefined) range.gte = String(query.after.getTime());
  if (query.before !== undefined) range.lt = String(query.before.getTime());
  return range;
}

/** Newest first, then entry id descending: the order every SearchIndex returns. */
export const RESULT_SORT: estypes.Sort = [{ date: { order: 'desc' } }, { entryId: { order: 'desc' } }];
