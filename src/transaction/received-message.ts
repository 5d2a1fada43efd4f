/**
 * A message as the intake hands it to the transaction: the bytes (one exact-size Buffer), their
 * SHA-256 computed while they streamed in, and the spool file holding the same bytes when the
 * message was large enough to be spooled (stores copy from it instead of writing the Buffer).
 */
export interface ReceivedMessage {
  raw: Buffer;
  sha256: string;
  /** A file holding exactly `raw`, alive until the transaction has been answered. */
  file?: string;
}
