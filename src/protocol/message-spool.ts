import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { recordSha256 } from '../mail/message-digest.js';
import type { ReceivedMessage } from '../transaction/received-message.js';

/** One message as DATA delivered it: in memory below the threshold, else in a spool file. */
export interface SpooledData {
  /** Bytes kept (at most maxBytes; smtp-server refuses a larger message itself). */
  size: number;
  /** SHA-256 of the kept bytes, computed as they streamed in. */
  sha256: string;
  /** The spool file could not be written (disk full, I/O error): the message was not kept. */
  failure?: Error;
  /** The message as the transaction takes it: one exact-size Buffer, read once from the spool. */
  load(): Promise<ReceivedMessage>;
  /** Removes the spool file, if any. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * The DATA spool under `<dataDir>/spool`. A message stays in memory up to `thresholdBytes`; past
 * it, what was kept and the rest go to a file of its own, written chunk by chunk with the
 * stream's back-pressure (the client waits while the disk does), and hashed as it streams.
 * Spool files are scratch copies: the store makes the durable copy, so they are not fsynced, and
 * whatever a crash leaves behind is removed by `prepare` at the next start.
 */
export class MessageSpool {
  constructor(
    readonly dir: string,
    private readonly thresholdBytes: number,
  ) {}

  /** Creates the spool directory and removes files an earlier run left behind. */
  async prepare(): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    const leftovers = await readdir(this.dir);
    await Promise.all(leftovers.map((name) => rm(join(this.dir, name), { force: true, recursive: true })));
    return leftovers.length;
  }

  /**
   * Reads DATA to its end. Bytes past `maxBytes` are drained, not kept; a write failure is
   * recorded in `failure` and the rest is drained too, so the client still gets its reply.
   * @param onBytes called with the size of every chunk kept (the in-flight budget counts them)
   */
  receive(stream: Readable, maxBytes: number, onBytes: (n: number) => void): Promise<SpooledData> {
    const hash = createHash('sha256');
    const writer = new SpoolWriter(join(this.dir, `${randomUUID()}.eml`), this.thresholdBytes);
    let size = 0;
    let over = false;
    // Read with 'data' events, not an async iterator: a message in memory then costs no promise
    // per chunk. A write to the spool file pauses the stream until it is done (back-pressure).
    let writing: Promise<void> | undefined;
    const onData = (chunk: Buffer): void => {
      over ||= size + chunk.length > maxBytes;
      if (over) return;
      size += chunk.length;
      onBytes(chunk.length);
      hash.update(chunk);
      const pending = writer.write(chunk);
      if (!pending) return;
      stream.pause();
      writing = pending.then(() => {
        writing = undefined;
        stream.resume();
      });
    };
    return new Promise<SpooledData>((resolve, reject) => {
      stream.on('data', onData);
      finished(stream, (err) => {
        stream.off('data', onData);
        // A file write still under way ends first, whether the stream ended or failed.
        const written = Promise.resolve(writing);
        const done = err
          ? written.then(() => writer.dispose()).then(() => reject(err))
          : written.then(() => writer.finish()).then(() => resolve(writer.result(size, hash.digest('hex'))));
        done.catch(reject);
      });
    });
  }
}

/** Keeps chunks in memory until the threshold, then moves them and every later chunk to a file. */
class SpoolWriter {
  private chunks: Buffer[] = [];
  private kept = 0;
  private file: FileHandle | null = null;
  private spooled = false;
  /** The file exists (was opened): only then is there something to remove. */
  private created = false;
  private failure: Error | undefined;

  constructor(
    private readonly path: string,
    private readonly thresholdBytes: number,
  ) {}

  /** Keeps the chunk; a promise only when it goes to the file (the caller waits for it). */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) return undefined;
    this.kept += chunk.length;
    if (!this.spooled && this.kept <= this.thresholdBytes) {
      this.chunks.push(chunk);
      return undefined;
    }
    return this.writeToFile(chunk);
  }

  private async writeToFile(chunk: Buffer): Promise<void> {
    try {
      if (!this.spooled) {
        this.spooled = true;
        this.file = await open(this.path, 'wx', 0o600);
        this.created = true;
        await this.file.writev(this.chunks);
        this.chunks = [];
      }
      await this.file!.write(chunk);
    } catch (err) {
      this.failure = err as Error;
      await this.dispose();
    }
  }

  async finish(): Promise<void> {
    try {
      await this.file?.close();
      this.file = null;
    } catch (err) {
      this.failure ??= err as Error;
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    const file = this.file;
    this.file = null;
    // A close failure matters no more once the file is being removed.
    await file?.close().catch(() => undefined);
    if (this.created) await rm(this.path, { force: true });
    this.created = false;
  }

  result(size: number, sha256: string): SpooledData {
    const { path, failure } = this;
    const spooled = this.created;
    let chunks = this.chunks;
    this.chunks = [];
    return {
      size,
      sha256,
      failure,
      load: async () => {
        // readFile sizes its Buffer from fstat: one allocation of exactly the message's length.
        // A message that came in one chunk is that chunk (the socket's read, never written to).
        const raw = spooled ? await readFile(path) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
        chunks = [];
        recordSha256(raw, sha256);
        return { raw, sha256, file: spooled ? path : undefined };
      },
      dispose: () => (spooled ? rm(path, { force: true }) : Promise.resolve()),
    };
  }
}
