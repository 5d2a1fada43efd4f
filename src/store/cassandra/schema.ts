/**
 * The Cassandra schema, as versioned migrations. `KS` in the CQL stands for the keyspace.
 *
 * Design: one table per query, so every read is one partition (or a handful), never a scan.
 *
 * Directory
 * - `domains` ((bucket), name): bucket is always 0, one small partition, listed in name order.
 * - `mailboxes` (id): the mailbox row (with the submission password hash). Its listed fields
 *   never change once made, so they are copied into `mailboxes_by_domain` ((domain), address)
 *   for listings per domain.
 * - `addresses_by_name` (address → mailbox id, primary | alias): RCPT resolution. Rows are
 *   claimed with `INSERT … IF NOT EXISTS` (and released with `DELETE … IF mailbox_id = …`), so
 *   two admins can never give one address to two mailboxes. `aliases_by_domain` lets domain
 *   removal see the aliases that still use it.
 *
 * Entries
 * - `entries_by_folder` ((mailbox_id, folder), entry_id DESC): a folder listing, newest first;
 *   `before` pages with `entry_id < ?`. Entry ids are ULIDs, so id order is arrival order.
 *   `mailbox_folders` ((mailbox_id), folder) names the partitions: a listing of all folders
 *   merges them, and mailbox removal finds them.
 * - `entries_by_id` (entry_id): fetching one entry, with Hermod's prepended headers.
 * - `entry_claims` ((mailbox_id, sha256), attempt timeuuid): the dedupe claim, without a Paxos
 *   round. Each delivery attempt adds its proposal (entry id, version, folder, arrival time)
 *   with `attempt = now()` made by the coordinator on arrival, batched with the entry's first
 *   rows, and reads the partition back: the earliest proposal is the claim, the entry every
 *   attempt writes (entry-claim.ts; docs/exactly-once.md has the argument). Each claim is its
 *   own partition, so deliveries to one mailbox never contend.
 * - `entries_by_sha` ((mailbox_id, sha256)): the commit record, written once every row of the
 *   entry is (`committed` = true, with the entry id). The same bytes again find it: "already
 *   delivered". Found uncommitted (a claim made by Paxos before `entry_claims` existed), it is
 *   honoured as the claim. An uncommitted claim (an attempt failed half-way, or runs now) makes
 *   a retry write the rows again under the claimed id, which is idempotent: one entry, even
 *   under concurrency.
 * - `mailboxes_by_message` ((sha256), mailbox_id): who holds a message; a blob is deleted only
 *   when no mailbox does. `ledger` ((entry_id), seq): the plugin ledger.
 * - `mailbox_usage` (mailbox_id → bytes counter): quota checks read one cell. Counter updates
 *   are not idempotent, so only the delivery that won the dedupe claim adds its size, once, and
 *   the driver never retries it: a retried delivery never counts twice (a lost increment can
 *   make usage lag by the messages of one update; it never runs ahead). Increments are group
 *   committed (usage-counter.ts): those made while one is in flight go together.
 *
 * Blobs
 * - `messages_whole` (sha256 → data): a raw message of at most one chunk, in one row: one write
 *   on delivery and one read for the indexer, where chunk and head took two of each.
 * - `message_chunks` ((sha256, chunk)): the raw bytes of a larger message in chunks
 *   (store.cassandra.chunkBytes), one partition per chunk so a large message spreads over the
 *   ring. `messages` (sha256 → size, chunk count) is written last: a blob is visible only once all
 *   its chunks are.
 *
 * Outbox (for the indexer)
 * - `outbox` ((bucket, shard), id timeuuid): bucket = minute of the change, shard = hash of the
 *   entry id mod OUTBOX_SHARDS. Items are read oldest first (buckets ascending, shards merged by
 *   timeuuid) and deleted when acked. Minute × shard keeps every partition small, so the
 *   tombstones acks leave behind stay few per partition and vanish with the partition's data.
 * - `outbox_buckets` ((ring), bucket): the buckets that got items, so a reader never probes
 *   empty minutes; a drained bucket older than the seal delay is deleted from it.
 *   `outbox_state` keeps the low-water bucket (the last acked position): reads start there and
 *   never touch the tombstones of older buckets. Both outbox tables use a short gc_grace: a
 *   resurrected item only re-indexes a document at a version the index already has.
 *
 * Mailbox removal: `mailbox_removals` (address) records a removal in progress (mailbox id,
 * start, phase) from before its addresses are released until its last row is gone, so a removal
 * that stopped half-way can be found by its address and finished (mailbox-removal.ts).
 *
 * Bayes token statistics: counters per ((scope, bucket), term) (`token` is a CQL keyword) and per scope; the label each
 * message holds per scope in `bayes_seen` ((scope, bucket), sha256), changed only by a
 * lightweight transaction, so a replayed learn is counted once. Buckets (256) keep the global
 * scope's partitions small and let a mailbox scope be dropped partition by partition.
 */

/** One schema step. Versions are consecutive from 1; a released migration is never edited. */
export interface CassandraMigration {
  version: number;
  name: string;
  /** CQL statements, applied in order; each is idempotent (IF NOT EXISTS), so a re-run is safe. */
  statements: string[];
}

/** Shards per outbox minute. Part of the schema: changing it strands items in other shards. */
export const OUTBOX_SHARDS = 8;
/** Buckets per Bayes scope. Part of the schema too. */
export const BAYES_BUCKETS = 256;

