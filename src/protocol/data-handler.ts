import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { REPLIES, replyError, type Reply } from '../mail/replies.js';
import { singleReply, type RecipientOutcome } from '../transaction/recipient-outcome.js';
import { InFlightWork, readMessage } from './data-intake.js';
import type { ListenerDeps, SessionState } from './session-state.js';

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

  private async collectAndProcess(stream: SMTPServerDataStream, session: SMTPServerSession, done: DataDone): Promise<void> {
    const started = performance.now();
    const state = this.stateOf(session.id)!;
    const open = state.open!;
    const txn = open.transaction;
    let raw: Buffer;
    try {
      raw = await readMessage(stream, this.deps.config.limits.maxMessageBytes);
    } catch (err) {
      return done(err as Error);
    }
    // smtp-server refuses an oversized message itself (message too big); nothing is processed.
    if (stream.sizeExceeded) {
      this.logTransaction(state, raw.length, started, [], 'too-big');
      this.deps.metrics?.transaction(this.deps.listener, 'too_big', (performance.now() - started) / 1000);
      return done(null);
    }
    try {
      const { outcomes, replies } = await this.deps.transactions.deliver(open, raw);
      this.countTransaction(outcomes, replies, started);
      if (this.deps.listener === 'lmtp') {
        this.logTransaction(state, raw.length, started, outcomes.map((o, i) => [o, replies[i]]));
        return done(null, replies.map(toLmtpResponse));
      }
      const { reply, dropped } = singleReply(outcomes, replies);
      this.logTransaction(state, raw.length, started, outcomes.map((o, i) => [o, replies[i]]), dropped.length ? 'refused copies dropped' : undefined, dropped);
      // smtp-server takes an SMTP refusal as the error argument, an acceptance as the message.
      if (reply.code >= 400) done(replyError(reply));
      else done(null, `${reply.enhanced} ${reply.text}`);
    } catch (err) {
      this.deps.log.error({ err, txn: txn.id }, 'message processing failed');
      this.deps.metrics?.transaction(this.deps.listener, 'failed', (performance.now() - started) / 1000);
      done(replyError(REPLIES.storeFailure));
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
    size: number,
    started: number,
    results: [RecipientOutcome, Reply][],
    note?: string,
    dropped: string[] = [],
  ): void {
    const txn = state.open!.transaction;
    this.deps.log.info(
      {
        txn: txn.id,
        listener: this.deps.listener,
        client: state.info.clientAddress,
        peer: state.info.proxied ? state.info.peerAddress : undefined,
        relay: state.relayAddress,
        from: txn.mailFrom,
        rcpt: results.map(([o, r]) => ({
          to: o.recipient.address,
          reply: `${r.code} ${r.enhanced}`,
          entry: o.kind === 'stored' ? o.entryId : undefined,
          duplicate: o.kind === 'stored' && o.duplicate ? true : undefined,
          dropped: dropped.includes(o.recipient.address) ? true : undefined,
        })),
        size,
        ms: Math.round(performance.now() - started),
        note,
      },
      'transaction',
    );
  }
}

function toLmtpResponse(reply: Reply): Error | string {
  return reply.code >= 400 ? replyError(reply) : `${reply.enhanced} ${reply.text}`;
}
