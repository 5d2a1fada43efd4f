import type { EventEmitter } from 'node:events';
import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerSession } from 'smtp-server';
import type { DeliveryReport, OpenTransaction, TransactionCore } from '../transaction/transaction-core.js';
import type { ReceivedMessage } from '../transaction/received-message.js';
import type { AttemptReport } from '../queue/attempt-runner.js';
import type { SearchIndex } from '../search/search-index.js';
import type { MessageStore } from '../store/message-store.js';
import type { Delivery, DeliveryResult, OutboxItem } from '../store/types.js';
import type { AuthResult, Metrics } from './metrics.js';
import { inboundOutcome } from './inbound-outcome.js';
import { reasonClass } from './reason-class.js';

/** Told after each call: the method, whether it resolved, its latency, its arguments and result. */
type Observe = (operation: string, ok: boolean, seconds: number, args: unknown[], result: unknown) => void;

/**
 * Wraps an object so that every async method call is timed and reported as `observe(method,
 * ok, seconds)`. A proxy rather than a hand-written decorator: the store and index interfaces grow
 * with every adapter feature, and each new method is measured without touching this file.
 * Errors pass through unchanged; sync results are returned as they are, untimed.
 */
export function timed<T extends object>(target: T, observe: Observe): T {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = (...args: unknown[]) => {
          const started = performance.now();
          const result = method.apply(obj, args);
          if (!(result instanceof Promise)) return result;
          const seconds = () => (performance.now() - started) / 1000;
          return result.then(
            (ok: unknown) => (observe(prop, true, seconds(), args, ok), ok),
            (err: unknown) => {
              observe(prop, false, seconds(), args, err);
              throw err;
            },
          );
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

/**
 * The store as the core sees it, with every call's latency in hermod_store_duration_seconds,
 * failures in hermod_store_errors_total and the bytes of new entries in hermod_stored_bytes_total.
 * The indexer lag is the time since the outbox was last seen empty, by the indexer's own reads
 * or by a scrape: a backlog that drains shows 0 again at once, one that is stuck keeps growing.
 */
export function instrumentStore(store: MessageStore, metrics: Metrics): MessageStore {
  let caughtUpAt = Date.now();
  metrics.setOutboxSource(() => store.outboxLength());
  metrics.setIndexLagSource(async () => {
    if ((await store.outboxLength()) === 0) caughtUpAt = Date.now();
    return (Date.now() - caughtUpAt) / 1000;
  });
  return timed(store, (op, ok, s, args, result) => {
    metrics.storeCall(op, ok, s);
    if (!ok) return;
    if (op === 'deliver' && !(result as DeliveryResult).duplicate) metrics.stored((args[0] as Delivery).raw.length);
    if (op === 'pendingOutbox' && (result as OutboxItem[]).length === 0) caughtUpAt = Date.now();
  });
}

/**
 * The transaction core as the listeners see it, counting the bytes of every message delivered
 * through it in hermod_received_bytes_total and each recipient's outcome in
 * hermod_inbound_recipients_total. Deliveries the outbound queue makes to local mailboxes
 * (kind `local`) are not inbound traffic and are left out.
 */
export function instrumentTransactions(core: TransactionCore, metrics: Metrics): TransactionCore {
  return timed(core, (op, ok, _s, args, result) => {
    const open = args[0] as OpenTransaction;
    if (op !== 'deliver' || open.kind === 'local') return;
    const message = args[1] as Buffer | ReceivedMessage;
    metrics.received(open.session.listener, Buffer.isBuffer(message) ? message.length : message.raw.length);
    if (!ok) return;
    for (const o of (result as DeliveryReport).outcomes) {
      const { outcome, reason } = inboundOutcome(o);
      metrics.inboundRecipient(open.session.listener, outcome, reason);
    }
  });
}

/**
 * Counts what each outbound attempt did from the delivery worker's `attempt` events, so the
 * queue code itself carries no metrics: per recipient that was pending before the attempt, its
 * outcome and the reason class of its reply.
 */
export function observeOutbound(worker: EventEmitter, metrics: Metrics): void {
  worker.on('attempt', (report: AttemptReport) => {
    const { job } = report;
    metrics.outboundAttempt(report.outcome, job.local);
    for (const r of report.recipients) {
      if (job.recipients.find((x) => x.address === r.address)?.status !== 'pending') continue;
      const expired = report.outcome === 'expired' && r.status === 'failed' && !((r.lastCode ?? 0) >= 500);
      const outcome = r.status === 'delivered' ? 'delivered' : r.status === 'pending' ? 'deferred' : expired ? 'expired' : 'bounced';
      metrics.outboundRecipient(outcome, expired ? 'expired' : reasonClass(r.lastCode, r.lastResponse), job.local);
    }
  });
}

type AuthDone = (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void;
type OnAuth = (auth: SMTPServerAuthentication, session: SMTPServerSession, done: AuthDone) => void;

/** Replaces a handler's onAuth with one that counts each attempt's result in hermod_auth_attempts_total. */
export function instrumentAuth(handler: { onAuth?: OnAuth }, metrics: Metrics): void {
  const onAuth = handler.onAuth;
  if (!onAuth) return;
  handler.onAuth = (auth, session, done) =>
    onAuth(auth, session, (err, response) => {
      metrics.auth(authResult(err));
      done(err, response);
    });
}

/** The result by the reply smtp-server sends: 535 wrong credentials, 454 throttled, 538 no TLS. */
function authResult(err: Error | null | undefined): AuthResult {
  if (!err) return 'success';
  const code = (err as { responseCode?: number }).responseCode;
  return code === 535 ? 'failure' : code === 454 ? 'throttled' : code === 538 ? 'tls_required' : 'error';
}

/** The search index with every call's latency in hermod_index_duration_seconds. */
export function instrumentSearch(index: SearchIndex, metrics: Metrics): SearchIndex {
  return timed(index, (op, ok, s) => metrics.indexCall(op, ok, s));
}
