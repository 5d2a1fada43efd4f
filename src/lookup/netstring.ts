import { LookupProtocolError } from './lookup-error.js';

/** Encodes one netstring: `<byte length>:<bytes>,` (https://cr.yp.to/proto/netstrings.txt). */
export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]);
}

/**
 * Incremental netstring decoder: feed it socket chunks, it returns every complete payload.
 * Postfix keeps one socketmap connection open for many lookups and may write several requests
 * back to back, so a request can arrive split across chunks or several in one chunk.
 */
export class NetstringDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  /** @param maxLength largest payload accepted; a longer one is a protocol error, not a buffer to grow */
  constructor(private readonly maxLength: number) {}

  /**
   * Adds a chunk and returns the payloads it completed.
   * @throws LookupProtocolError on a malformed or oversized netstring
   */
  push(chunk: Buffer): string[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const out: string[] = [];
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) {
        // Only digits may come before the colon; more digits than the limit needs is garbage.
        this.checkLengthPrefix(this.buffer, false);
        return out;
      }
      const length = this.checkLengthPrefix(this.buffer.subarray(0, colon), true);
      const end = colon + 1 + length;
      if (this.buffer.length < end + 1) return out;
      if (this.buffer[end] !== 0x2c) throw new LookupProtocolError('netstring not terminated by ","');
      out.push(this.buffer.subarray(colon + 1, end).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 1);
    }
  }

  /** Validates the digits before the colon; `complete` when the colon has been seen. */
  private checkLengthPrefix(prefix: Buffer, complete: boolean): number {
    const text = prefix.toString('latin1');
    if (!/^\d*$/.test(text)) throw new LookupProtocolError('netstring length is not a number');
    if (text.length > String(this.maxLength).length) throw new LookupProtocolError('netstring too long');
    if (text.length === 0) {
      if (complete) throw new LookupProtocolError('netstring without a length');
      return 0;
    }
    if (text.length > 1 && text.startsWith('0')) throw new LookupProtocolError('netstring length has leading zeros');
    const length = Number(text);
    if (length > this.maxLength) throw new LookupProtocolError(`netstring longer than ${this.maxLength} bytes`);
    return length;
  }
}
