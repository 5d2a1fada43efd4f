import { StoreError } from '../../errors.js';
import { inGroups, mapLimit, type BatchStatement, type CassandraSession } from './cassandra-session.js';

/** Chunk writes or reads in flight per message: enough to fill the pipe, not the node's queue. */
const CHUNKS_IN_FLIGHT = 4;
/**
 * A message of one chunk up to this size goes into the batch of the delivery's first rows (whose
 * values must stay under MAX_BATCH_BYTES with it); a larger one is its own statement beside it.
 */
const BATCHED_BLOB_BYTES = 16 * 1024;

/**
 * Raw messages, content-addressed by SHA-256.
 *
 * A message of one chunk (`chunkBytes`, 256 KiB by default: nearly all mail) is one row of
 * `messages_whole`: one write and one read, complete or absent. A larger one is stored in chunks:
 * one `message_chunks` row (its own partition) per chunk, then the `messages` row with size and
 * chunk count, written last so a reader never sees a blob with chunks missing. (Messages of one
 * chunk stored before `messages_whole` existed are chunks and head too; reads find them there.)
 * All writes are idempotent: the same bytes always give the same rows.
 */
export class BlobStore {
  private readonly sql: Record<'head' | 'chunk' | 'putChunk' | 'putHead' | 'dropHead' | 'dropChunk' | 'whole' | 'wholes' | 'putWhole' | 'dropWhole', string>;
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
      whole: `SELECT data FROM ${t('messages_whole')} WHERE sha256 = ?`,
      wholes: `SELECT sha256, data FROM ${t('messages_whole')} WHERE sha256 IN ?`,
      putWhole: `INSERT INTO ${t('messages_whole')} (sha256, data, stored_at) VALUES (?, ?, ?)`,
      dropWhole: `DELETE FROM ${t('messages_whole')} WHERE sha256 = ?`,
    };
  }

  /**
   * Stores the bytes along with the caller's own first write: `send` gets the rows to add to its
   * batch (the whole message when small, else none) and the blob's own writes run beside it. A
   * put of the same bytes running in this process is joined instead (one message to several
   * mailboxes is written once); its failure fails this one too, so no delivery counts on bytes
   * that were never written.
   */
  putAlong(sha256: string, raw: Buffer, send: (rows: BatchStatement[]) => Promise<void>): Promise<void> {
    const running = this.writing.get(sha256);
    if (running || raw.length > BATCHED_BLOB_BYTES) return both(running ?? this.put(sha256, raw), send([]));
    return this.track(sha256, send([this.wholeRow(sha256, raw)]));
  }

  /**
   * Stores the bytes under their SHA-256. A message of one chunk is written whole without looking
   * first (the same bytes give the same row, and a read costs as much as the write); a larger one
   * is skipped when a complete copy is already there (the same message to many mailboxes is
   * written once). Puts of the same bytes running at once in this process (one
   * message to several mailboxes) share one write. Nothing is remembered after it: a mailbox
   * removal elsewhere may delete the blob the next moment.
   */
  put(sha256: string, raw: Buffer): Promise<void> {
    const running = this.writing.get(sha256);
    if (running) return running;
    return this.track(sha256, this.write(sha256, raw));
  }

  /** Lets later puts of the same bytes join `write` while it runs. */
  private track(sha256: string, write: Promise<void>): Promise<void> {
    const tracked = write.finally(() => {
      if (this.writing.get(sha256) === tracked) this.writing.delete(sha256);
    });
    this.writing.set(sha256, tracked);
    return tracked;
  }

  private wholeRow(sha256: string, raw: Buffer): BatchStatement {
    return { query: this.sql.putWhole, params: [sha256, raw, new Date()] };
  }

  private async write(sha256: string, raw: Buffer): Promise<void> {
    const once = { idempotent: true };
    if (raw.length <= this.chunkBytes) {
      const row = this.wholeRow(sha256, raw);
      await this.session.execute(row.query, row.params, once);
      return;
    }
    const chunks = chunk(raw, this.chunkBytes);
    const head = { query: this.sql.putHead, params: [sha256, raw.length, chunks.length, this.chunkBytes, new Date()] };
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
    const whole = (await this.session.execute(this.sql.whole, [key], { idempotent: true })).first();
    if (whole) return (whole.get('data') as Buffer | null) ?? Buffer.alloc(0);
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

  /**
   * Several blobs: those of one chunk in a few requests (up to KEYS_PER_READ each), the others
   * one by one as `get` reads them. SHA-256s with no complete blob are absent.
   */
  async getMany(sha256s: readonly string[]): Promise<Map<string, Buffer>> {
    const keys = [...new Set(sha256s.map((sha) => String(sha).toLowerCase()))];
    const found = new Map<string, Buffer>();
    await mapLimit(inGroups(keys), 4, async (group) => {
      const result = await this.session.execute(this.sql.wholes, [group], { idempotent: true, fetchSize: group.length });
      for (const row of result.rows) found.set(row.get('sha256') as string, (row.get('data') as Buffer | null) ?? Buffer.alloc(0));
    });
    await mapLimit(keys.filter((key) => !found.has(key)), CHUNKS_IN_FLIGHT, async (key) => {
      const raw = await this.get(key);
      if (raw) found.set(key, raw);
    });
    return found;
  }

  /** Deletes a blob: the whole row, or the head first, so it stops being visible before its chunks go. */
  async remove(sha256: string): Promise<void> {
    await this.session.execute(this.sql.dropWhole, [sha256], { idempotent: true });
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

/** Waits for both; fails with the first failure, once both have settled. */
async function both(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}
