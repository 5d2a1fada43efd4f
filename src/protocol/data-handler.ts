import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { REPLIES, replyError, type Reply } from '../mail/replies.js';
import { singleReply, type RecipientOutcome } from '../transaction/recipient-outcome.js';
import { InFlightWork } from './data-intake.js';
import type { SpooledData } from './message-spool.js';
import type { ListenerDeps, SessionState } from './session-state.js';
import { transactionLogFields } from './transaction-log.js';
import type { Decision } from '../pipeline/decision.js';

type DataDone = (err: Error | null, message?: unknown) => void;

/**
 * DATA: reads the message, hands it to the transaction core, and answers: in LMTP one reply per
 * recipient in RCPT order; in SMTP the one reply the core's rule gives (see singleReply).
 */
export class DataHandler {
  private readonly inFlight = new InFlightWork();

  constructor(
    private readonly deps: ListenerDeps,
    private readonly stateOf: (sessionId: string) => SessionState | undefined,
  ) {}

  /** True while a message is being processed. */
  get busy(): boolean {
    return this.inFlight.busy;
  }

  /** Resolves once every DATA in progress has been answered (graceful shutdown). */
  drain(): Promise<void> {
    return this.inFlight.drain();
  }

  handle(stream: SMTPServerDataStream, session: SMTPServerSession, done: DataDone): void {
    this.inFlight.track(this.collectAndProcess(stream, session, done));
  }

  /**
   * Admission against the in-flight budget, then the message in (memory or spool), then the
   * transaction. The budget's bytes and the spool file are given back once the reply is decided.
   */
  private async collectAndProcess(stream: SMTPServerDataStream, session: SMTPServerSession, done: DataDone): Promise<void> {
    const started = performance.now();
    const state = this.stateOf(session.id)!;
    const { budget, spool, config } = this.deps;
    const share = await budget.admit();
    if (!share) {
      // smtp-server drains the unread message, then sends this reply (once per recipient in LMTP).
      this.deps.log.warn({ txn: state.open!.transaction.id, inflightBytes: budget.bytes }, 'DATA refused: in-flight budget used up');
      this.deps.metrics?.transaction(this.deps.listener, 'deferred', (performance.now() - started) / 1000);
      return done(replyError(REPLIES.inflightBudgetExceeded));
    }
    let data: SpooledData | undefined;
    let answer: Parameters<DataDone>;
    try {
      data = await spool.receive(stream, config.limits.maxMessageBytes, share.add);
      answer = await this.answer(stream, state, data, started);
    } catch (err) {
      // The client went away mid-DATA (nothing to answer) or the spool failed unexpectedly.
      this.deps.log.warn({ err, txn: state.open?.transaction.id }, 'DATA not received');
      answer = [replyError(REPLIES.spoolFailure)];
    }
    // The spool file goes and the budget is given back before the reply: a client that sends its
    // next message at once finds the room its last one took.
    await data?.dispose().catch((err: unknown) => this.deps.log.error({ err }, 'spool file not removed'));
    share.release();
    this.reply(state, done, answer);
  }

  /**
   * Hands the answer to smtp-server, which writes it at once (the message was read to its end).
   * In LMTP that is one line per recipient, each its own socket write: corked, they leave in one
   * write. Over STARTTLS the TLS socket writes past the corked one, and nothing changes.
   */
  private reply(state: SessionState, done: DataDone, answer: Parameters<DataDone>): void {
    const burst = this.deps.listener === 'lmtp' && (state.open?.transaction.recipients.length ?? 0) > 1;
    const socket = burst && state.socket?.writable ? state.socket : undefined;
    socket?.cork();
    try {
      done(...answer);
    } finally {
      socket?.uncork();
    }
  }

  /** The reply to DATA, as smtp-server's callback takes it. */
  private async answer(stream: SMTPServerDataStream, state: SessionState, data: SpooledData, started: number): Promise<Parameters<DataDone>> {
    const open = state.open!;
    const txn = open.transaction;
    // smtp-server refuses an oversized message itself (message too big); nothing is processed.
    if (stream.sizeExceeded) {
      this.logTransaction(state, data.size, started, [], 'too-big');
      this.deps.metrics?.transaction(this.deps.listener, 'too_big', (performance.now() - started) / 1000);
      return [null];
    }
    if (data.failure) {
      // Disk full or an I/O error on the spool: nothing was kept, the client keeps the message.
      this.deps.log.error({ err: data.failure, txn: txn.id }, 'DATA spool write failed');
      this.deps.metrics?.transaction(this.deps.listener, 'deferred', (performance.now() - started) / 1000);
      return [replyError(REPLIES.spoolFailure)];
    }
    try {
      const message = await data.load();
      const { outcomes, replies, result } = await this.deps.transactions.deliver(open, message);
      this.countTransaction(outcomes, replies, started);
      const results = outcomes.map((o, i): [RecipientOutcome, Reply] => [o, replies[i]]);
      if (this.deps.listener === 'lmtp') {
        this.logTransaction(state, data.size, started, results, undefined, [], result.decisions);
        return [null, replies.map(toLmtpResponse)];
      }
      const { reply, dropped } = singleReply(outcomes, replies);
      this.logTransaction(state, data.size, started, results, dropped.length ? 'refused copies dropped' : undefined, dropped, result.decisions);
      // smtp-server takes an SMTP refusal as the error argument, an acceptance as the message.
      return reply.code >= 400 ? [replyError(reply)] : [null, `${reply.enhanced} ${reply.text}`];
    } catch (err) {
      this.deps.log.error({ err, txn: txn.id }, 'message processing failed');
      this.deps.metrics?.transaction(this.deps.listener, 'failed', (performance.now() - started) / 1000);
      return [replyError(REPLIES.storeFailure)];
    }
  }

  /** Per-recipient results and the transaction's outcome, for /metrics. */
  private countTransaction(outcomes: RecipientOutcome[], replies: Reply[], started: number): void {
    const metrics = this.deps.metrics;
    if (!metrics) return;
    const { listener } = this.deps;
    outcomes.forEach((o, i) => {
      const code = replies[i].code;
      const stored = o.kind === 'stored' ? (o.duplicate ? 'duplicate' : 'stored') : undefined;
      metrics.recipient(listener, 'data', stored ?? (code >= 500 ? 'rejected' : 'deferred'));
    });
    const classes = new Set(replies.map((r) => Math.floor(r.code / 100)));
    const outcome = classes.size > 1 ? 'partial' : classes.has(2) ? 'delivered' : classes.has(4) ? 'deferred' : 'rejected';
    metrics.transaction(listener, outcome, (performance.now() - started) / 1000);
  }

  private logTransaction(
    state: SessionState,
    bytes: number,
    started: number,
    results: [RecipientOutcome, Reply][],
    note?: string,
    dropped: string[] = [],
    decisions: readonly Decision[] = [],
  ): void {
    // The line's fields are built only for a logger that writes them (a bench runs at warn).
    if (!this.deps.log.isLevelEnabled('info')) return;
    const fields = transactionLogFields(state, state.open!.transaction, bytes, results, decisions, dropped);
    this.deps.log.info({ ...fields, listener: this.deps.listener, ms: Math.round(performance.now() - started), note }, 'transaction');
  }
}

function toLmtpResponse(reply: Reply): Error | string {
  return reply.code >= 400 ? replyError(reply) : `${reply.enhanced} ${reply.text}`;
}
