import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { InFlightWork, readMessage } from './data-intake.js';
import type { RecipientOutcome } from '../pipeline/message-processor.js';
import type { Decision } from '../pipeline/decision.js';
import { receivedHeader } from './received-header.js';
import { transactionLogFields } from './transaction-log.js';
import { replyError, replyForOutcome, type Reply } from './replies.js';
import type { SessionHandlerDeps } from './session-handler.js';
import type { SessionState } from './session-state.js';

type DataDone = (err: Error | null, message?: unknown) => void;

/**
 * DATA: reads the message, hands it to the processor, and answers: in LMTP one reply per
 * recipient in RCPT order; in SMTP one reply, 250 only when every recipient's copy is stored.
 */
export class DataHandler {
  private readonly inFlight = new InFlightWork();

  constructor(
    private readonly deps: SessionHandlerDeps,
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

  private async collectAndProcess(stream: SMTPServerDataStream, session: SMTPServerSession, done: DataDone): Promise<void> {
    const started = performance.now();
    const state = this.stateOf(session.id)!;
    const txn = state.transaction!;
    let raw: Buffer;
    try {
      raw = await readMessage(stream, this.deps.config.limits.maxMessageBytes);
    } catch (err) {
      return done(err as Error);
    }
    // smtp-server answers 552 5.3.4 itself for an oversized message; nothing is processed.
    if (stream.sizeExceeded) {
      this.logTransaction(state, raw.length, started, [], 'too-big');
      this.deps.metrics?.transaction(this.deps.listener, 'too_big', (performance.now() - started) / 1000);
      return done(null);
    }
    try {
      const received = receivedHeader(state.info, this.deps.config.hostname, txn.id, txn.recipients.map((r) => r.address));
      const prior = [...state.sessionLedger, ...state.transactionLedger];
      const result = await this.deps.processor.process(state.info, txn, raw, received, prior);
      const replies = result.outcomes.map((o) => replyForOutcome(o));
      this.logTransaction(state, raw.length, started, result.outcomes.map((o, i) => [o, replies[i]]), undefined, result.decisions);
      this.countTransaction(result.outcomes, replies, started);
      if (this.deps.listener === 'lmtp') return done(null, replies.map(toLmtpResponse));
      const response = smtpResponse(replies);
      // smtp-server takes an SMTP refusal as the error argument, an acceptance as the message.
      if (response instanceof Error) done(response);
      else done(null, response);
    } catch (err) {
      this.deps.log.error({ err, txn: txn.id }, 'message processing failed');
      this.deps.metrics?.transaction(this.deps.listener, 'failed', (performance.now() - started) / 1000);
      done(replyError(replyForOutcome({ kind: 'store-failed', recipient: txn.recipients[0], error: err as Error })));
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
    decisions?: readonly Decision[],
  ): void {
    const fields = transactionLogFields(state, state.transaction!, bytes, results, decisions);
    this.deps.log.info({ ...fields, listener: this.deps.listener, ms: Math.round(performance.now() - started), note }, 'transaction');
  }
}

function toLmtpResponse(reply: Reply): Error | string {
  return reply.code >= 400 ? replyError(reply) : `${reply.enhanced} ${reply.text}`;
}

/**
 * SMTP has one reply for all recipients. All stored → 250. Otherwise, when every recipient
 * got the same refusal, that refusal; in any mixed case 451, so the client retries and the
 * copies already stored are recognised as duplicates rather than written twice.
 */
function smtpResponse(replies: Reply[]): string | Error {
  if (replies.every((r) => r.code < 400)) return `${replies[0].enhanced} ${replies[0].text}`;
  const first = replies[0];
  if (replies.every((r) => r.code === first.code && r.enhanced === first.enhanced)) return replyError(first);
  return replyError({ code: 451, enhanced: '4.3.0', text: 'Not all recipients could take the message, try again later' });
}
