import type cassandra from 'cassandra-driver';
import type { AttachmentMeta, Delivery, Domain, LedgerLine, Mailbox, MailboxEntry } from '../types.js';

type Row = cassandra.types.Row;

/** bigint and counter columns come back as driver Longs; ints as numbers; absent as null. */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return (value as { toNumber(): number }).toNumber();
}

/** Cassandra stores an empty collection as null. */
export function toList(value: unknown): string[] {
  return Array.isArray(value) ? [...(value as string[])] : [];
}

/** Entry columns shared by `entries_by_id` and `entries_by_folder`. */
export const ENTRY_COLUMNS = `entry_id, mailbox_id, mailbox_address, folder, sha256, size, flags, tags,
  importance, spam_score, thread_id, subject, from_addr, to_addrs, cc_addrs, date, message_id,
  attachments, envelope, received_at`;

/** The values of ENTRY_COLUMNS for a new entry, in that order. */
export interface EntryValues {
  entryId: string;
  mailboxId: string;
  mailboxAddress: string;
  folder: string;
  size: number;
  receivedAt: Date;
  delivery: Delivery;
}

/** Parameters for an INSERT of ENTRY_COLUMNS. */
export function entryParams(v: EntryValues): unknown[] {
  const { delivery: d } = v;
  const s = d.summary;
  // An unparseable Date header becomes an Invalid Date upstream; store it as unknown.
  const date = s.date && Number.isFinite(s.date.getTime()) ? s.date : null;
  return [
    v.entryId, v.mailboxId, v.mailboxAddress, v.folder, d.sha256, v.size, d.flags, d.tags,
    d.importance, d.spamScore, d.threadId, s.subject, s.from, s.to, s.cc, date, s.messageId,
    JSON.stringify(s.attachments), JSON.stringify(d.envelope), v.receivedAt,
  ];
}

/** Parameters for re-inserting an existing entry (a move to another folder partition). */
export function entryParamsOf(e: MailboxEntry): unknown[] {
  const s = e.summary;
  return [
    e.id, e.mailboxId, e.mailboxAddress, e.folder, e.sha256, e.size, e.flags, e.tags, e.importance,
    e.spamScore, e.threadId, s.subject, s.from, s.to, s.cc, s.date, s.messageId,
    JSON.stringify(s.attachments), JSON.stringify(e.envelope), e.receivedAt,
  ];
}

export function toMailboxEntry(row: Row): MailboxEntry {
  return {
    id: row.get('entry_id') as string,
    mailboxId: row.get('mailbox_id') as string,
    mailboxAddress: row.get('mailbox_address') as string,
    folder: row.get('folder') as string,
    sha256: row.get('sha256') as string,
    size: toNumber(row.get('size')),
    flags: toList(row.get('flags')),
    tags: toList(row.get('tags')),
    importance: row.get('importance') as number,
    spamScore: row.get('spam_score') as number,
    threadId: row.get('thread_id') as string,
    summary: {
      subject: row.get('subject') as string,
      from: row.get('from_addr') as string,
      to: toList(row.get('to_addrs')),
      cc: toList(row.get('cc_addrs')),
      date: (row.get('date') as Date | null) ?? null,
      messageId: (row.get('message_id') as string | null) ?? null,
      attachments: JSON.parse(row.get('attachments') as string) as AttachmentMeta[],
    },
    receivedAt: row.get('received_at') as Date,
    envelope: JSON.parse(row.get('envelope') as string) as MailboxEntry['envelope'],
  };
}

/** Mailbox columns of `mailboxes` (and `mailboxes_by_domain`). */
export const MAILBOX_COLUMNS = 'id, address, aliases, quota_bytes, created_at';

export function toMailbox(row: Row): Mailbox {
  return {
    id: row.get('id') as string,
    address: row.get('address') as string,
    aliases: toList(row.get('aliases')).sort(),
    quotaBytes: toNumber(row.get('quota_bytes')),
    createdAt: row.get('created_at') as Date,
  };
}

export function toDomain(row: Row): Domain {
  return { name: row.get('name') as string, createdAt: row.get('created_at') as Date };
}

export const LEDGER_COLUMNS = 'plugin, stage, verdict, score, reason, duration_ms, details';

/** Parameters for `INSERT INTO ledger (entry_id, seq, LEDGER_COLUMNS)`. */
export function ledgerParams(entryId: string, seq: number, line: LedgerLine): unknown[] {
  const details = line.details === undefined ? null : JSON.stringify(line.details);
  return [entryId, seq, line.plugin, line.stage, line.verdict, line.score, line.reason, line.durationMs, details];
}

export function toLedgerLine(row: Row): LedgerLine {
  const line: LedgerLine = {
    plugin: row.get('plugin') as string,
    stage: row.get('stage') as string,
    verdict: row.get('verdict') as string,
    score: row.get('score') as number,
    reason: row.get('reason') as string,
    durationMs: row.get('duration_ms') as number,
  };
  // Absent stays absent, so a line without details round-trips unchanged.
  const details = row.get('details') as string | null;
  if (details !== null && details !== undefined) line.details = JSON.parse(details) as Record<string, unknown>;
  return line;
}
