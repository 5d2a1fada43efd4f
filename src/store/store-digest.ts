import { createHash } from 'node:crypto';
import type { MessageStore } from './message-store.js';
import type { MailboxEntry } from './types.js';

/** Entries read per listing call. */
const PAGE = 500;

/** What a mailbox holds, summed up so two stores can be compared without shipping the data. */
export interface MailboxDigest {
  entries: number;
  /** Sum of entry sizes (prepended headers + raw bytes). */
  bytes: number;
  /** SHA-256 over every entry's fields, raw bytes, prepended headers and ledger (see entryLine). */
  sha256: string;
}

/**
 * The digest of one mailbox, over its entries in listing order (newest first). The raw bytes are
 * read and hashed, not taken from the entry's `sha256`, so a blob damaged in transit (a missing
 * Cassandra chunk) shows as a different digest.
 */
export async function mailboxDigest(store: MessageStore, mailboxId: string): Promise<MailboxDigest> {
  const hash = createHash('sha256');
  const digest: MailboxDigest = { entries: 0, bytes: 0, sha256: '' };
  let before: string | undefined;
  for (;;) {
    const page = await store.listEntries({ mailboxId, limit: PAGE, before });
    for (const entry of page) {
      hash.update(await entryLine(store, entry));
      digest.entries++;
      digest.bytes += entry.size;
    }
    if (page.length < PAGE) break;
    before = page[page.length - 1].id;
  }
  digest.sha256 = hash.digest('hex');
  return digest;
}

/** One entry as a canonical line: every field a store keeps, with hashes of the bytes. */
async function entryLine(store: MessageStore, entry: MailboxEntry): Promise<string> {
  const raw = await store.getRaw(entry.sha256);
  const full = await store.getFullMessage(entry.id);
  const ledger = await store.getLedger(entry.id);
  const sha = (data: Buffer | string | null | undefined): string | null =>
    data === null || data === undefined ? null : createHash('sha256').update(data).digest('hex');
  const s = entry.summary;
  const e = entry.envelope;
  // Arrays in a fixed order, not objects: adapters may build their objects with keys in any order.
  return (
    JSON.stringify([
      entry.id, entry.mailboxId, entry.folder, entry.sha256, sha(raw), sha(full), entry.size,
      entry.flags, entry.tags, entry.importance, entry.spamScore, entry.threadId, entry.receivedAt.getTime(),
      s.subject, s.from, s.to, s.cc, s.date ? s.date.getTime() : null, s.messageId ?? null,
      s.attachments.map((a) => [a.filename, a.contentType, a.size, a.sha256]),
      [e.mailFrom, e.rcptTo, e.clientAddress, e.transactionId],
      ledger.map((l) => [l.plugin, l.stage, l.verdict, l.score, l.reason, l.durationMs, canonical(l.details)]),
    ]) + '\n'
  );
}

/** JSON with object keys sorted (details are free-form objects); undefined and null alike. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
