import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DeliveryError } from '../../errors.js';
import { notifyParameter, type EnvelopeDsn } from '../../mail/dsn-parameters.js';
import type { JobRecipient } from '../types.js';

/** The reply for each recipient after one SMTP transaction; code 0 means no reply (fault). */
export interface RecipientReply {
  address: string;
  code: number;
  response: string;
}

/** How to reach one peer over SMTP. */
export interface SessionOptions {
  /** A socket mx-connect opened; without it nodemailer connects to host:port itself. */
  socket?: Socket;
  host: string;
  port: number;
  /** Implicit TLS (smarthost on 465). */
  secure?: boolean;
  /** STARTTLS must succeed, or nothing is sent. */
  requireTls: boolean;
  /** Check the certificate chain and name (MTA-STS enforce, smarthost). */
  verifyCertificate: boolean;
  /** Name the certificate must carry (the MX host name). */
  servername?: string;
  ca?: Buffer;
  heloName: string;
  connectTimeoutMs: number;
  /**
   * Idle time allowed between two replies. It is also the wait for the reply after the message
   * body, which RFC 5321 §4.5.3.2.6 puts at 10 minutes at least: giving up sooner duplicates
   * mail on slow receivers.
   */
  socketTimeoutMs: number;
  auth?: { user: string; pass: string };
  /** Checked right after the TLS handshake (DANE); a returned message aborts before MAIL FROM. */
  checkPeer?: (socket: TLSSocket) => string | null;
}

/** One message to send on an open session. */
export interface Envelope {
  sender: string;
  recipients: JobRecipient[];
  dsn?: EnvelopeDsn;
}

/**
 * One SMTP client session with nodemailer's SMTPConnection, as promises: connect (with
 * opportunistic or required STARTTLS), optional AUTH, then any number of transactions with
 * per-recipient replies (PIPELINING when offered). A session that ended cleanly can be reused
 * for the next message after RSET (see SessionPool).
 */
export class SmtpSession {
  private readonly connection: SMTPConnection;
  private broken = false;
  /** Ends the transaction under way with a fault reply (nodemailer's close() never calls back). */
  private cancel: ((why: string) => void) | null = null;
  /** When the session went idle; the pool closes sessions idle too long. */
  idleSince = 0;
  /** Messages sent on this session so far. */
  messages = 0;
  /**
   * How the last transaction ended: `clean` after a 2xx to the message body (the peer's state is
   * reset, RFC 5321 §4.1.1.4), `unanswered` when the connection failed before any reply to it
   * (nothing was sent: the body only goes out after a 354), else `other`.
   */
  lastEnding: 'clean' | 'unanswered' | 'other' = 'other';

  constructor(private readonly options: SessionOptions) {
    const tls = {
      rejectUnauthorized: options.verifyCertificate,
      servername: options.servername,
      ...(options.ca ? { ca: options.ca } : {}),
    };
    this.connection = new SMTPConnection({
      ...(options.socket ? { connection: options.socket } : { host: options.host, port: options.port }),
      secure: options.secure ?? false,
      requireTLS: options.requireTls,
      opportunisticTLS: !options.requireTls,
      name: options.heloName,
      tls,
      connectionTimeout: options.connectTimeoutMs,
      greetingTimeout: options.connectTimeoutMs,
      socketTimeout: options.socketTimeoutMs,
      logger: false,
    });
    this.connection.on('error', () => (this.broken = true));
    this.connection.on('end', () => (this.broken = true));
  }

