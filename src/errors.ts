/**
 * Coded errors. Every error Hermod raises on purpose is a HermodError with a stable `code`,
 * so callers (the CLI, the listeners, tests) can branch on the code rather than on message text.
 */
export class HermodError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Invalid or unreadable configuration; the message names the key path and the file. */
export class ConfigError extends HermodError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HERMOD_CONFIG', message, options);
  }
}

/** A plugin could not be registered (unknown stage, missing dependency, invalid config). */
export class PluginError extends HermodError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HERMOD_PLUGIN', message, options);
  }
}

/** The store could not complete a write or read; always a transient failure for the sender. */
export class StoreError extends HermodError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HERMOD_STORE', message, options);
  }
}

/** Bad user input to the CLI or an admin API: names the field at fault. */
export class InputError extends HermodError {
  constructor(message: string) {
    super('HERMOD_INPUT', message);
  }
}

/** Something looked up by the operator does not exist (mailbox, domain, message). */
export class NotFoundError extends HermodError {
  constructor(message: string) {
    super('HERMOD_NOT_FOUND', message);
  }
}

/**
 * The outbound queue failed (HERMOD_QUEUE), or a worker settled a job whose lease it no longer
 * holds (HERMOD_QUEUE_LEASE).
 */
export class QueueError extends HermodError {
  constructor(message: string, options?: { cause?: unknown; code?: 'HERMOD_QUEUE' | 'HERMOD_QUEUE_LEASE' }) {
    super(options?.code ?? 'HERMOD_QUEUE', message, options);
  }
}

/** An outbound delivery attempt failed; `responseCode` is the SMTP code (0 for a connection fault). */
export class DeliveryError extends HermodError {
  readonly responseCode: number;
  constructor(message: string, responseCode: number, options?: { cause?: unknown }) {
    super('HERMOD_DELIVERY', message, options);
    this.responseCode = responseCode;
  }
}
