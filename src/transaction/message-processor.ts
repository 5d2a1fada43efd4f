import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { MessageContent } from '../mail/message-content.js';
import { sha256Of } from '../mail/message-digest.js';
import { rawStreamOf } from '../mail/raw-stream.js';
import { decide, describeDecision, type Decision } from '../pipeline/decision.js';
import type { PluginRunner } from '../pipeline/runner.js';
import type { RecipientState, SessionInfo, Transaction, Verdict } from '../pipeline/types.js';
import type { EntryStore, MailDirectory } from '../store/roles.js';
import type { Delivery, EntrySummary, LedgerLine } from '../store/types.js';
import { exceedsQuota } from './quota-rule.js';
import type { ReceivedMessage } from './received-message.js';
import type { RecipientOutcome } from './recipient-outcome.js';

export interface ProcessResult {
  outcomes: RecipientOutcome[];
  /** The first recipient's decision (every recipient's is in `decisions`). */
  decision?: Decision;
  /** One decision per recipient, in RCPT order: thresholds may differ per mailbox. */
  decisions: Decision[];
  /** The ledger shared by all recipients, then one scorer line per recipient. */
  ledger: LedgerLine[];
}

/** What one recipient's copy adds to the shared message. */
interface CopyDetails {
  prependHeaders: string;
  /** The shared ledger lines and this recipient's scorer line. */
  ledger: LedgerLine[];
  /** The DATA spool file holding the raw bytes, when the message was spooled. */
  rawFile?: string;
}

export interface MessageProcessorDeps {
  runner: PluginRunner;
  /** For the quota rule. */
  directory: Pick<MailDirectory, 'mailboxUsage'>;
  /** The durable writes, and the duplicate check that comes before any policy. */
  entries: Pick<EntryStore, 'deliver' | 'findDelivered'>;
  config: HermodConfig;
  log: Logger;
  /** Where the content a plugin parsed for the search index goes (this process's indexer). */
  searchContent?: SearchContentOffers;
}

/** Takes content parsed at delivery for the indexer (ContentHandoff); keeping it is its choice. */
export interface SearchContentOffers {
  offer(sha256: string, content: MessageContent): void;
}

