import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { MessageStore } from '../store/message-store.js';
import type { Delivery, EntrySummary, LedgerLine } from '../store/types.js';
import { decide, describeDecision, type Decision } from './decision.js';
import type { PluginRunner } from './runner.js';
import type { RecipientState, SessionInfo, Transaction, Verdict } from './types.js';

/** How one recipient's copy ended; replies.ts turns it into the SMTP reply. */
export type RecipientOutcome =
  | {
      kind: 'stored';
      recipient: RecipientState;
      entryId: string;
      duplicate: boolean;
      /** The entry's size as the store counts it (Hermod's headers + raw bytes), for the log line. */
      size: number;
    }
  | { kind: 'verdict'; recipient: RecipientState; verdict: Verdict }
  | { kind: 'spam-rejected'; recipient: RecipientState }
  | { kind: 'spam-deferred'; recipient: RecipientState }
  | { kind: 'over-quota'; recipient: RecipientState; permanent: boolean }
  | { kind: 'store-failed'; recipient: RecipientState; error: Error };

export interface ProcessResult {
  outcomes: RecipientOutcome[];
  /** The first recipient's decision (every recipient's is in `decisions`). */
  decision?: Decision;
  /** One decision per recipient, in RCPT order: thresholds may differ per mailbox. */
  decisions: Decision[];
  /** The ledger shared by all recipients, then one scorer line per recipient. */
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

    // One scorer run per recipient: the evidence is shared, the thresholds may be the mailbox's own.
    const decisions = txn.recipients.map((recipient) => decide(txn, this.deps.config.scoring, recipient));
    const scorerLines = txn.recipients.map((recipient, i) => scorerLine(decisions[i], recipient));
    const outcomes = await Promise.all(
      txn.recipients.map((recipient, i) => {
        const prepend = prependHeaders(receivedHeader, decisions[i], txn);
        // Each copy keeps the shared lines and its own scorer line.
        return this.deliverOne(session, txn, recipient, verdicts, decisions[i], prepend, [...ledger, scorerLines[i]]);
      }),
    );
    const stored = outcomes.filter((o) => o.kind === 'stored');
    if (stored.length > 0) await this.deps.runner.run('stored', { session, transaction: txn, ledger: [] });
    return { outcomes, decision: decisions[0], decisions, ledger: [...ledger, ...scorerLines] };
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
    if (decision.spam === 'tempfail') return { kind: 'spam-deferred', recipient };
    const raw = txn.raw!;
    try {
      if (await this.overQuota(recipient, raw.length)) {
        return { kind: 'over-quota', recipient, permanent: this.deps.config.quota.overQuota === 'reject' };
      }
      const result = await this.deps.store.deliver(
        buildDelivery(session, txn, recipient, decision, prependHeaders, ledger),
      );
      const size = Buffer.byteLength(prependHeaders, 'utf8') + raw.length;
      return { kind: 'stored', recipient, entryId: result.entryId, duplicate: result.duplicate, size };
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

/** Received, then X-Spam-* of this recipient's decision, then the headers plugins added. */
function prependHeaders(receivedHeader: string, decision: Decision, txn: Transaction): string {
  return [receivedHeader, ...[...decision.headers, ...txn.addedHeaders].map(([n, v]) => `${n}: ${v}`)]
    .map((line) => `${line}\r\n`)
    .join('');
}

/** The scorer's line: total, outcome and the thresholds used, and what the total is made of. */
function scorerLine(decision: Decision, recipient: RecipientState): LedgerLine {
  const verdict = decision.spam === 'reject' || decision.spam === 'tempfail' ? decision.spam : 'continue';
  const { source, ...thresholds } = decision.thresholds;
  return {
    plugin: 'scorer',
    stage: 'message',
    verdict,
    score: decision.score,
    reason: describeDecision(decision),
    durationMs: 0,
    details: {
      spam: decision.spam,
      folder: decision.folder,
      tags: decision.tags,
      importance: decision.importance,
      thresholds: { ...thresholds, source },
      contributions: decision.contributions,
      recipient: recipient.address,
    },
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
