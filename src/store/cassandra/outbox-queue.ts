import { createHash } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { OUTBOX_BACKOFF_BASE_MS, OUTBOX_BACKOFF_MAX_MS } from '../sqlite/outbox-queue.js';
import type { OutboxItem } from '../types.js';
import type { BatchStatement, CassandraSession } from './cassandra-session.js';
import { toNumber } from './row-mappers.js';
import { OUTBOX_SHARDS } from './schema.js';

type TimeUuid = cassandra.types.TimeUuid;
const { TimeUuid } = cassandra.types;

/** Where an outbox item lives: its partition (minute bucket, shard) and its timeuuid. */
export interface OutboxKey {
  bucket: number;
  shard: number;
  id: TimeUuid;
}

/** A change for the indexer. */
export interface OutboxChange {
  entryId: string;
  mailboxId: string;
  op: OutboxItem['op'];
  /** Microseconds since the epoch (see nextOutboxVersion): the document version. */
  version: number;
}

/** A drained bucket is forgotten once it is this much older than its minute. */
export const OUTBOX_SEAL_AFTER_MS = 10 * 60_000;
const MINUTE_US = 60_000_000;
const RING = 0;
/** Deletes per ack batch: small enough for Cassandra's batch size warning (5 KiB). */
const ACKS_PER_BATCH = 50;
const STATE = 'indexer';

let lastVersion = 0;

/**
 * A document version greater than every one handed out before in this process: microseconds
 * since the epoch (comparable with the SQLite adapter's), +1 when two calls share a tick.
 */
export function nextOutboxVersion(now = Date.now()): number {
  lastVersion = Math.max(now * 1000, lastVersion + 1);
  return lastVersion;
}

/**
 * The key of a change filed at `filedAt` (ms). The bucket is the minute of filing, never of the
 * version: a delivery completed by a retry long after its claim (its version) is filed where the
 * indexer still reads, as the claim's minute may be sealed by then. The row id comes from (entry,
 * op, version) alone, so attempts writing the same change in the same minute write one row, and
 * time order of the timeuuid is version order within a bucket.
 */
export function outboxKey(change: OutboxChange, filedAt: number): OutboxKey {
  const digest = createHash('sha256').update(`${change.entryId}\n${change.op}\n${change.version}`).digest();
  const date = new Date(Math.floor(change.version / 1000));
  const ticks = (change.version % 1000) * 10;
  return {
    bucket: bucketOf(filedAt),
    shard: digest.readUInt32BE(0) % OUTBOX_SHARDS,
    id: TimeUuid.fromDate(date, ticks, digest.subarray(4, 10), digest.subarray(10, 12)),
  };
}

/** The minute bucket of a time in ms. */
function bucketOf(ms: number): number {
  return Math.floor((Math.floor(ms) * 1000) / MINUTE_US);
}

/**
 * The indexer's outbox in Cassandra (see schema.ts). Items are handed out with a `seq` that is
 * a handle valid for this store instance (the row's real key is a timeuuid in a partition);
 * acking or failing an unknown handle does nothing.
 */
export class OutboxQueue {
  private readonly sql: Record<string, string>;
  /** Handles handed out: seq → the row's key and the attempts it had when read. */
  private readonly keys = new Map<number, { key: OutboxKey; attempts: number }>();
  private readonly seqs = new Map<string, number>();
  private nextSeq = 1;
  /** Buckets whose marker this process wrote (the current and previous minute). */
  private readonly marked = new Set<number>();

