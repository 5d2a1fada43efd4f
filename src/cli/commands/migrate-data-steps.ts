import type { HermodServices } from '../../services.js';
import type { MessageStore } from '../../store/message-store.js';
import type { Mailbox } from '../../store/types.js';
import { startByteProgress } from '../byte-progress.js';
import { fileCheckpoint } from '../../admin/file-checkpoint.js';
import { formatSize, formatTable, print } from '../format.js';
import { InterruptedRunError } from './reindex.js';

/** One mailbox compared between source and target. */
export interface MailboxVerdict {
  address: string;
  mailboxId: string;
  entries: { source: number; target: number };
  bytes: { source: number; target: number };
  /** The target's quota usage figure, which should equal its bytes. */
  targetUsage: number;
  sha256: { source: string; target: string };
  /** Address, aliases, quota, creation time and password hash are the same. */
  sameMailbox: boolean;
  ok: boolean;
}

/** The comparison of a whole copy. */
export interface MigrationVerdict {
  ok: boolean;
  domains: { source: number; target: number; missing: string[] };
  mailboxes: MailboxVerdict[];
  /** Set once the target's search index is rebuilt. */
  reindexed?: number;
}

/**
 * Compares the stores mailbox by mailbox: entry count, bytes, the target's usage figure, the
 * SHA-256 digest over every entry (store-digest.ts) and the mailbox record itself.
 */
export async function verifyCopy(source: MessageStore, target: MessageStore): Promise<MigrationVerdict> {
  const { mailboxDigest } = await import('../../store/store-digest.js');
  const targetDomains = new Set((await target.listDomains()).map((d) => d.name));
  const sourceDomains = (await source.listDomains()).map((d) => d.name);
  const missing = sourceDomains.filter((name) => !targetDomains.has(name));
  const verdict: MigrationVerdict = {
    ok: missing.length === 0,
    domains: { source: sourceDomains.length, target: targetDomains.size, missing },
    mailboxes: [],
  };
  for (const mailbox of await source.listMailboxes()) {
    const copy = await target.resolveAddress(mailbox.address);
    const [a, b] = await Promise.all([mailboxDigest(source, mailbox.id), mailboxDigest(target, mailbox.id)]);
    const sameMailbox = copy !== null && (await sameRecord(source, target, mailbox, copy));
    const targetUsage = copy ? await target.mailboxUsage(copy.id) : 0;
    const ok = sameMailbox && a.entries === b.entries && a.bytes === b.bytes && a.sha256 === b.sha256 && targetUsage === b.bytes;
    verdict.mailboxes.push({
      address: mailbox.address,
      mailboxId: mailbox.id,
      entries: { source: a.entries, target: b.entries },
      bytes: { source: a.bytes, target: b.bytes },
      targetUsage,
      sha256: { source: a.sha256, target: b.sha256 },
      sameMailbox,
      ok,
    });
    if (!ok) verdict.ok = false;
  }
  return verdict;
}

async function sameRecord(source: MessageStore, target: MessageStore, a: Mailbox, b: Mailbox): Promise<boolean> {
  const aliases = (m: Mailbox) => [...m.aliases].sort().join(',');
  return (
    a.id === b.id &&
    a.address === b.address &&
    aliases(a) === aliases(b) &&
    a.quotaBytes === b.quotaBytes &&
    a.createdAt.getTime() === b.createdAt.getTime() &&
    (await source.getPasswordHash(a.address)) === (await target.getPasswordHash(b.address))
  );
}

/** The verification as a table, with one summary line. */
export function printVerdict(verdict: MigrationVerdict): void {
  const right = { align: 'right' } as const;
  const rows = verdict.mailboxes.map((m) => [
    m.address,
    `${m.entries.source}/${m.entries.target}`,
    `${formatSize(m.bytes.source)}/${formatSize(m.bytes.target)}`,
    m.sha256.target.slice(0, 16),
    m.ok ? 'ok' : m.sha256.source === m.sha256.target ? 'DIFFERS (mailbox record or usage)' : 'DIFFERS',
  ]);
  print(formatTable(
    [{ header: 'mailbox' }, { header: 'entries src/dst', ...right }, { header: 'bytes src/dst', ...right },
      { header: 'sha256' }, { header: 'check' }],
    rows,
  ));
  const entries = verdict.mailboxes.reduce((n, m) => n + m.entries.target, 0);
  if (verdict.domains.missing.length > 0) print(`domains missing in the target: ${verdict.domains.missing.join(', ')}`);
  print(
    verdict.ok
      ? `verified: ${verdict.domains.source} domain(s), ${verdict.mailboxes.length} mailbox(es), ${entries} entries: counts and checksums match`
      : 'verification FAILED: see the rows marked DIFFERS',
  );
}

/**
 * Rebuilds the target's search index from the copied store (all mailboxes), resumable like
 * `hermod reindex --all`, with its own checkpoint. Resolves to the entries indexed in this run.
 */
export async function rebuildSearch(target: HermodServices, dataDir: string, restart: boolean): Promise<number> {
  const { Reindexer, startingCheckpoint } = await import('../../search/reindexer.js');
  const checkpoints = fileCheckpoint<import('../../search/reindexer.js').ReindexCheckpoint>(dataDir, 'migrate-data-reindex');
  if (restart) checkpoints.clear();
  const mailboxes = await target.store.listMailboxes();
  let total = 0;
  for (const mailbox of mailboxes) total += await target.store.mailboxUsage(mailbox.id);
  const done = Object.values(startingCheckpoint(checkpoints, 'all').mailboxes);
  const progress = startByteProgress(`index (${target.config.search.driver})`, total, {
    items: done.reduce((n, p) => n + p.entries, 0),
    bytes: done.reduce((n, p) => n + p.bytes, 0),
  });
  const reindexer = new Reindexer({
    store: target.store, index: target.search, log: target.log, mailboxes, all: true, checkpoints,
    onBatch: (entries, bytes) => progress.add(entries, bytes),
  });
  try {
    const result = await reindexer.run('all');
    if (result.stopped) throw new InterruptedRunError(`migrate-data: search rebuild stopped; run the same command again to resume`);
    return result.entries + result.resumedEntries;
  } finally {
    progress.stop();
  }
}
