import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { formatReplyText, hasEnhancedCode, REPLIES, type Reply } from '../mail/replies.js';
import type { NetworkList } from '../net/network-list.js';
import { checkParameters, parameterTables, readMailDsn, readRcptDsn, type ParameterValidator, type ParameterValue } from './envelope-parameters.js';

type Callback = () => void;
/** The smtp-server internals the overrides below use. */
interface ConnectionInternals {
  _parseAddressCommand(name: string, command: Buffer | string): false | { address: string; args?: Record<string, ParameterValue> | false };
  hostNameAppearsAs: string | false;
  session: { envelope: { mailFrom?: unknown; smtpUtf8?: boolean } };
  _resetSession(): void;
}
import { adoptForwardedHelo, forwardingAllowed, type ForwardingTrust } from './xclient.js';

/**
 * smtp-server picks an enhanced status code from the basic code alone (every 550 says "no such user").
 * Hermod's replies carry their own precise code at the front of the text, so a reply whose
 * text already starts with one is sent as-is; the library's few fixed replies Hermod words
 * differently are mapped here, so that replies.ts stays the one source of codes.
 */
class HermodSmtpConnection extends SMTPConnection {
  send(code: number, data?: string | string[], context?: string | false): void {
    if (typeof data === 'string' && hasEnhancedCode(data)) return super.send(code, data, false);
    if (code === 500 && data === 'Error: command not recognized') {
      return super.send(code, formatReplyText(REPLIES.unknownCommand), false);
    }
    if (code === 538 && data === 'Error: Must issue a STARTTLS command first') {
      return super.send(code, formatReplyText(REPLIES.authRequiresTls), false);
    }
    return super.send(code, data, context);
  }

  /**
   * MAIL and RCPT parameters are checked against Hermod's table before smtp-server sees them; the
   * DSN parameters are known only on a listener that offers DSN (hideDSN off), and their values
   * are checked here too, so the refusal is Hermod's precise 501 5.5.4 rather than the library's.
   */
  handler_MAIL(command: Buffer, callback: Callback): void {
    if (this.refuseNonUtf8(command, REPLIES.senderNotUtf8, callback)) return;
    if (!this.refuseParameters('mail from', command, this.parameterTables().mail, callback)) super.handler_MAIL(command, callback);
  }

  handler_RCPT(command: Buffer, callback: Callback): void {
    if (this.refuseNonUtf8(command, REPLIES.recipientNotUtf8, callback)) return;
    if (!this.refuseParameters('rcpt to', command, this.parameterTables().rcpt, callback)) super.handler_RCPT(command, callback);
  }

  /**
   * smtp-server decodes the command as UTF-8, so a byte like 0xFF became U+FFFD and the envelope
   * recorded an address the client never sent. Such an address is refused instead.
   */
  private refuseNonUtf8(command: Buffer, reply: Reply, callback: Callback): boolean {
    if (isUtf8(command)) return false;
    super.send(reply.code, formatReplyText(reply), false);
    callback();
    return true;
  }

  private parameterTables(): ReturnType<typeof parameterTables> {
    return parameterTables(this.offersDsn);
  }

  private get offersDsn(): boolean {
    return !(this._server as unknown as { options: { hideDSN?: boolean } }).options.hideDSN;
  }

  /**
   * Postfix sends `HELO=[UNAVAILABLE]` when it does not know the client's HELO (local pickup, its
   * own DSNs); smtp-server then forgets the session's LHLO and refuses MAIL. The forwarded HELO
   * is read per transaction by the session handler (forwarded-attributes.ts); the LHLO the MTA
   * itself gave stays what the protocol counts.
   */
  handler_XFORWARD(command: Buffer, callback: Callback): void {
    const self = this as unknown as ConnectionInternals;
    const ownHelo = self.hostNameAppearsAs;
    super.handler_XFORWARD(command, callback);
    if (!self.hostNameAppearsAs && ownHelo) {
      self.hostNameAppearsAs = ownHelo;
      self._resetSession();
    }
  }

  /** Sends the refusal and returns true when a parameter is unknown or has a bad value. */
  private refuseParameters(name: string, command: Buffer, known: Record<string, ParameterValidator>, callback: Callback): boolean {
    const parsed = (this as unknown as ConnectionInternals)._parseAddressCommand(name, command);
    const dsn = parsed && this.offersDsn ? (name === 'mail from' ? readMailDsn(parsed.args) : readRcptDsn(parsed.args)) : null;
    const reply = parsed ? (checkParameters(parsed.args, known) ?? dsn?.reply ?? this.smtputf8Refusal(name, parsed)) : null;
    if (!reply) return false;
    super.send(reply.code, formatReplyText(reply), false);
    callback();
    return true;
  }

  /**
   * A non-ASCII address in a transaction whose MAIL FROM did not carry SMTPUTF8 (RFC 6531 §3.5):
   * the client has not said the message may carry UTF-8 envelopes, and a relay onwards could not
   * downgrade it. RCPT before MAIL is left to smtp-server's 503.
   */
  private smtputf8Refusal(name: string, parsed: { address: string; args?: Record<string, ParameterValue> | false }): Reply | null {
    if (isAscii(parsed.address)) return null;
    if (name === 'mail from') return parsed.args && parsed.args.SMTPUTF8 === true ? null : REPLIES.senderNeedsSmtputf8;
    const envelope = (this as unknown as ConnectionInternals).session.envelope;
    return !envelope.mailFrom || envelope.smtpUtf8 ? null : REPLIES.recipientNeedsSmtputf8;
  }

  /** XCLIENT and XFORWARD by CIDR, each from its own trusted list (see xclient.ts). */
  override _proxyCommandAllowed(command: string, option: 'useXClient' | 'useXForward'): boolean {
    return forwardingAllowed(this, (this._server as unknown as HermodSmtpServer).forwardingTrust, option, command);
  }

  override handler_EHLO(command: Buffer, callback: () => void): void {
    super.handler_EHLO(command, callback);
    adoptForwardedHelo(this);
  }
}

/** Options for a connection handed over after Hermod's own accept step (PROXY decoding). */
export interface HandoverOptions {
  id: string;
  remoteAddress: string;
  remotePort: number;
}

/** smtp-server whose connections come from Hermod's accept step instead of its own socket. */
export class HermodSmtpServer extends SMTPServer {
  /**
   * @param forwardingTrust MTAs whose XFORWARD / XCLIENT is honoured; each command is only
   *   advertised to them (smtp-server's `useXForward` / `useXClient` must be on for it to exist)
   */
  constructor(
    options: SMTPServerOptions,
    readonly forwardingTrust: ForwardingTrust = {},
  ) {
    super(options);
  }

  /** Starts an SMTP session on an accepted socket. */
  override connect(socket: Socket, socketOptions: HandoverOptions): void {
    // Mirrors SMTPServer.connect with Hermod's connection class.
    const self = this as unknown as {
      connections: Set<SMTPConnection>;
      _onError(err: Error): void;
      _onClientConnect(data: unknown): void;
    };
    const connection = new HermodSmtpConnection(this as never, socket as never, socketOptions as never);
    self.connections.add(connection);
    connection.on('error', (err: Error) => self._onError(err));
    connection.on('connect', (data: unknown) => self._onClientConnect(data));
    connection.init();
  }
}

/** True when every character is 7-bit ASCII. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