  constructor(
    private readonly session: CassandraSession,
    private readonly sealAfterMs = OUTBOX_SEAL_AFTER_MS,
  ) {
    const t = (name: string) => session.table(name);
    this.sql = {
      insert: `INSERT INTO ${t('outbox')} (bucket, shard, id, entry_id, mailbox_id, op, version, attempts, next_attempt_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
      markBucket: `INSERT INTO ${t('outbox_buckets')} (ring, bucket) VALUES (${RING}, ?)`,
      buckets: `SELECT bucket FROM ${t('outbox_buckets')} WHERE ring = ${RING} AND bucket >= ?`,
      partition: `SELECT id, entry_id, mailbox_id, op, version, attempts, next_attempt_at FROM ${t('outbox')}
        WHERE bucket = ? AND shard = ?`,
      count: `SELECT COUNT(*) AS n FROM ${t('outbox')} WHERE bucket = ? AND shard = ?`,
      remove: `DELETE FROM ${t('outbox')} WHERE bucket = ? AND shard = ? AND id = ?`,
      backOff: `UPDATE ${t('outbox')} SET attempts = ?, next_attempt_at = ? WHERE bucket = ? AND shard = ? AND id = ?`,
      seal: `DELETE FROM ${t('outbox_buckets')} WHERE ring = ${RING} AND bucket = ?`,
      low: `SELECT low_bucket FROM ${t('outbox_state')} WHERE name = '${STATE}'`,
      setLow: `INSERT INTO ${t('outbox_state')} (name, low_bucket) VALUES ('${STATE}', ?)`,
    };
  }

  /**
   * The two writes that record a change, in this order: the bucket marker, then the item (a
   * reader that sees the item must also find its bucket). The caller runs them after, or batched
   * with, the change. `filedAt` is now, or the clock of the attempt writing them.
   */
  statements(change: OutboxChange, filedAt = Date.now()): [BatchStatement, BatchStatement] {
    const key = outboxKey(change, filedAt);
    const { entryId, mailboxId, op, version } = change;
    const at = new Date(Math.floor(filedAt));
    return [
      { query: this.sql.markBucket, params: [key.bucket] },
      { query: this.sql.insert, params: [key.bucket, key.shard, key.id, entryId, mailboxId, op, version, at] },
    ];
  }

  /**
   * The bucket marker for a change filed at `filedAt`, or null when this process already wrote
   * that marker: every delivery of a minute would otherwise write the same row of the one
   * `outbox_buckets` partition, a hot spot shared by all nodes. Call `markerWritten` once the
   * marker was acknowledged. (A sealed bucket is never filed into again: sealing waits
   * OUTBOX_SEAL_AFTER_MS past the minute.)
   */
  marker(filedAt: number): BatchStatement | null {
    const bucket = bucketOf(filedAt);
    return this.marked.has(bucket) ? null : { query: this.sql.markBucket, params: [bucket] };
  }

  /** Remembers that the marker of `filedAt`'s bucket is written (see marker). */
  markerWritten(filedAt: number): void {
    const bucket = bucketOf(filedAt);
    this.marked.add(bucket);
    for (const old of this.marked) if (old < bucket - 1) this.marked.delete(old);
  }

  /** The item row of a change filed at `filedAt` (its marker must be written first). */
  item(change: OutboxChange, filedAt: number): BatchStatement {
    return this.statements(change, filedAt)[1];
  }

  /** Records changes now (bucket rows first, so a reader that sees an item also sees its bucket). */
  async enqueue(changes: OutboxChange[]): Promise<void> {
    for (const change of changes) {
      for (const s of this.statements(change)) await this.session.execute(s.query, s.params, { idempotent: true });
    }
  }

  /** Oldest items whose retry time has come: buckets in order, shards merged by timeuuid. */
  async pending(limit: number, now: number): Promise<OutboxItem[]> {
    const wanted = Math.max(0, Math.floor(limit));
    const items: OutboxItem[] = [];
    const low = await this.lowWater();
    let newLow = low;
    let sealedSoFar = true;
    for (const bucket of await this.activeBuckets(low)) {
      if (items.length >= wanted) break;
      const rows = await this.bucketRows(bucket);
      if (rows.length === 0 && this.sealable(bucket, now)) {
        await this.session.execute(this.sql.seal, [bucket], { idempotent: true });
        if (sealedSoFar) newLow = bucket + 1;
        continue;
      }
      sealedSoFar = false;
      for (const row of rows) {
        if (items.length >= wanted) break;
        const item = await this.toItem(bucket, row, now);
        if (item) items.push(item);
      }
    }
    if (newLow > low) await this.session.execute(this.sql.setLow, [newLow], { idempotent: true });
    return items;
  }

  /**
   * Drops applied items; unknown handles are ignored (an ack may arrive twice). The deletes of one
   * partition (bucket, shard) go as one unlogged batch: one round trip, applied atomically.
   */
  async ack(seqs: number[]): Promise<void> {
    const perPartition = new Map<string, { seq: number; key: OutboxKey }[]>();
    for (const seq of seqs) {
      const handle = this.keys.get(seq);
      if (!handle) continue;
      const partition = `${handle.key.bucket}/${handle.key.shard}`;
      const list = perPartition.get(partition) ?? [];
      list.push({ seq, key: handle.key });
      perPartition.set(partition, list);
    }
    await Promise.all(
      [...perPartition.values()].map(async (acks) => {
        const deletes = acks.map(({ key }) => ({ query: this.sql.remove, params: [key.bucket, key.shard, key.id] }));
        for (let i = 0; i < deletes.length; i += ACKS_PER_BATCH) {
          await this.session.batchOrEach(deletes.slice(i, i + ACKS_PER_BATCH));
        }
        for (const { seq, key } of acks) this.forget(seq, key);
      }),
    );
  }

  /** Counts a failed attempt and pushes the next one back: 1 s, 2 s, 4 s … at most 5 min. */
  async fail(seqs: number[], now: number): Promise<void> {
    for (const seq of seqs) {
      const handle = this.keys.get(seq);
      if (!handle) continue;
      const { key, attempts } = handle;
      handle.attempts = attempts + 1;
      const delay = Math.min(OUTBOX_BACKOFF_MAX_MS, OUTBOX_BACKOFF_BASE_MS * 2 ** Math.min(attempts, 20));
      await this.session.execute(this.sql.backOff, [attempts + 1, new Date(now + delay), key.bucket, key.shard, key.id], {
        idempotent: true,
      });
    }
  }

  /** Items pending, failed ones included: a count per shard of every active bucket. */
  async length(): Promise<number> {
    let total = 0;
    for (const bucket of await this.activeBuckets(await this.lowWater())) {
      const shards = Array.from({ length: OUTBOX_SHARDS }, (_, shard) => shard);
      const counts = await Promise.all(
        shards.map(async (shard) => {
          const row = (await this.session.execute(this.sql.count, [bucket, shard], { idempotent: true })).first();
          return toNumber(row?.get('n'));
        }),
      );
      total += counts.reduce((a, b) => a + b, 0);
    }
    return total;
  }

  private async lowWater(): Promise<number> {
    const row = (await this.session.execute(this.sql.low, [], { idempotent: true })).first();
    return row ? toNumber(row.get('low_bucket')) : 0;
  }

  private async activeBuckets(low: number): Promise<number[]> {
    return (await this.session.rows(this.sql.buckets, [low])).map((row) => toNumber(row.get('bucket')));
  }

  /** A bucket's rows from every shard, oldest first. */
  private async bucketRows(bucket: number): Promise<ShardRow[]> {
    const shards = Array.from({ length: OUTBOX_SHARDS }, (_, shard) => shard);
    const perShard = await Promise.all(shards.map((shard) => this.session.rows(this.sql.partition, [bucket, shard])));
    return perShard
      .flatMap((rows, shard) => rows.map((row) => ({ row, shard })))
      .sort((a, b) => compareTimeUuid(a.row.get('id') as TimeUuid, b.row.get('id') as TimeUuid));
  }

  /** No writer can still be adding to the bucket: its minute is long past. */
  private sealable(bucket: number, now: number): boolean {
    return (bucket + 1) * 60_000 + this.sealAfterMs < now;
  }

  private async toItem(bucket: number, { row, shard }: ShardRow, now: number): Promise<OutboxItem | null> {
    const key: OutboxKey = { bucket, shard, id: row.get('id') as TimeUuid };
    if (row.get('entry_id') === null) {
      // Only a back-off update that raced an ack leaves a row without its item: drop it.
      await this.session.execute(this.sql.remove, [key.bucket, key.shard, key.id], { idempotent: true });
      return null;
    }
    const due = row.get('next_attempt_at') as Date | null;
    if (due && due.getTime() > now) return null;
    const attempts = (row.get('attempts') as number | null) ?? 0;
    return {
      seq: this.handle(key, attempts),
      entryId: row.get('entry_id') as string,
      mailboxId: row.get('mailbox_id') as string,
      op: row.get('op') === 'delete' ? 'delete' : 'upsert',
      version: toNumber(row.get('version')),
      attempts,
    };
  }

  /** The same row always gets the same handle from this instance. */
  private handle(key: OutboxKey, attempts: number): number {
    const name = `${key.bucket}/${key.shard}/${key.id.toString()}`;
    let seq = this.seqs.get(name);
    if (seq === undefined) {
      seq = this.nextSeq++;
      this.seqs.set(name, seq);
    }
    this.keys.set(seq, { key, attempts });
    return seq;
  }

  private forget(seq: number, key: OutboxKey): void {
    this.keys.delete(seq);
    this.seqs.delete(`${key.bucket}/${key.shard}/${key.id.toString()}`);
  }
}

/** An outbox row with the shard it was read from. */
interface ShardRow {
  row: cassandra.types.Row;
  shard: number;
}

function compareTimeUuid(a: TimeUuid, b: TimeUuid): number {
  const pa = a.getDatePrecision();
  const pb = b.getDatePrecision();
  const byTime = pa.date.getTime() - pb.date.getTime() || pa.ticks - pb.ticks;
  if (byTime !== 0) return byTime;
  const sa = a.toString();
  const sb = b.toString();
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