const ENTRY_SUMMARY_COLUMNS = `
  mailbox_address text, sha256 text, size bigint, flags list<text>, tags list<text>,
  importance double, spam_score double, thread_id text, subject text, from_addr text,
  to_addrs list<text>, cc_addrs list<text>, date timestamp, message_id text, attachments text,
  envelope text, received_at timestamp`;

export const CASSANDRA_MIGRATIONS: readonly CassandraMigration[] = [
  {
    version: 1,
    name: 'initial storage model',
    statements: [
      `CREATE TABLE IF NOT EXISTS KS.domains (
        bucket int, name text, created_at timestamp, PRIMARY KEY (bucket, name))`,
      `CREATE TABLE IF NOT EXISTS KS.mailboxes (
        id text PRIMARY KEY, address text, domain text, aliases set<text>, quota_bytes bigint,
        password_hash text, created_at timestamp)`,
      `CREATE TABLE IF NOT EXISTS KS.mailboxes_by_domain (
        domain text, address text, id text, aliases set<text>, quota_bytes bigint,
        created_at timestamp, PRIMARY KEY (domain, address))`,
      `CREATE TABLE IF NOT EXISTS KS.addresses_by_name (
        address text PRIMARY KEY, mailbox_id text, kind text)`,
      `CREATE TABLE IF NOT EXISTS KS.aliases_by_domain (
        domain text, alias text, mailbox_id text, PRIMARY KEY (domain, alias))`,
      `CREATE TABLE IF NOT EXISTS KS.entries_by_id (
        entry_id text PRIMARY KEY, mailbox_id text, folder text, prepend_headers text,
        ${ENTRY_SUMMARY_COLUMNS})`,
      `CREATE TABLE IF NOT EXISTS KS.entries_by_folder (
        mailbox_id text, folder text, entry_id text, ${ENTRY_SUMMARY_COLUMNS},
        PRIMARY KEY ((mailbox_id, folder), entry_id)) WITH CLUSTERING ORDER BY (entry_id DESC)`,
      `CREATE TABLE IF NOT EXISTS KS.mailbox_folders (
        mailbox_id text, folder text, PRIMARY KEY (mailbox_id, folder))`,
      `CREATE TABLE IF NOT EXISTS KS.entries_by_sha (
        mailbox_id text, sha256 text, entry_id text, version bigint, folder text,
        received_at timestamp, committed boolean, PRIMARY KEY ((mailbox_id, sha256)))`,
      `CREATE TABLE IF NOT EXISTS KS.mailboxes_by_message (
        sha256 text, mailbox_id text, entry_id text, PRIMARY KEY (sha256, mailbox_id))`,
      `CREATE TABLE IF NOT EXISTS KS.ledger (
        entry_id text, seq int, plugin text, stage text, verdict text, score double, reason text,
        duration_ms double, details text, PRIMARY KEY (entry_id, seq))`,
      `CREATE TABLE IF NOT EXISTS KS.mailbox_usage (mailbox_id text PRIMARY KEY, bytes counter)`,
      `CREATE TABLE IF NOT EXISTS KS.messages (
        sha256 text PRIMARY KEY, size bigint, chunk_count int, chunk_bytes int, stored_at timestamp)`,
      `CREATE TABLE IF NOT EXISTS KS.message_chunks (
        sha256 text, chunk int, data blob, PRIMARY KEY ((sha256, chunk)))`,
      `CREATE TABLE IF NOT EXISTS KS.outbox (
        bucket bigint, shard int, id timeuuid, entry_id text, mailbox_id text, op text,
        version bigint, attempts int, next_attempt_at timestamp,
        PRIMARY KEY ((bucket, shard), id)) WITH gc_grace_seconds = 3600`,
      `CREATE TABLE IF NOT EXISTS KS.outbox_buckets (
        ring int, bucket bigint, PRIMARY KEY (ring, bucket)) WITH gc_grace_seconds = 3600`,
      `CREATE TABLE IF NOT EXISTS KS.outbox_state (name text PRIMARY KEY, low_bucket bigint)`,
    ],
  },
  {
    version: 2,
    name: 'bayes token statistics',
    statements: [
      `CREATE TABLE IF NOT EXISTS KS.bayes_tokens (
        scope text, bucket int, term text, spam counter, ham counter,
        PRIMARY KEY ((scope, bucket), term))`,
      `CREATE TABLE IF NOT EXISTS KS.bayes_totals (scope text PRIMARY KEY, spam counter, ham counter)`,
      `CREATE TABLE IF NOT EXISTS KS.bayes_seen (
        scope text, bucket int, sha256 text, label text, learned_at timestamp,
        PRIMARY KEY ((scope, bucket), sha256))`,
    ],
  },
  {
    version: 3,
    name: 'dedupe claims without lightweight transactions; resumable mailbox removal',
    statements: [
      `CREATE TABLE IF NOT EXISTS KS.entry_claims (
        mailbox_id text, sha256 text, attempt timeuuid, entry_id text, version bigint, folder text,
        received_at timestamp, PRIMARY KEY ((mailbox_id, sha256), attempt))`,
      `CREATE TABLE IF NOT EXISTS KS.mailbox_removals (
        address text PRIMARY KEY, mailbox_id text, started_at timestamp, phase text)`,
    ],
  },
  {
    version: 4,
    name: 'messages of one chunk in one row',
    statements: [
      `CREATE TABLE IF NOT EXISTS KS.messages_whole (sha256 text PRIMARY KEY, data blob, stored_at timestamp)`,
    ],
  },
];
