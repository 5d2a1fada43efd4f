import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { formatReplyText, hasEnhancedCode, REPLIES } from './replies.js';
import { adoptForwardedHelo, forwardingAllowed, type ForwardingTrust } from './xclient.js';

/**
 * smtp-server picks an enhanced status code from the basic code alone (550 is always 5.1.1).
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
