import { HermodError } from '../errors.js';

/**
 * The search index could not complete a read or write (engine down, disk full, closed).
 * Always transient from the indexer's point of view: the outbox item is retried later.
 */
export class SearchIndexError extends HermodError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HERMOD_SEARCH', message, options);
  }
}
