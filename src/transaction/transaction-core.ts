import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import { receivedHeader } from '../mail/received-header.js';
import { REPLIES, replyForVerdict, type Reply } from '../mail/replies.js';
import { thresholdsFor, type Thresholds } from '../pipeline/decision.js';
import type { PluginRunner } from '../pipeline/runner.js';
import type { RecipientState, SessionInfo, Transaction } from '../pipeline/types.js';
import type { EntryStore, MailDirectory } from '../store/roles.js';
import type { LedgerLine } from '../store/types.js';
import { MessageProcessor, type ProcessResult, type SearchContentOffers } from './message-processor.js';
import type { ReceivedMessage } from './received-message.js';
import { replyForOutcome, type RecipientOutcome } from './recipient-outcome.js';
import { deliveredRecipients, type SuccessNotices, type TransactionDsn } from './success-notice.js';
import type { EnvelopeDsn, RecipientDsn } from '../mail/dsn-parameters.js';

/**
 * Who hands the transaction in: the LMTP listener (final delivery, one reply per recipient), the
 * SMTP listener (one reply for all) or the outbound queue delivering to local mailboxes.
 */
export type TransactionKind = 'lmtp' | 'smtp' | 'local';

export interface TransactionCoreDeps {
  /** Recipient resolution, the relay rule and the quota rule: the directory role, narrowed. */
  directory: Pick<MailDirectory, 'resolveAddress' | 'isLocalDomain' | 'mailboxUsage'>;
  entries: Pick<EntryStore, 'deliver' | 'findDelivered'>;
  runner: PluginRunner;
  config: HermodConfig;
  log: Logger;
  /** Success notices for NOTIFY=SUCCESS on the SMTP listener; none where DSN is not offered. */
  notices?: SuccessNotices;
  /** Where content parsed for the search index goes (this process's indexer); none: the indexer parses. */
  searchContent?: SearchContentOffers;
}

/** One inbound transaction in progress: what its adapter knows and what the core collected. */
export interface OpenTransaction {
  kind: TransactionKind;
  session: SessionInfo;
  transaction: Transaction;
  /** Ledger lines of the connect and helo stages (kept per connection by the adapter). */
  sessionLedger: LedgerLine[];
  /** Ledger lines of the mail and rcpt stages of this transaction. */
  ledger: LedgerLine[];
  /** RFC 3461 requests given with MAIL and RCPT (the SMTP listener offers DSN). */
  dsn?: TransactionDsn;
}

/** What DATA came to: each recipient's outcome and reply, in RCPT order. */
export interface DeliveryReport {
  outcomes: RecipientOutcome[];
  replies: Reply[];
  result: ProcessResult;
}

/**
 * Owns one inbound transaction end to end; the listeners and the local deliverer only adapt
 * their protocol to it. addRecipient: limit, address resolution, relay rule, rcpt stage (and on
 * SMTP one set of spam thresholds per transaction). deliver: Received header, duplicate check
 * before policy, plugin chain, scorer, quota rule, per-recipient store writes and replies.
 */
export class TransactionCore {
  private readonly processor: MessageProcessor;

  constructor(private readonly deps: TransactionCoreDeps) {
    this.processor = new MessageProcessor(deps);
  }

  /** The connect and helo stages, before any transaction: their lines go to `ledger`. */
  sessionStage(stage: 'connect' | 'helo', session: SessionInfo, ledger: LedgerLine[]): Promise<Reply | null> {
    const transaction = newTransaction(`${session.id}.0`, '');
    return this.stage(stage, { kind: 'smtp', session, transaction, sessionLedger: ledger, ledger });
  }

  /** Opens a transaction for MAIL FROM (or a queued message) and runs the mail stage. */
  async open(kind: TransactionKind, session: SessionInfo, id: string, mailFrom: string, sessionLedger: LedgerLine[] = [], dsn?: EnvelopeDsn) {
    const open: OpenTransaction = { kind, session, transaction: newTransaction(id, mailFrom), sessionLedger, ledger: [] };
    if (dsn) open.dsn = { envelope: dsn, recipients: new Map() };
    const reply = kind === 'local' ? null : await this.stage('mail', open);
    return { open, reply };
  }

