import { HermodError } from '../errors.js';

/** A socketmap client broke the protocol (malformed or oversized netstring); the connection is closed. */
export class LookupProtocolError extends HermodError {
  constructor(message: string) {
    super('HERMOD_LOOKUP_PROTOCOL', message);
  }
}
