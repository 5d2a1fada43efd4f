export type { IndexedEntry, SearchDocument, SearchHit, SearchIndex, SearchQuery } from './search-index.js';
export { parseSearchQuery } from './query-parser.js';
export { openSearchIndex } from './open-index.js';
export { Indexer, type IndexerOptions } from './indexer.js';
export { SearchIndexError } from './search-error.js';
export { buildSearchDocument } from './document-builder.js';
