import { StoreError } from '../../errors.js';
import { mapLimit, type CassandraSession } from './cassandra-session.js';

/** Chunk writes or reads in flight per message: enough to fill the pipe, not the node's queue. */
const CHUNKS_IN_FLIGHT = 4;
/**
 * A one-chunk message up to this size is written with its head in one batch. A partly applied
 * batch (head without chunk) reads as a StoreError, and the retry writes both again.
 */
const SMALL_BLOB_BYTES = 24 * 1024;

/**
 * Raw messages, content-addressed by SHA-256 and stored in chunks: one `message_chunks` row
 * (its own partition) per chunk, then the `messages` row with size and chunk count. That row is
 * written last, so a reader never sees a blob with chunks missing. All writes are idempotent:
 * the same bytes always give the same rows.
 */
export class BlobStore {
  private readonly sql: Record<'head' | 'chunk' | 'putChunk' | 'putHead' | 'dropHead' | 'dropChunk', string>;
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly session: CassandraSession,
    private readonly chunkBytes: number,
  ) {
    const t = (name: string) => session.table(name);
    this.sql = {
      head: `SELECT size, chunk_count FROM ${t('messages')} WHERE sha256 = ?`,
      chunk: `SELECT data FROM ${t('message_chunks')} WHERE sha256 = ? AND chunk = ?`,
      putChunk: `INSERT INTO ${t('message_chunks')} (sha256, chunk, data) VALUES (?, ?, ?)`,
      putHead: `INSERT INTO ${t('messages')} (sha256, size, chunk_count, chunk_bytes, stored_at) VALUES (?, ?, ?, ?, ?)`,
      dropHead: `DELETE FROM ${t('messages')} WHERE sha256 = ?`,
      dropChunk: `DELETE FROM ${t('message_chunks')} WHERE sha256 = ? AND chunk = ?`,
    };
  }

  /**
   * Stores the bytes under their SHA-256. A message of one chunk is written without looking first
   * (the same bytes give the same rows, and a read costs as much as the write), in one batch when
   * small; a larger one is skipped when a complete copy is already there (the same message to many
   * mailboxes is written once). Puts of the same bytes running at once in this process (one
   * message to several mailboxes) share one write. Nothing is remembered after it: a mailbox
   * removal elsewhere may delete the blob the next moment.
   */
  put(sha256: string, raw: Buffer): Promise<void> {
    const running = this.writing.get(sha256);
    if (running) return running;
    const write = this.write(sha256, raw);
    this.writing.set(sha256, write);
    return write.finally(() => this.writing.delete(sha256));
  }

  private async write(sha256: string, raw: Buffer): Promise<void> {
    const chunks = chunk(raw, this.chunkBytes);
    const head = { query: this.sql.putHead, params: [sha256, raw.length, chunks.length, this.chunkBytes, new Date()] };
    const once = { idempotent: true };
    if (chunks.length === 1) {
      const only = { query: this.sql.putChunk, params: [sha256, 0, chunks[0]] };
      if (raw.length <= SMALL_BLOB_BYTES) return this.session.batchOrEach([only, head]);
      await this.session.execute(only.query, only.params, once);
      await this.session.execute(head.query, head.params, once);
      return;
    }
    const existing = await this.head(sha256);
    if (existing && existing.size === raw.length) return;
    await mapLimit(chunks, CHUNKS_IN_FLIGHT, (data, index) =>
      this.session.execute(this.sql.putChunk, [sha256, index, data], once),
    );
    await this.session.execute(head.query, head.params, once);
  }

  /** The bytes, byte-exact, or null when no complete blob has that SHA-256. */
  async get(sha256: string): Promise<Buffer | null> {
    const key = String(sha256).toLowerCase();
    const head = await this.head(key);
    if (!head) return null;
    const indexes = Array.from({ length: head.chunkCount }, (_, i) => i);
    const parts = await mapLimit(indexes, CHUNKS_IN_FLIGHT, async (index) => {
      const row = (await this.session.execute(this.sql.chunk, [key, index], { idempotent: true })).first();
      if (!row) throw new StoreError(`blob ${key}: chunk ${index} of ${head.chunkCount} is missing`);
      return row.get('data') as Buffer;
    });
    const raw = Buffer.concat(parts);
    if (raw.length !== head.size) {
      throw new StoreError(`blob ${key}: ${raw.length} bytes read, ${head.size} expected`);
    }
    return raw;
  }

  /** Deletes a blob: the head first, so it stops being visible before its chunks go. */
  async remove(sha256: string): Promise<void> {
    const head = await this.head(sha256);
    if (!head) return;
    await this.session.execute(this.sql.dropHead, [sha256], { idempotent: true });
    const indexes = Array.from({ length: head.chunkCount }, (_, i) => i);
    await mapLimit(indexes, CHUNKS_IN_FLIGHT, (index) =>
      this.session.execute(this.sql.dropChunk, [sha256, index], { idempotent: true }),
    );
  }

  private async head(sha256: string): Promise<{ size: number; chunkCount: number } | null> {
    const row = (await this.session.execute(this.sql.head, [sha256], { idempotent: true })).first();
    if (!row) return null;
    return { size: Number(row.get('size')), chunkCount: row.get('chunk_count') as number };
  }
}

/** Splits into views of at most `size` bytes; an empty message is one empty chunk. */
export function chunk(raw: Buffer, size: number): Buffer[] {
  if (raw.length === 0) return [raw];
  const parts: Buffer[] = [];
  for (let offset = 0; offset < raw.length; offset += size) parts.push(raw.subarray(offset, offset + size));
  return parts;
}
