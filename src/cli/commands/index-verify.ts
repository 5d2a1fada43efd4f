import type { Command } from 'commander';
import { verifyIndex } from '../../admin/spam-index.js';
import { HermodError } from '../../errors.js';
import type { DriftReport, MailboxDrift } from '../../search/index-drift.js';
import type { MessageStore } from '../../store/message-store.js';
import type { Mailbox } from '../../store/types.js';
import { loadCliConfig, withServices } from '../context.js';
import { findMailbox } from '../entries.js';
import { formatTable, print, printJson } from '../format.js';
import { checkAddress } from '../../admin/input-rules.js';

interface VerifyOptions {
  mailbox?: string;
  json?: boolean;
}

/** The index differs from the store: `hermod index verify` exits 1 with this. */
export class IndexDriftError extends HermodError {
  constructor(message: string) {
    super('HERMOD_INDEX_DRIFT', message);
  }
}

const VERIFY_HELP = `
Compares every mailbox entry in the store with the search index:
  missing   in the store, not in the index
  stale     in both, but the index holds an older folder or tags
  orphaned  in the index, not in the store (also: whole mailboxes the store no longer has)
Changes still waiting in the outbox show as drift until the indexer has applied them.

Exit status: 0 when the index matches the store, 1 when it does not (or on an error).
Repair with: hermod reindex --mailbox A (or --all).`;

/** Registers `hermod index verify`. */
export function registerIndexCommands(program: Command): void {
  const index = program.command('index').description('check the search index against the message store');
  index
    .command('verify')
    .description('report entries missing from, stale in or orphaned in the search index')
    .option('--mailbox <address>', 'check only this mailbox (default: every mailbox)')
    .option('--json', 'print JSON, with the entry ids of every difference')
    .addHelpText('after', VERIFY_HELP)
    .action(async (opts: VerifyOptions, cmd: Command) => {
      const address = opts.mailbox === undefined ? undefined : checkAddress(opts.mailbox, '--mailbox');
      const config = loadCliConfig(cmd);
      const { hasDrift } = await import('../../search/index-drift.js');
      await withServices(config, async ({ store, search }) => {
        const report = await verifyIndex(store, search, address === undefined ? undefined : await findMailbox(store, address));
        if (opts.json) printJson(report);
        else printReport(report);
        if (hasDrift(report)) throw new IndexDriftError(driftSummary(report, address));
      });
    });
}

/** The mailbox named, or every mailbox. */
export async function selectMailboxes(store: MessageStore, address: string | undefined): Promise<Mailbox[]> {
  return address === undefined ? store.listMailboxes() : [await findMailbox(store, address)];
}

function printReport(report: DriftReport): void {
  const rows = report.mailboxes.map((m: MailboxDrift) => [
    m.address,
    String(m.entries),
    String(m.indexed),
    String(m.missing.length),
    String(m.stale.length),
    String(m.orphaned.length),
  ]);
  const right = { align: 'right' } as const;
  print(
    formatTable(
      [{ header: 'mailbox' }, { header: 'entries', ...right }, { header: 'indexed', ...right },
        { header: 'missing', ...right }, { header: 'stale', ...right }, { header: 'orphaned', ...right }],
      rows,
    ),
  );
  for (const id of report.orphanedMailboxes) print(`orphaned mailbox in the index: ${id}`);
  print(`outbox: ${report.outboxPending} change(s) waiting for the indexer`);
}

function driftSummary(report: DriftReport, address: string | undefined): string {
  const sum = (pick: (m: MailboxDrift) => string[]) => report.mailboxes.reduce((n, m) => n + pick(m).length, 0);
  const parts = [`${sum((m) => m.missing)} missing`, `${sum((m) => m.stale)} stale`, `${sum((m) => m.orphaned)} orphaned`];
  if (report.orphanedMailboxes.length > 0) parts.push(`${report.orphanedMailboxes.length} orphaned mailbox(es)`);
  const repair = address === undefined ? 'hermod reindex --all' : `hermod reindex --mailbox ${address}`;
  const pending = report.outboxPending > 0 ? ` (${report.outboxPending} change(s) still in the outbox)` : '';
  return `index drift: ${parts.join(', ')}${pending}; repair with ${repair}`;
}
