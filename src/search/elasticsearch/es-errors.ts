import { errors } from '@elastic/elasticsearch';
import { SearchIndexError } from '../search-error.js';

/** The HTTP status of a response error, or undefined for connection-level failures. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof errors.ResponseError ? err.meta.statusCode ?? undefined : undefined;
}

/**
 * True when the cluster could not be reached or could not answer now (connection refused,
 * timeout, 429, 5xx, no living node): worth retrying later. A 4xx answer is a real refusal
 * (bad mapping, bad credentials) and is not.
 */
export function isUnavailable(err: unknown): boolean {
  if (
    err instanceof errors.ConnectionError ||
    err instanceof errors.TimeoutError ||
    err instanceof errors.NoLivingConnectionsError
  ) {
    return true;
  }
  const status = statusOf(err);
  return status !== undefined && (status === 429 || status >= 500);
}

/** One line describing a client error: the status and Elasticsearch's reason when it gave one. */
export function describeError(err: unknown): string {
  if (err instanceof errors.ResponseError) {
    const body = err.meta.body as { error?: { type?: string; reason?: string } | string } | undefined;
    const error = body?.error;
    const reason = typeof error === 'string' ? error : [error?.type, error?.reason].filter(Boolean).join(': ');
    return `HTTP ${err.meta.statusCode ?? '?'}${reason ? ` ${reason}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Wraps a client failure in a SearchIndexError naming the operation. The client's error is not
 * kept as the cause: its `meta` holds the request, Authorization header included, and a logger
 * serializing causes would print it. The cause is a plain error with the client error's name and
 * message (host and port, status and reason; never credentials).
 */
export function searchError(operation: string, err: unknown): SearchIndexError {
  if (err instanceof SearchIndexError) return err;
  const cause = new Error(describeError(err));
  cause.name = err instanceof Error ? err.name : 'Error';
  return new SearchIndexError(`search index (elasticsearch): ${operation} failed: ${describeError(err)}`, {
    cause,
    unavailable: isUnavailable(err),
  });
}
