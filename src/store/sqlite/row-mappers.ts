import type { Domain, LedgerLine, Mailbox, MailboxEntry, OutboxItem } from '../types.js';

/** A `domains` row. */
export interface DomainRow {
  name: string;
  created_at: number;
}

/** A `mailboxes` row. */
export interface MailboxRow {
  id: string;
  address: string;
  domain: string;
  quota_bytes: number;
  created_at: number;
}

/** A `mailbox_entries` row joined with its mailbox's address. */
export interface EntryRow {
  id: string;
  mailbox_id: string;
  mailbox_address: string;
  folder: string;
  sha256: string;
  size: number;
  flags: string;
  tags: string;
  importance: number;
  spam_score: number;
  thread_id: string;
  subject: string;
  from_addr: string;
  to_addrs: string;
  cc_addrs: string;
  date: number | null;
  message_id: string | null;
  attachments: string;
  envelope: string;
  received_at: number;
}

/** A `ledger` row. */
export interface LedgerRow {
  plugin: string;
  stage: string;
  verdict: string;
  score: number;
  reason: string;
  duration_ms: number;
  details: string | null;
}

/** An `outbox` row. */
export interface OutboxRow {
  seq: number;
  entry_id: string;
  mailbox_id: string;
  op: string;
  version: number;
  attempts: number;
}

/** Columns of an entry row, for SELECTs that join `mailboxes m` with `mailbox_entries e`. */
export const ENTRY_COLUMNS = `e.id, e.mailbox_id, m.address AS mailbox_address, e.folder, e.sha256, e.size,
  e.flags, e.tags, e.importance, e.spam_score, e.thread_id, e.subject, e.from_addr, e.to_addrs,
  e.cc_addrs, e.date, e.message_id, e.attachments, e.envelope, e.received_at`;

export function toDomain(row: DomainRow): Domain {
  return { name: row.name, createdAt: new Date(row.created_at) };
}

export function toMailbox(row: MailboxRow, aliases: string[]): Mailbox {
  return {
    id: row.id,
    address: row.address,
    aliases: [...aliases].sort(),
    quotaBytes: row.quota_bytes,
    createdAt: new Date(row.created_at),
  };
}

export function toMailboxEntry(row: EntryRow): MailboxEntry {
  return {
    id: row.id,
    mailboxId: row.mailbox_id,
    mailboxAddress: row.mailbox_address,
    folder: row.folder,
    sha256: row.sha256,
    size: row.size,
    flags: JSON.parse(row.flags) as string[],
    tags: JSON.parse(row.tags) as string[],
    importance: row.importance,
    spamScore: row.spam_score,
    threadId: row.thread_id,
    summary: {
      subject: row.subject,
      from: row.from_addr,
      to: JSON.parse(row.to_addrs) as string[],
      cc: JSON.parse(row.cc_addrs) as string[],
      date: row.date === null ? null : new Date(row.date),
      messageId: row.message_id,
      attachments: JSON.parse(row.attachments) as MailboxEntry['summary']['attachments'],
    },
    receivedAt: new Date(row.received_at),
    envelope: JSON.parse(row.envelope) as MailboxEntry['envelope'],
  };
}

export function toLedgerLine(row: LedgerRow): LedgerLine {
  const line: LedgerLine = {
    plugin: row.plugin,
    stage: row.stage,
    verdict: row.verdict,
    score: row.score,
    reason: row.reason,
    durationMs: row.duration_ms,
  };
  // Absent stays absent, so a line without details round-trips unchanged.
  if (row.details !== null) line.details = JSON.parse(row.details) as Record<string, unknown>;
  return line;
}

export function toOutboxItem(row: OutboxRow): OutboxItem {
  return {
    seq: row.seq,
    entryId: row.entry_id,
    mailboxId: row.mailbox_id,
    op: row.op === 'delete' ? 'delete' : 'upsert',
    version: row.version,
    attempts: row.attempts,
  };
}
