import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { HermodSmtpServer } from './hermod-smtp-server.js';
import { NetworkList } from '../net/network-list.js';
import { looksLikeProxyHeader, readProxyHeader } from './proxy-header.js';
import type { SMTPServerOptions } from 'smtp-server';
import type { SessionHandler } from './session-handler.js';
import type { PeerInfo } from './session-state.js';
import { formatReplyText, REPLIES } from '../mail/replies.js';

/** The smtp-server callbacks a listener hands connections to (SessionHandler, SubmissionHandler). */
export type ListenerHandler = Pick<SessionHandler, 'onConnect' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose'> & {
  onAuth?: SMTPServerOptions['onAuth'];
  /** Messages in progress, for graceful shutdown. */
  data: { readonly busy: boolean; drain(): Promise<void> };
};

export interface ListenerOptions {
  kind: 'lmtp' | 'smtp' | 'submission';
  host: string;
  port: number;
  config: HermodConfig;
  handler: ListenerHandler;
  peers: Map<string, PeerInfo>;
  log: Logger;
  /** smtp-server options applied last (the submission listener enables AUTH here). */
  serverOptions?: Partial<SMTPServerOptions>;
  /** TLS from the first byte (port 465 style), after the PROXY header. */
  implicitTls?: boolean;
}

/**
 * One listening socket. Hermod accepts the TCP connection itself so that a PROXY header is
 * decoded (from trusted peers only) before smtp-server sees a byte, then hands the socket over
 * with the client address the header named.
 */
export class Listener {
  private readonly server: Server;
  private readonly smtp: HermodSmtpServer;
  private readonly proxyTrusted: NetworkList;
  private closing = false;

  constructor(private readonly options: ListenerOptions) {
    const { config, handler, kind } = options;
    this.proxyTrusted = new NetworkList(config.proxy.trusted, 'proxy.trusted');
    const xforwardTrusted = new NetworkList(config.xforward.trusted, 'xforward.trusted');
    // XCLIENT hands the session to another client: never on submission, where it would bypass AUTH.
    const xclientTrusted = new NetworkList(kind === 'submission' ? [] : config.xclient.trusted, 'xclient.trusted');
    const tls = loadTls(config);
    this.smtp = new HermodSmtpServer({
      lmtp: kind === 'lmtp',
      name: config.hostname,
      banner: 'Hermod',
      size: config.limits.maxMessageBytes,
      rejectOversized: true,
      maxCommandLength: 512,
      authOptional: true,
      disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      // DSN (RFC 3461) on submission, and on SMTP unless smtp.dsn is off. LMTP does not offer it:
      // the MTA in front then reports that hop itself, as for any next hop without DSN.
      hideDSN: kind === 'lmtp' || (kind === 'smtp' && !config.smtp.dsn),
      hideENHANCEDSTATUSCODES: false,
      hideREQUIRETLS: true,
      ...(tls ?? {}),
      disableReverseLookup: true,
      maxClients: config.limits.maxConnections,
      socketTimeout: config.limits.socketTimeoutMs,
      closeTimeout: config.shutdownTimeoutMs,
      logger: false,
      onConnect: handler.onConnect,
      onMailFrom: handler.onMailFrom,
      onRcptTo: handler.onRcptTo,
      onData: handler.onData,
      onClose: handler.onClose,
      ...(handler.onAuth ? { onAuth: handler.onAuth } : {}),
      // Offered per connection, to xforward.trusted / xclient.trusted only (see xclient.ts).
      useXForward: !xforwardTrusted.empty,
      useXClient: !xclientTrusted.empty,
      ...(options.serverOptions ?? {}),
    } as ConstructorParameters<typeof HermodSmtpServer>[0], { xforward: xforwardTrusted, xclient: xclientTrusted });
    this.smtp.on('error', (err: Error) => options.log.debug({ err, listener: kind }, 'connection error'));
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Graceful stop: refuse new connections, let messages in flight finish, then close sessions. */
  async close(): Promise<void> {
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // From here smtp-server answers new commands with 421; a DATA in progress goes on.
    this.smtp.close(() => undefined);
    await this.waitForTransactions(this.options.config.shutdownTimeoutMs);
    for (const connection of this.smtp.connections) {
      connection.send(421, formatReplyText(REPLIES.shuttingDown), false);
      connection.close();
    }
    await stopped;
  }

  private async waitForTransactions(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const busy = () =>
      [...this.smtp.connections].some((c) => (c as unknown as { _dataStream: unknown })._dataStream) ||
      this.options.handler.data.busy;
    while (busy() && Date.now() < deadline) {
      await Promise.race([this.options.handler.data.drain(), new Promise((r) => setTimeout(r, 50))]);
    }
  }

  private accept(socket: Socket): void {
    const log = this.options.log;
    socket.on('error', (err) => log.debug({ err }, 'socket error'));
    if (this.closing) {
      socket.end(`421 ${formatReplyText(REPLIES.shuttingDown)}\r\n`);
      return;
    }
    const peerAddress = unmapped(socket.remoteAddress ?? '');
    if (!this.proxyTrusted.contains(peerAddress)) {
      this.handover(socket, peerAddress, socket.remotePort ?? 0, { peerAddress, proxied: false });
      this.refuseUntrustedHeader(socket, peerAddress);
      return;
    }
    const { timeoutMs, required } = this.options.config.proxy;
    readProxyHeader(socket, timeoutMs).then(
      (info) => {
        if (!info && required) {
          log.warn({ peer: peerAddress, listener: this.options.kind }, 'PROXY header required but none received; closing');
          return void socket.destroy();
        }
        const client = info?.sourceAddress ?? peerAddress;
        const port = info?.sourceAddress ? info.sourcePort : (socket.remotePort ?? 0);
        this.handover(socket, client, port, { peerAddress, proxied: !!info?.sourceAddress });
      },
      (err: Error) => {
        log.warn({ peer: peerAddress, listener: this.options.kind, reason: err.message }, 'bad PROXY header; closing');
        socket.destroy();
      },
    );
  }

  /** A PROXY header from a peer that may not send one is an attempt to forge the client address. */
  private refuseUntrustedHeader(socket: Socket, peerAddress: string): void {
    socket.prependOnceListener('data', (chunk: Buffer) => {
      if (!looksLikeProxyHeader(chunk)) return;
      this.options.log.warn({ peer: peerAddress, listener: this.options.kind }, 'PROXY header from untrusted peer; closing');
      socket.destroy();
    });
  }

  private handover(socket: Socket, clientAddress: string, clientPort: number, peer: PeerInfo): void {
    const id = randomBytes(8).toString('hex');
    const handover = { id, remoteAddress: clientAddress, remotePort: clientPort };
    if (!this.options.implicitTls) {
      this.options.peers.set(id, { ...peer, socket });
      return this.smtp.connect(socket, handover);
    }
    this.options.peers.set(id, peer);
    // smtp-server's own handshake step, as its implicit-TLS listener runs it before connect().
    const upgrade = (this.smtp as unknown as { _upgrade(s: Socket, cb: (err: Error | null, tls: Socket) => void): void })._upgrade;
    upgrade.call(this.smtp, socket, (err, tlsSocket) => {
      if (err) return void socket.destroy();
      this.options.peers.set(id, { ...peer, socket: tlsSocket });
      this.smtp.connect(tlsSocket, handover);
    });
  }
}

function loadTls(config: HermodConfig): { key: Buffer; cert: Buffer } | null {
  if (!config.tls.key || !config.tls.cert) return null;
  return { key: readPem(config.tls.key, 'tls.key'), cert: readPem(config.tls.cert, 'tls.cert') };
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
