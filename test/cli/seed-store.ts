/**
 * Seeds a data directory for CLI tests: domains, mailboxes and stored messages, written through
 * the store the CLI will open (the CLI then runs as a subprocess on the same directory).
 */
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openServices } from '../../src/services.js';
import type { MessageStore } from '../../src/store/message-store.js';
import type { LedgerLine, Mailbox } from '../../src/store/types.js';

/** One message to store: raw bytes and where the delivery put it. */
export interface SeedMessage {
  raw: Buffer | string;
  folder?: string;
  tags?: string[];
  importance?: number;
  ledger?: LedgerLine[];
}

/** Opens the store of `dataDir`, runs `fn`, closes it. */
export async function withStore<T>(dataDir: string, fn: (store: MessageStore) => Promise<T>): Promise<T> {
  const config = loadConfig({ env: {}, overrides: { dataDir } });
  const services = await openServices(config, pino({ level: 'silent' }));
  try {
    return await fn(services.store);
  } finally {
    await services.close();
  }
}

/** Stores messages in a mailbox, as delivery would; returns their entry ids in order. */
export async function seedMessages(store: MessageStore, mailbox: Mailbox, messages: SeedMessage[]): Promise<string[]> {
  const ids: string[] = [];
  for (const m of messages) {
    const raw = Buffer.isBuffer(m.raw) ? m.raw : Buffer.from(m.raw.replace(/\r?\n/g, '\r\n'));
    const subject = /^Subject: (.*)$/m.exec(raw.toString('latin1'))?.[1]?.trim() ?? '';
    const { entryId } = await store.deliver({
      mailboxId: mailbox.id,
      raw,
      sha256: createHash('sha256').update(raw).digest('hex'),
      prependHeaders: '',
      folder: m.folder ?? 'INBOX',
      flags: [],
      tags: m.tags ?? [],
      importance: m.importance ?? 0,
      spamScore: 0,
      threadId: `t-${ids.length}`,
      summary: { subject, from: 'sender@remote.test', to: [mailbox.address], cc: [], date: null, messageId: null, attachments: [] },
      envelope: { mailFrom: 'sender@remote.test', rcptTo: mailbox.address, clientAddress: '192.0.2.9', transactionId: `tx-${ids.length}` },
      ledger: m.ledger ?? [],
    });
    ids.push(entryId);
  }
  return ids;
}

/** A classify ledger line as the runner writes it (details carry the tags, folder, importance). */
export function classifyLine(tags: string[], importance: number, folder?: string): LedgerLine {
  const details: Record<string, unknown> = { matched: ['seeded'] };
  if (tags.length) details.tags = tags;
  if (folder) details.folder = folder;
  if (importance) details.importance = importance;
  return { plugin: 'classify', stage: 'message', verdict: 'continue', score: 0, reason: 'matched seeded', durationMs: 1, details };
}

/** A short message with a subject and extra headers. */
export function message(subject: string, headers = '', body = 'Hello there.'): string {
  return `From: Sender <sender@remote.test>\nTo: alice@example.org\nSubject: ${subject}\n` +
    `Date: Mon, 10 Mar 2025 09:00:00 +0000\nMessage-ID: <${subject.replace(/\W+/g, '-')}@remote.test>\n${headers}\n${body}\n`;
}
