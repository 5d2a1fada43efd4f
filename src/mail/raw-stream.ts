import { Readable } from 'node:stream';

/**
 * A stream of a message held in memory, in 64 KiB views of its Buffer (no copy), for
 * `Transaction.rawStream`: a stream parser then never holds a second copy of a large message,
 * and never gets it as one huge chunk either.
 */
export function rawStreamOf(raw: Buffer, sliceBytes = 64 * 1024): Readable {
  return Readable.from(
    (function* slices() {
      for (let at = 0; at < raw.length; at += sliceBytes) yield raw.subarray(at, at + sliceBytes);
    })(),
    { objectMode: false },
  );
}
