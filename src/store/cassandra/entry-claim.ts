import type cassandra from 'cassandra-driver';
import type { BatchStatement, CassandraSession } from './cassandra-session.js';
import { toNumber } from './row-mappers.js';

/** What a delivery attempt proposes for (mailbox, sha256): fixed by whichever attempt came first. */
export interface ClaimValues {
  entryId: string;
  version: number;
  folder: string;
  receivedAt: Date;
}

/** The claim of (mailbox, sha256) as read back after this attempt wrote its proposal. */
export interface Claim extends ClaimValues {
  /** This attempt's proposal is the claim: it alone counts the bytes. */
  won: boolean;
  /** Every row of the entry was written by some attempt: nothing is left to do. */
  committed: boolean;
}

/**
 * The dedupe claim of (mailbox, sha256) without a lightweight transaction.
 *
 * Every attempt adds its own proposal row to the `entry_claims` partition of (mailbox, sha256),
 * clustered by a timeuuid the coordinator makes on arrival (`now()`), in the same batch as the
 * entry's first rows. Then it reads the partition back at the session's consistency: the
 * proposal that reached Cassandra first is the claim. No attempt's clock, pause or slow network
 * can reorder that: an attempt that arrives after another has read the partition gets a later
 * timeuuid, sees the earlier proposal and follows it. `entries_by_sha` holds the commit record
 * (and, from before this design, claims made by Paxos, honoured as they are).
 * docs/exactly-once.md has the whole argument.
 */
export class EntryClaims {
  private readonly sql: Record<'propose' | 'proposals' | 'record' | 'commit', string>;

  constructor(private readonly session: CassandraSession) {
    const claims = session.table('entry_claims');
    const record = session.table('entries_by_sha');
    this.sql = {
      propose: `INSERT INTO ${claims} (mailbox_id, sha256, attempt, entry_id, version, folder, received_at)
        VALUES (?, ?, now(), ?, ?, ?, ?)`,
      proposals: `SELECT entry_id, version, folder, received_at FROM ${claims} WHERE mailbox_id = ? AND sha256 = ? LIMIT ${MAX_PROPOSALS}`,
      record: `SELECT entry_id, version, folder, received_at, committed FROM ${record} WHERE mailbox_id = ? AND sha256 = ?`,
      commit: `INSERT INTO ${record} (mailbox_id, sha256, entry_id, version, folder, received_at, committed)
        VALUES (?, ?, ?, ?, ?, ?, true)`,
    };
  }

  /** The statement that proposes `mine`; it goes into the attempt's first batch. */
  proposal(mailboxId: string, sha256: string, mine: ClaimValues): BatchStatement {
    return { query: this.sql.propose, params: [mailboxId, sha256, mine.entryId, mine.version, mine.folder, mine.receivedAt] };
  }

  /**
   * Reads the claim back once this attempt's proposal was acknowledged. `recordAbsent`: the
   * caller saw no row in entries_by_sha just before proposing, so only the proposals are read
   * (a commit record made since has its proposal there, first; see EntryWriter.findDelivered).
   */
  async settle(mailboxId: string, sha256: string, mine: ClaimValues, recordAbsent = false): Promise<Claim> {
    const once = { idempotent: true };
    const [record, proposals] = await Promise.all([
      recordAbsent ? null : this.session.execute(this.sql.record, [mailboxId, sha256], once),
      this.session.execute(this.sql.proposals, [mailboxId, sha256], once),
    ]);
    const committed = record?.first();
    // A commit record, or a claim an earlier Hermod made by Paxos: that is the entry.
    if (committed) return { ...valuesOf(committed), won: false, committed: committed.get('committed') === true };
    const first = proposals.first();
    // Our own proposal was acknowledged, so the partition cannot be empty unless it was deleted
    // since (a mailbox removal running now): the delivery then fails and is retried.
    if (!first) throw new Error(`claim of ${sha256} in mailbox ${mailboxId} vanished while being made`);
    const claim = valuesOf(first);
    // The version tells attempts apart even when they share an entry id (a repeated import).
    return { ...claim, won: claim.entryId === mine.entryId && claim.version === mine.version, committed: false };
  }

  /** Writes the commit record: later attempts answer "already delivered" and write nothing. */
  async commit(mailboxId: string, sha256: string, claim: ClaimValues): Promise<void> {
    await this.session.execute(
      this.sql.commit,
      [mailboxId, sha256, claim.entryId, claim.version, claim.folder, claim.receivedAt],
      { idempotent: true },
    );
  }
}

/**
 * Proposals read back at most. Only concurrent or retried attempts of one delivery add rows, and
 * the first one sorts first, so a handful is plenty.
 */
const MAX_PROPOSALS = 16;

function valuesOf(row: cassandra.types.Row): ClaimValues {
  return {
    entryId: row.get('entry_id') as string,
    version: toNumber(row.get('version')),
    folder: row.get('folder') as string,
    receivedAt: row.get('received_at') as Date,
  };
}