  /** RCPT TO: null when the recipient is accepted into the transaction, else the refusal. */
  async addRecipient(open: OpenTransaction, address: string, dsn?: RecipientDsn): Promise<Reply | null> {
    const txn = open.transaction;
    const { config, directory } = this.deps;
    // The queue hands in what it accepted before; the limit guards the listeners.
    if (open.kind !== 'local' && txn.recipients.length >= config.limits.maxRecipients) return REPLIES.tooManyRecipients;
    const mailbox = await directory.resolveAddress(address);
    if (!mailbox) return this.unknownRecipientReply(open, address);
    const recipient: RecipientState = { address, mailbox };
    if (open.kind === 'smtp' && !this.samePolicy(txn, recipient)) return REPLIES.otherPolicyRecipient;
    const reply = open.kind === 'local' ? null : await this.stage('rcpt', open, recipient);
    if (!reply) txn.recipients.push(recipient);
    if (!reply && dsn) (open.dsn ??= { recipients: new Map() }).recipients.set(address, dsn);
    return reply;
  }

  /**
   * DATA: every accepted recipient's outcome and reply, in RCPT order. The listeners hand in what
   * the intake received (hashed, maybe spooled); the queue's local deliverer a Buffer.
   */
  async deliver(open: OpenTransaction, raw: Buffer | ReceivedMessage): Promise<DeliveryReport> {
    const { session, transaction: txn } = open;
    const recipients = txn.recipients.map((r) => r.address);
    const received = receivedHeader(session, this.deps.config.hostname, txn.id, recipients);
    const prior = [...open.sessionLedger, ...open.ledger];
    const result = await this.processor.process(session, txn, raw, received, prior);
    const replies = result.outcomes.map(replyForOutcome);
    if (open.dsn && open.kind !== 'local') await this.reportDelivered(open, result.outcomes, replies, txn.raw!);
    return { outcomes: result.outcomes, replies, result };
  }

  /**
   * RFC 3461 §6.2: a message delivered into a mailbox with NOTIFY=SUCCESS gets a "delivered"
   * notice. Hermod is the final hop here (the SMTP listener offers DSN, so the client passed the
   * request on instead of sending "relayed"); the notice is queued before the 250 is sent.
   * Never to the null sender (RFC 3461 §6.2: no notice about a notice).
   */
  private async reportDelivered(open: OpenTransaction, outcomes: RecipientOutcome[], replies: Reply[], raw: Buffer): Promise<void> {
    const { notices, log } = this.deps;
    const recipients = deliveredRecipients(outcomes, replies, open.dsn!);
    if (!notices || recipients.length === 0) return;
    const txn = open.transaction;
    if (txn.mailFrom === '') {
      log.info({ txn: txn.id, rcpt: recipients.map((r) => r.address) }, 'no success notice for the null sender');
      return;
    }
    const report = { transactionId: txn.id, sender: txn.mailFrom, envelope: open.dsn!.envelope, recipients, original: raw, arrivalDate: new Date() };
    await notices.delivered(report);
  }

  /**
   * SMTP answers DATA once for all recipients, so a transaction holds recipients judged by one
   * set of refusing spam thresholds: a copy cannot then be refused as spam beside one that was stored.
   * A recipient with other thresholds gets REPLIES.otherPolicyRecipient and the client sends it on its own.
   */
  private samePolicy(txn: Transaction, recipient: RecipientState): boolean {
    const first = txn.recipients[0];
    if (!first) return true;
    const scoring = this.deps.config.scoring;
    return sameThresholds(thresholdsFor(scoring, first), thresholdsFor(scoring, recipient));
  }

  /** The relay rule. LMTP and the queue are final delivery: unknown is unknown. On SMTP a foreign domain is a relay attempt. */
  private async unknownRecipientReply(open: OpenTransaction, address: string): Promise<Reply> {
    if (open.kind !== 'smtp') return REPLIES.unknownRecipient;
    const domain = address.slice(address.lastIndexOf('@') + 1);
    if (await this.deps.directory.isLocalDomain(domain)) return REPLIES.unknownRecipient;
    // Outbound relaying is not offered on this listener, whoever asks.
    this.deps.log.info({ session: open.session.id, client: open.session.clientAddress, rcpt: address }, 'relay refused');
    return REPLIES.relayDenied;
  }

  private async stage(
    stage: 'connect' | 'helo' | 'mail' | 'rcpt',
    open: OpenTransaction,
    recipient?: RecipientState,
  ): Promise<Reply | null> {
    const ledger = stage === 'connect' || stage === 'helo' ? open.sessionLedger : open.ledger;
    const input = { session: open.session, transaction: open.transaction, recipient, ledger };
    const [verdict] = await this.deps.runner.run(stage, input);
    return verdict ? replyForVerdict(verdict) : null;
  }
}

function newTransaction(id: string, mailFrom: string): Transaction {
  return { id, mailFrom, recipients: [], addedHeaders: [], findings: [] };
}

/** Only the refusing thresholds matter: junk folders and header marks may differ per copy. */
function sameThresholds(a: Thresholds, b: Thresholds): boolean {
  return a.tempfail === b.tempfail && a.reject === b.reject;
}
