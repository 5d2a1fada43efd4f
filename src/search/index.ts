export type { SearchDocument, SearchHit, SearchIndex, SearchQuery } from './search-index.js';
export { parseSearchQuery } from './query-parser.js';
export { openSearchIndex } from './open-index.js';
export { Indexer } from './indexer.js';
export { buildSearchDocument } from './document-builder.js';
