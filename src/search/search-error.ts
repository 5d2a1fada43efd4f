import { HermodError } from '../errors.js';

/**
 * The search index could not complete a read or write (engine down, disk full, closed).
 * Always transient from the indexer's point of view: the outbox item is retried later.
 */
export class SearchIndexError extends HermodError {
  /**
   * True when the engine could not be reached or answer at all (connection refused, timeout,
   * overloaded): nothing is wrong with the documents, so the indexer waits for the engine rather
   * than backing off each outbox item (see Indexer).
   */
  readonly unavailable: boolean;

  constructor(message: string, options?: { cause?: unknown; unavailable?: boolean }) {
    super('HERMOD_SEARCH', message, options);
    this.unavailable = options?.unavailable ?? false;
  }
}