/**
 * Everything after DATA, independent of the listener: the duplicate check (before any policy),
 * data and message stages, the scorer, the quota rule, one durable store write per recipient,
 * then the stored stage. Recipients are answered in
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
    message: Buffer | ReceivedMessage,
    receivedHeader: string,
    priorLedger: LedgerLine[] = [],
  ): Promise<ProcessResult> {
    const received = Buffer.isBuffer(message) ? undefined : message;
    const raw = received?.raw ?? (message as Buffer);
    txn.raw = raw;
    // The intake hashed the bytes as they streamed in; a Buffer handed in directly is hashed here.
    txn.sha256 = received?.sha256 ?? sha256Of(raw);
    txn.rawStream = () => rawStreamOf(raw);
    const ledger: LedgerLine[] = [...priorLedger];
    // Idempotent redelivery before policy: a copy already in its mailbox answers 250 whatever
    // the quota or the scoring say today (an MTA retrying after a lost reply).
    const delivered = await Promise.all(txn.recipients.map((r) => this.alreadyDelivered(r, txn.sha256!)));
    if (delivered.every((entryId) => entryId !== null)) {
      const outcomes = txn.recipients.map((recipient, i) => duplicateOf(recipient, delivered[i]!));
      return { outcomes, decisions: [], ledger };
    }
    const verdicts = await this.deps.runner.run('data', { session, transaction: txn, ledger });
    if (!isFinal(verdicts)) verdicts.push(...(await this.deps.runner.run('message', { session, transaction: txn, ledger })));

    // One scorer run per recipient: the evidence is shared, the thresholds may be the mailbox's own.
    const decisions = txn.recipients.map((recipient) => decide(txn, this.deps.config.scoring, recipient));
    const scorerLines = txn.recipients.map((recipient, i) => scorerLine(decisions[i], recipient));
    // Offered before the writes: the indexer may drain a commit's outbox before deliver returns.
    if (txn.searchContent && willStore(txn, verdicts, decisions, delivered)) this.deps.searchContent?.offer(txn.sha256!, txn.searchContent);
    const outcomes = await Promise.all(
      txn.recipients.map((recipient, i) => {
        if (delivered[i] !== null) return duplicateOf(recipient, delivered[i]);
        const prepend = prependHeaders(receivedHeader, decisions[i], txn);
        // Each copy keeps the shared lines and its own scorer line.
        const copy: CopyDetails = { prependHeaders: prepend, ledger: [...ledger, scorerLines[i]], rawFile: received?.file };
        return this.deliverOne(session, txn, recipient, verdicts, decisions[i], copy);
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
    copy: CopyDetails,
  ): Promise<RecipientOutcome> {
    const refused = refusalOf(recipient, verdicts, decision);
    if (refused) return refused;
    const raw = txn.raw!;
    try {
      const usage = recipient.mailbox.quotaBytes > 0 ? await this.deps.directory.mailboxUsage(recipient.mailbox.id) : 0;
      if (exceedsQuota(recipient.mailbox.quotaBytes, usage, raw.length)) {
        return { kind: 'over-quota', recipient, permanent: this.deps.config.quota.overQuota === 'reject' };
      }
      const result = await this.deps.entries.deliver(
        buildDelivery(session, txn, recipient, decision, copy),
      );
      const size = Buffer.byteLength(copy.prependHeaders, 'utf8') + raw.length;
      return { kind: 'stored', recipient, entryId: result.entryId, duplicate: result.duplicate, size };
    } catch (err) {
      this.deps.log.error({ err, rcpt: recipient.address, txn: txn.id }, 'store write failed');
      return { kind: 'store-failed', recipient, error: err as Error };
    }
  }

  /** The entry of an earlier delivery of these bytes; a failed lookup is no answer (the write decides). */
  private async alreadyDelivered(recipient: RecipientState, sha256: string): Promise<string | null> {
    try {
      return await this.deps.entries.findDelivered(recipient.mailbox.id, sha256);
    } catch (err) {
      this.deps.log.warn({ err, rcpt: recipient.address }, 'duplicate check failed');
      return null;
    }
  }
}

function duplicateOf(recipient: RecipientState, entryId: string): RecipientOutcome {
  return { kind: 'stored', recipient, entryId, duplicate: true };
}

/** A verdict ends the transaction for a recipient if it is global or names that recipient. */
function verdictFor(recipient: RecipientState, verdicts: Verdict[]): Verdict | undefined {
  return verdicts.find(
    (v) => v.action !== 'continue' && v.action !== 'accept' && (!v.recipients || v.recipients.includes(recipient.address)),
  );
}

/** The outcome of a recipient a plugin's verdict or the scorer refuses; none when its copy is to be written. */
function refusalOf(recipient: RecipientState, verdicts: Verdict[], decision: Decision): RecipientOutcome | undefined {
  const verdict = verdictFor(recipient, verdicts);
  if (verdict) return { kind: 'verdict', recipient, verdict };
  if (decision.spam === 'reject') return { kind: 'spam-rejected', recipient };
  if (decision.spam === 'tempfail') return { kind: 'spam-deferred', recipient };
  return undefined;
}

/** Whether some recipient's copy is about to be written: a new copy that nothing refuses. */
function willStore(txn: Transaction, verdicts: Verdict[], decisions: Decision[], delivered: (string | null)[]): boolean {
  return txn.recipients.some((recipient, i) => delivered[i] === null && !refusalOf(recipient, verdicts, decisions[i]));
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
  { prependHeaders, ledger, rawFile }: CopyDetails,
): Delivery {
  const parsed = txn.summary;
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
    rawFile,
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
