import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildSearchDocument } from '../../src/search/document-builder.js';
import type { SearchDocument } from '../../src/search/search-index.js';
import type { MailboxEntry } from '../../src/store/types.js';

/** The realistic messages under test/fixtures/search/. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/search/', import.meta.url));

export const MAILBOX_A = 'mbx-a';
export const MAILBOX_B = 'mbx-b';

/** Where one fixture lands in the corpus. */
export interface CorpusEntry {
  entryId: string;
  mailboxId: string;
  fixture: string;
  folder: string;
  tags: string[];
  receivedAt: string;
}

/**
 * The shared corpus. entry-05 and entry-06 arrive in the same millisecond, so ordering by date
 * alone is ambiguous and the entry-id tie-break shows. entry-07 is entry-01's bytes in mailbox B.
 */
export const CORPUS: CorpusEntry[] = [
  { entryId: 'entry-01', mailboxId: MAILBOX_A, fixture: 'quarterly-report.eml', folder: 'INBOX', tags: [], receivedAt: '2024-03-05T10:15:02Z' },
  { entryId: 'entry-02', mailboxId: MAILBOX_A, fixture: 'invoice-attachment.eml', folder: 'INBOX', tags: ['Finance'], receivedAt: '2024-03-08T08:00:03Z' },
  { entryId: 'entry-03', mailboxId: MAILBOX_A, fixture: 'utf8-greetings.eml', folder: 'INBOX', tags: ['personal'], receivedAt: '2024-03-11T17:30:01Z' },
  { entryId: 'entry-04', mailboxId: MAILBOX_A, fixture: 'newsletter-alternative.eml', folder: 'Newsletters', tags: ['bulk', 'newsletter'], receivedAt: '2024-03-13T07:00:05Z' },
  { entryId: 'entry-05', mailboxId: MAILBOX_A, fixture: 'meeting-html-only.eml', folder: 'INBOX', tags: ['work'], receivedAt: '2024-03-14T12:00:00Z' },
  { entryId: 'entry-06', mailboxId: MAILBOX_A, fixture: 'related-inline-image.eml', folder: 'Junk', tags: ['spam'], receivedAt: '2024-03-14T12:00:00Z' },
  { entryId: 'entry-07', mailboxId: MAILBOX_B, fixture: 'quarterly-report.eml', folder: 'INBOX', tags: [], receivedAt: '2024-03-20T09:00:00Z' },
];

export async function readFixture(name: string): Promise<Buffer> {
  return readFile(FIXTURES_DIR + name);
}

/**
 * A mailbox entry with an empty summary, as if no parse plugin ran: the document builder then
 * takes subject, addresses and attachment names from the raw message itself.
 */
export function bareEntry(spec: CorpusEntry, raw: Buffer): MailboxEntry {
  return {
    id: spec.entryId,
    mailboxId: spec.mailboxId,
    mailboxAddress: `${spec.mailboxId}@example.org`,
    folder: spec.folder,
    sha256: 'not-used',
    size: raw.length,
    flags: [],
    tags: spec.tags,
    importance: 0,
    spamScore: 0,
    threadId: `thread-${spec.entryId}`,
    summary: { subject: '', from: '', to: [], cc: [], date: null, messageId: null, attachments: [] },
    receivedAt: new Date(spec.receivedAt),
    envelope: { mailFrom: '', rcptTo: `${spec.mailboxId}@example.org`, clientAddress: '127.0.0.1', transactionId: 'tx' },
  };
}

/** Every corpus entry as a search document, version 1. */
export async function buildCorpus(): Promise<SearchDocument[]> {
  return Promise.all(
    CORPUS.map(async (spec) => {
      const raw = await readFixture(spec.fixture);
      return buildSearchDocument(bareEntry(spec, raw), raw, 1);
    }),
  );
}
