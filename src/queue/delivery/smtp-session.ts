import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DeliveryError } from '../../errors.js';

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
  socketTimeoutMs: number;
  auth?: { user: string; pass: string };
  /** Checked right after the TLS handshake (DANE); a returned message aborts before MAIL FROM. */
  checkPeer?: (socket: TLSSocket) => string | null;
}

/**
 * One SMTP client session with nodemailer's SMTPConnection, as promises: connect (with
 * opportunistic or required STARTTLS), optional AUTH, one transaction with per-recipient replies.
 */
export class SmtpSession {
  private readonly connection: SMTPConnection;
  private failure: Error | null = null;

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
    this.connection.on('error', (err: Error) => (this.failure = err));
  }

  /** Greeting, EHLO, STARTTLS when offered (or required), the peer check, AUTH when configured. */
  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.connection.once('error', reject);
      this.connection.connect((err) => (err ? reject(err) : resolve()));
    }).catch((err: Error) => {
      throw asDeliveryError(err, 'connect');
    });
    const socket = (this.connection as unknown as { _socket: Socket })._socket;
    if (this.options.requireTls && !(socket as TLSSocket).encrypted) {
      throw new DeliveryError('TLS required by policy but not established', 0);
    }
    const problem = this.options.checkPeer && (socket as TLSSocket).encrypted ? this.options.checkPeer(socket as TLSSocket) : null;
    if (problem) throw new DeliveryError(problem, 0);
    if (this.options.auth) {
      const auth = this.options.auth;
      await new Promise<void>((resolve, reject) =>
        this.connection.login({ user: auth.user, pass: auth.pass }, (err) => (err ? reject(asDeliveryError(err, 'AUTH')) : resolve())),
      );
    }
  }

  /** True when the session runs over TLS. */
  get encrypted(): boolean {
    return !!((this.connection as unknown as { _socket: Socket })._socket as TLSSocket)?.encrypted;
  }

  /**
   * Sends one message to the recipients; resolves with one reply per recipient (never rejects
   * for SMTP refusals: a refusal is a reply too).
   */
  async send(sender: string, recipients: string[], body: Buffer): Promise<RecipientReply[]> {
    return new Promise((resolve) => {
      this.connection.send({ from: sender || false, to: recipients, size: body.length }, body, (err, info) => {
        if (err) return resolve(repliesFromError(err, recipients));
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

  close(): void {
    try {
      this.connection.quit();
    } catch {
      this.connection.close();
    }
  }

  /** The error that ended the session, if any (for logs). */
  get lastError(): Error | null {
    return this.failure;
  }
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

function asDeliveryError(err: Error & { responseCode?: number; response?: string }, stage: string): DeliveryError {
  const text = err.response ?? `${stage}: ${err.message}`;
  return new DeliveryError(text, err.responseCode ?? 0, { cause: err });
}
