import type { SmtpSession } from './smtp-session.js';

/** An open session and what was established when it was opened. */
export interface PooledSession<M> {
  session: SmtpSession;
  /** Facts of the connection (peer name, policy), returned with the session on reuse. */
  meta: M;
  /** The RSET sent when the session came back: true once answered with 2xx. */
  reset?: Promise<boolean>;
}

/** Limits of the connection cache. */
export interface SessionPoolOptions {
  /** Idle sessions kept per destination. */
  maxIdlePerDestination: number;
  /** An idle session older than this is closed (Postfix: smtp_connection_cache_time_limit). */
  idleMs: number;
  /** Messages per session before it is closed, so one connection never lives for ever. */
  maxMessagesPerSession: number;
  /** A session idle for longer than this is checked with RSET before reuse. @defaultValue 1000 */
  probeAfterMs?: number;
}

/**
 * Open SMTP sessions kept per destination (smarthost, or MX domain with its policy), so the next
 * message to the same place goes out on a connection already past greeting, EHLO, STARTTLS and
 * AUTH, after an RSET — the connection cache that lets Postfix relay without a handshake per
 * message. Only sessions whose last transaction ended cleanly come back here.
 *
 * A session whose last message was accepted needs no RSET (the peer reset its state with the
 * 2xx to the body), unless it sat idle for longer than `probeAfterMs`: then an RSET checks it
 * is still alive before it is handed out. Any other session gets its RSET when it comes back,
 * so the round trip overlaps the settling of the job just delivered rather than delaying the
 * next message. A caller that finds a reused session dead before any reply may open a new one
 * (see RemoteDeliverer): nothing was sent on it.
 */
export class SessionPool<M> {
  private readonly idle = new Map<string, PooledSession<M>[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: SessionPoolOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, options.idleMs)).unref();
  }

  /** An idle session for the destination, reset and ready for MAIL FROM, or null. */
  async take(destination: string): Promise<PooledSession<M> | null> {
    const list = this.idle.get(destination);
    while (list && list.length > 0) {
      const entry = list.pop()!;
      if (list.length === 0) this.idle.delete(destination);
      if (!entry.session.usable || Date.now() - entry.session.idleSince > this.options.idleMs) {
        entry.session.close();
        continue;
      }
      const idleFor = Date.now() - entry.session.idleSince;
      const reset = entry.reset ?? (idleFor > (this.options.probeAfterMs ?? 1000) ? resetOf(entry.session) : Promise.resolve(true));
      if ((await reset) && entry.session.usable) return { session: entry.session, meta: entry.meta };
      entry.session.close();
    }
    return null;
  }

  /** Gives a session back after a clean transaction; closes it when the cache is full. */
  give(destination: string, entry: PooledSession<M>): void {
    const list = this.idle.get(destination) ?? [];
    const full = list.length >= this.options.maxIdlePerDestination;
    if (full || !entry.session.usable || entry.session.messages >= this.options.maxMessagesPerSession) {
      entry.session.close();
      return;
    }
    entry.session.idleSince = Date.now();
    const clean = entry.session.lastEnding === 'clean';
    list.push({ session: entry.session, meta: entry.meta, ...(clean ? {} : { reset: resetOf(entry.session) }) });
    this.idle.set(destination, list);
  }

  /** Closes every idle session (shutdown). */
  close(): void {
    clearInterval(this.sweeper);
    for (const list of this.idle.values()) for (const entry of list) entry.session.close();
    this.idle.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [destination, list] of this.idle) {
      const keep = list.filter((e) => e.session.usable && now - e.session.idleSince <= this.options.idleMs);
      for (const e of list) if (!keep.includes(e)) e.session.close();
      if (keep.length > 0) this.idle.set(destination, keep);
      else this.idle.delete(destination);
    }
  }
}

/** RSET on the session: true when answered with 2xx, false on any failure (never rejects). */
function resetOf(session: SmtpSession): Promise<boolean> {
  return session.reset().then(
    () => true,
    () => false,
  );
}
