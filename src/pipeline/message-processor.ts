import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { MessageStore } from '../store/message-store.js';
import type { Delivery, EntrySummary, LedgerLine } from '../store/types.js';
import { decide, type Decision } from './decision.js';
import type { PluginRunner } from './runner.js';
import type { RecipientState, SessionInfo, Transaction, Verdict } from './types.js';

/** How one recipient's copy ended; replies.ts turns it into the SMTP reply. */
export type RecipientOutcome =
  | { kind: 'stored'; recipient: RecipientState; entryId: string; duplicate: boolean }
  | { kind: 'verdict'; recipient: RecipientState; verdict: Verdict }
  | { kind: 'spam-rejected'; recipient: RecipientState }
  | { kind: 'over-quota'; recipient: RecipientState; permanent: boolean }
  | { kind: 'store-failed'; recipient: RecipientState; error: Error };

export interface ProcessResult {
  outcomes: RecipientOutcome[];
  decision?: Decision;
  ledger: LedgerLine[];
}

export interface MessageProcessorDeps {
  runner: PluginRunner;
  store: MessageStore;
  config: HermodConfig;
  log: Logger;
}

/**
 * Everything after DATA, independent of the listener: data and message stages, the scorer,
 * one durable store write per recipient, then the stored stage. Recipients are answered in
 * RCPT order; a failure of one recipient's write touches no other recipient.
 */
export class MessageProcessor {
  constructor(private readonly deps: MessageProcessorDeps) {}

  /**
   * @param priorLedger ledger lines of the earlier stages (connect … rcpt), kept with the message
   */
  async process(
    session: SessionInfo,
    txn: Transaction,
    raw: Buffer,
    receivedHeader: string,
    priorLedger: LedgerLine[] = [],
  ): Promise<ProcessResult> {
    txn.raw = raw;
    txn.sha256 = createHash('sha256').update(raw).digest('hex');
    const ledger: LedgerLine[] = [...priorLedger];
    const verdicts = await this.deps.runner.run('data', { session, transaction: txn, ledger });
    if (!isFinal(verdicts)) verdicts.push(...(await this.deps.runner.run('message', { session, transaction: txn, ledger })));

    const decision = decide(txn, this.deps.config.scoring);
    ledger.push(scorerLine(decision));
    const prepend = [receivedHeader, ...[...decision.headers, ...txn.addedHeaders].map(([n, v]) => `${n}: ${v}`)]
      .map((line) => `${line}\r\n`)
      .join('');
    const outcomes = await Promise.all(
      txn.recipients.map((recipient) => this.deliverOne(session, txn, recipient, verdicts, decision, prepend, ledger)),
    );
    const stored = outcomes.filter((o) => o.kind === 'stored');
    if (stored.length > 0) await this.deps.runner.run('stored', { session, transaction: txn, ledger: [] });
    return { outcomes, decision, ledger };
  }

  private async deliverOne(
    session: SessionInfo,
    txn: Transaction,
    recipient: RecipientState,
    verdicts: Verdict[],
    decision: Decision,
    prependHeaders: string,
    ledger: LedgerLine[],
  ): Promise<RecipientOutcome> {
    const verdict = verdictFor(recipient, verdicts);
    if (verdict) return { kind: 'verdict', recipient, verdict };
    if (decision.spam === 'reject') return { kind: 'spam-rejected', recipient };
    const raw = txn.raw!;
    try {
      if (await this.overQuota(recipient, raw.length)) {
        return { kind: 'over-quota', recipient, permanent: this.deps.config.quota.overQuota === 'reject' };
      }
      const result = await this.deps.store.deliver(
        buildDelivery(session, txn, recipient, decision, prependHeaders, ledger),
      );
      return { kind: 'stored', recipient, entryId: result.entryId, duplicate: result.duplicate };
    } catch (err) {
      this.deps.log.error({ err, rcpt: recipient.address, txn: txn.id }, 'store write failed');
      return { kind: 'store-failed', recipient, error: err as Error };
    }
  }

  private async overQuota(recipient: RecipientState, size: number): Promise<boolean> {
    const quota = recipient.mailbox.quotaBytes;
    if (quota === 0) return false;
    return (await this.deps.store.mailboxUsage(recipient.mailbox.id)) + size > quota;
  }
}

/** A verdict ends the transaction for a recipient if it is global or names that recipient. */
function verdictFor(recipient: RecipientState, verdicts: Verdict[]): Verdict | undefined {
  return verdicts.find(
    (v) => v.action !== 'continue' && v.action !== 'accept' && (!v.recipients || v.recipients.includes(recipient.address)),
  );
}

function isFinal(verdicts: Verdict[]): boolean {
  return verdicts.some((v) => v.action !== 'continue' && v.action !== 'accept' && !v.recipients);
}

function scorerLine(decision: Decision): LedgerLine {
  return {
    plugin: 'scorer',
    stage: 'message',
    verdict: decision.spam === 'reject' ? 'reject' : 'continue',
    score: decision.score,
    reason: `spam=${decision.spam} folder=${decision.folder}`,
    durationMs: 0,
    details: { tags: decision.tags, importance: decision.importance },
  };
}

function buildDelivery(
  session: SessionInfo,
  txn: Transaction,
  recipient: RecipientState,
  decision: Decision,
  prependHeaders: string,
  ledger: LedgerLine[],
): Delivery {
  const parsed = txn.parsed;
  const summary: EntrySummary = {
    subject: parsed?.subject ?? '',
    from: parsed?.from ?? txn.mailFrom,
    to: parsed?.to ?? [],
    cc: parsed?.cc ?? [],
    date: parsed?.date ?? null,
    messageId: parsed?.messageId ?? null,
    attachments: parsed?.attachments ?? [],
  };
  return {
    mailboxId: recipient.mailbox.id,
    raw: txn.raw!,
    sha256: txn.sha256!,
    prependHeaders,
    folder: decision.folder,
    flags: [],
    tags: decision.tags,
    importance: decision.importance,
    spamScore: decision.score,
    threadId: parsed?.threadId ?? txn.sha256!.slice(0, 16),
    summary,
    envelope: { mailFrom: txn.mailFrom, rcptTo: recipient.address, clientAddress: session.clientAddress, transactionId: txn.id },
    ledger,
  };
}
