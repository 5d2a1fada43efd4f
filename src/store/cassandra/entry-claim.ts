import cassandra from 'cassandra-driver';
import type { BatchStatement, CassandraSession } from './cassandra-session.js';
import { toNumber } from './row-mappers.js';

const { Long } = cassandra.types;

/** What a delivery attempt proposes for (mailbox, sha256): fixed by whichever attempt came first. */
export interface ClaimValues {
  entryId: string;
  version: number;
  folder: string;
  receivedAt: Date;
}

/** The claim of (mailbox, sha256) as read back after this attempt wrote its own. */
export interface Claim extends ClaimValues {
  /** This attempt's proposal is the claim: it alone counts the bytes. */
  won: boolean;
  /** Every row of the entry was written by some attempt: nothing is left to do. */
  committed: boolean;
}

/**
 * Write timestamps of claims run backwards from this instant (twice 2024-01-01 in microseconds):
 * the earlier a claim is written, the higher its timestamp, so under last-write-wins the first
 * claim is the one that stays — an insert that never overwrites, without a Paxos round. The
 * timestamps stay below the wall clock (they read as years before 2024), so a plain DELETE (a
 * mailbox removal) still removes a claim.
 */
export const FIRST_WINS_BASE_US = 2 * Date.UTC(2024, 0, 1) * 1000;

let lastMicros = 0;

/** Microseconds since the epoch, strictly increasing within this process (no two claims tie). */
export function claimMicros(nowMs: number): number {
  const precise = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const anchored = Math.max(nowMs * 1000, Math.min(precise, nowMs * 1000 + 999));
  lastMicros = Math.max(anchored, lastMicros + 1);
  return lastMicros;
}

/** The write timestamp of a claim made at `micros`: later claims get lower timestamps. */
export function firstWinsTimestamp(micros: number): number {
  return FIRST_WINS_BASE_US - micros;
}

/**
 * The dedupe claim in `entries_by_sha` without a lightweight transaction. An attempt writes its
 * proposal with a first-wins timestamp (in the same batch as the entry's first rows), then reads
 * the row back at the session's consistency: whatever it reads is the claim every attempt that
 * reads after it sees too. See docs/exactly-once.md for why that gives one entry per
 * (mailbox, bytes), and for the rare case that still falls back to Paxos.
 */
export class EntryClaims {
  private readonly sql: Record<'write' | 'read' | 'lwt' | 'commit', string>;

  constructor(private readonly session: CassandraSession) {
    const table = session.table('entries_by_sha');
    this.sql = {
      write: `INSERT INTO ${table} (mailbox_id, sha256, entry_id, version, folder, received_at)
        VALUES (?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`,
      read: `SELECT entry_id, version, folder, received_at, committed FROM ${table} WHERE mailbox_id = ? AND sha256 = ?`,
      lwt: `INSERT INTO ${table} (mailbox_id, sha256, entry_id, version, folder, received_at)
        VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      commit: `UPDATE ${table} SET committed = true WHERE mailbox_id = ? AND sha256 = ?`,
    };
  }

  /** The statement that proposes `mine`; it goes into the attempt's first batch. */
  proposal(mailboxId: string, sha256: string, mine: ClaimValues, micros: number): BatchStatement {
    return {
      query: this.sql.write,
      params: [
        mailboxId, sha256, mine.entryId, mine.version, mine.folder, mine.receivedAt,
        Long.fromNumber(firstWinsTimestamp(micros)),
      ],
    };
  }

  /**
   * Reads the claim back after the proposal was acknowledged. A row that is absent even so was
   * shadowed by a newer deletion of the claim (its tombstone outranks first-wins timestamps):
   * only then is the claim decided by a lightweight transaction.
   */
  async settle(mailboxId: string, sha256: string, mine: ClaimValues): Promise<Claim> {
    const row = (await this.session.execute(this.sql.read, [mailboxId, sha256], { idempotent: true })).first();
    if (row) return fromRow(row, mine);
    const { applied, row: current } = await this.session.lwt(this.sql.lwt, [
      mailboxId, sha256, mine.entryId, mine.version, mine.folder, mine.receivedAt,
    ]);
    return applied ? { ...mine, won: true, committed: false } : fromRow(current, mine);
  }

  /** Marks the claim done: later attempts answer "already delivered" and write nothing. */
  async commit(mailboxId: string, sha256: string): Promise<void> {
    await this.session.execute(this.sql.commit, [mailboxId, sha256], { idempotent: true });
  }
}

function fromRow(row: cassandra.types.Row, mine: ClaimValues): Claim {
  const entryId = row.get('entry_id') as string;
  const version = toNumber(row.get('version'));
  return {
    // The version tells attempts apart even when they share an entry id (a repeated import).
    won: entryId === mine.entryId && version === mine.version,
    committed: row.get('committed') === true,
    entryId,
    version,
    folder: row.get('folder') as string,
    receivedAt: row.get('received_at') as Date,
  };
}
