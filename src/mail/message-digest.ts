import { createHash } from 'node:crypto';

/**
 * SHA-256 of raw messages, computed once per Buffer. The intake hashes a message while it streams
 * in and records the digest here; the transaction, the duplicate check and the stores' own check
 * that a delivery's key is the hash of its bytes then look it up instead of hashing 50 MiB again
 * per recipient. Keyed weakly by the Buffer itself, so nothing outlives the message.
 */
const known = new WeakMap<Buffer, string>();

/** The lower-case hex SHA-256 of `raw`, from the record when the intake already computed it. */
export function sha256Of(raw: Buffer): string {
  let hex = known.get(raw);
  if (hex === undefined) {
    hex = createHash('sha256').update(raw).digest('hex');
    known.set(raw, hex);
  }
  return hex;
}

/** Records the digest the intake computed while `raw` streamed in (the same bytes, hashed in order). */
export function recordSha256(raw: Buffer, hex: string): void {
  known.set(raw, hex);
}
