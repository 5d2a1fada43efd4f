import { HermodError } from '../../errors.js';

/**
 * An error the admin API answers with its own status: `{"error": {code, message, field?}}`.
 * `field` names the query parameter, path segment or body key at fault.
 */
export class ApiError extends HermodError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }
}

/** 400 for a bad value, naming the field. */
export function badInput(field: string, message: string): ApiError {
  return new ApiError(400, 'HERMOD_INPUT', `${field}: ${message}`, field);
}

/** Status codes of Hermod's own errors: input 400, not found 404, backends 503, anything else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  const code = err instanceof HermodError ? err.code : '';
  if (code === 'HERMOD_INPUT') return 400;
  if (code === 'HERMOD_NOT_FOUND') return 404;
  if (code === 'HERMOD_STORE' || code === 'HERMOD_QUEUE' || code === 'HERMOD_SEARCH') return 503;
  return 500;
}