  /**
   * Greeting, EHLO, STARTTLS when offered (or required), the peer check, AUTH when configured.
   * Any refusal here rejects with a BeforeRecipientsError: it says nothing about the recipients.
   */
  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.connection.once('error', reject);
      this.connection.connect((err) => (err ? reject(err) : resolve()));
    }).catch((err: Error) => {
      throw beforeRecipients(err, 'connect');
    });
    const socket = this.socket;
    if (this.options.requireTls && !(socket as TLSSocket).encrypted) {
      throw new DeliveryError('TLS required by policy but not established', 0);
    }
    const problem = this.options.checkPeer && (socket as TLSSocket).encrypted ? this.options.checkPeer(socket as TLSSocket) : null;
    if (problem) throw new DeliveryError(problem, 0);
    if (this.options.auth) {
      const auth = this.options.auth;
      await new Promise<void>((resolve, reject) =>
        this.connection.login({ user: auth.user, pass: auth.pass }, (err) => (err ? reject(beforeRecipients(err, 'AUTH')) : resolve())),
      );
    }
  }

  private get socket(): Socket {
    return (this.connection as unknown as { _socket: Socket })._socket;
  }

  /** True when the session runs over TLS. */
  get encrypted(): boolean {
    return !!(this.socket as TLSSocket | undefined)?.encrypted;
  }

  /** True when the peer offered the DSN extension (RFC 3461) in its EHLO reply. */
  get supportsDsn(): boolean {
    return ((this.connection as unknown as { _supportedExtensions?: string[] })._supportedExtensions ?? []).includes('DSN');
  }

  /** False once the connection failed or closed. */
  get usable(): boolean {
    return !this.broken && !(this.connection as unknown as { _destroyed?: boolean })._destroyed;
  }

  /**
   * Sends one message; resolves with one reply per recipient (never rejects for SMTP refusals:
   * a refusal is a reply too). With a DSN-capable peer, recipients whose NOTIFY or ORCPT differ
   * go in transactions of their own, since nodemailer sends one set per transaction.
   */
  async send(envelope: Envelope, body: Buffer): Promise<RecipientReply[]> {
    const groups = this.supportsDsn ? groupByDsn(envelope.recipients) : [envelope.recipients];
    const replies: RecipientReply[] = [];
    for (const [i, group] of groups.entries()) {
      if (i > 0) await this.reset();
      replies.push(...(await this.transaction(envelope, group, body)));
      // Only a message of which nothing went out may be sent again on another connection.
      if (i > 0 && this.lastEnding === 'unanswered') this.lastEnding = 'other';
    }
    this.messages += 1;
    return replies;
  }

  private transaction(envelope: Envelope, group: JobRecipient[], body: Buffer): Promise<RecipientReply[]> {
    const recipients = group.map((r) => r.address);
    const first = group[0];
    const dsn =
      envelope.dsn || first.notify || first.orcpt
        ? { ret: envelope.dsn?.ret, envid: envelope.dsn?.envid, notify: notifyParameter(first), orcpt: first.orcpt }
        : undefined;
    this.lastEnding = 'other';
    return new Promise((resolveOnce) => {
      let settled = false;
      const resolve = (replies: RecipientReply[]) => {
        if (settled) return;
        settled = true;
        this.cancel = null;
        resolveOnce(replies);
      };
      this.cancel = (why) => resolve(recipients.map((address) => ({ address, code: 0, response: why })));
      const mail = { from: envelope.sender || false, to: recipients, size: body.length, ...(dsn ? { dsn } : {}) };
      this.connection.send(mail as never, body, (err, info) => {
        if (err) {
          this.broken = true;
          // A refusal after DATA carries no per-recipient errors; those refused at RCPT are on
          // the envelope, and keep their own replies (a 4xx there must not become the 5xx).
          const envelope = (this.connection as unknown as { _envelope?: { rejectedErrors?: unknown[]; accepted?: unknown[] } })._envelope;
          const answered = (err as { responseCode?: number }).responseCode !== undefined || !!envelope?.accepted?.length || !!envelope?.rejectedErrors?.length;
          this.lastEnding = answered ? 'other' : 'unanswered';
          const withRcpt = Object.assign(err, { rejectedErrors: (err as { rejectedErrors?: unknown[] }).rejectedErrors ?? envelope?.rejectedErrors });
          return resolve(repliesFromError(withRcpt, recipients));
        }
        this.lastEnding = /^2/.test(info.response) ? 'clean' : 'other';
        const rejected = new Map((info.rejectedErrors ?? []).map((e) => [(e as { recipient?: string }).recipient ?? '', e]));
        resolve(
          recipients.map((address) => {
            const e = rejected.get(address);
            if (e) return { address, code: e.responseCode ?? 0, response: e.response ?? e.message };
            return { address, code: Number(info.response.slice(0, 3)) || 250, response: info.response };
          }),
        );
      });
    });
  }

  /**
   * RSET: a clean transaction state before the next message on a reused session. Settles also
   * when the connection ends first (nodemailer then drops the pending reply's callback).
   */
  reset(): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: (Error & { responseCode?: number; response?: string }) | null) => {
        if (settled) return;
        settled = true;
        this.connection.removeListener('end', ended);
        if (!err) return resolve();
        this.broken = true;
        reject(beforeRecipients(err, 'RSET'));
      };
      const ended = () => finish(new Error('connection closed'));
      this.connection.once('end', ended);
      this.connection.reset((err) => finish(err ?? null));
    });
  }

  /** QUIT when the session is healthy, else drops the socket. */
  close(): void {
    try {
      if (this.usable) this.connection.quit();
      else this.connection.close();
    } catch {
      this.connection.close();
    }
  }

  /** Drops the socket at once (attempt deadline, lost lease); the transaction under way gets `why`. */
  abort(why: string): void {
    this.broken = true;
    this.cancel?.(why);
    this.connection.close();
  }
}

/**
 * A refusal before any recipient was named: greeting, EHLO, STARTTLS, AUTH or RSET. Like
 * Postfix, Hermod defers the job on these whatever the code, since a 5xx here says something
 * about the session (a rotated password, a peer in trouble), not about the recipients.
 */
export class BeforeRecipientsError extends DeliveryError {}

function beforeRecipients(err: Error & { responseCode?: number; response?: string }, stage: string): DeliveryError {
  const text = err.response ? `${err.response} (during ${stage})` : `${stage}: ${err.message}`;
  return new BeforeRecipientsError(text, err.responseCode ?? 0, { cause: err });
}

/** Recipients with the same NOTIFY and ORCPT, in order of first appearance. */
function groupByDsn(recipients: JobRecipient[]): JobRecipient[][] {
  const groups = new Map<string, JobRecipient[]>();
  for (const r of recipients) {
    const key = `${notifyParameter(r) ?? ''}\u0000${r.orcpt ?? ''}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  return [...groups.values()];
}

/** A failed transaction: per recipient where the server said so, else the same reply for all. */
function repliesFromError(err: Error & { responseCode?: number; response?: string; rejectedErrors?: unknown[] }, recipients: string[]): RecipientReply[] {
  const perRecipient = new Map(
    ((err.rejectedErrors ?? []) as { recipient?: string; responseCode?: number; response?: string; message: string }[]).map((e) => [
      e.recipient ?? '',
      { code: e.responseCode ?? 0, response: e.response ?? e.message },
    ]),
  );
  const common = { code: err.responseCode ?? 0, response: err.response ?? err.message };
  return recipients.map((address) => ({ address, ...(perRecipient.get(address) ?? common) }));
}
