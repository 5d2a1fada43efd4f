import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { REPLIES, replyError, type Reply } from '../mail/replies.js';
import { NetworkList } from '../net/network-list.js';
import type { SessionInfo } from '../pipeline/types.js';
import { DataHandler } from './data-handler.js';
import { readMailDsn, readRcptDsn } from './envelope-parameters.js';
import type { EnvelopeDsn } from '../mail/dsn-parameters.js';
import { tlsDetails } from '../mail/tls-details.js';
import { consumeForwarded, forwardedClient, type ClientIdentity } from './forwarded-attributes.js';
import { ClientCounter, type ListenerDeps, type SessionState } from './session-state.js';

type Done = (err?: Error | null) => void;

/**
 * smtp-server's callbacks for the LMTP and SMTP listeners: connection limits, forwarded client
 * attributes and the SMTP verbs, each handed to the transaction core for its decision. DATA
 * goes to DataHandler.
 */
export class SessionHandler {
  private readonly sessions = new Map<string, SessionState>();
  private readonly clients = new ClientCounter();
  /** The MTAs in front of Hermod (proxy.trusted, xforward.trusted): not limited per address. */
  private readonly trustedMtas: NetworkList;
  readonly data: DataHandler;

  constructor(private readonly deps: ListenerDeps) {
    this.data = new DataHandler(deps, (id) => this.sessions.get(id));
    this.trustedMtas = new NetworkList([...deps.config.proxy.trusted, ...deps.config.xforward.trusted], 'proxy.trusted/xforward.trusted');
  }

  onConnect = (session: SMTPServerSession, done: Done): void => {
    const peer = this.deps.peers.get(session.id) ?? { peerAddress: session.remoteAddress, proxied: false };
    this.deps.peers.delete(session.id);
    const info: SessionInfo = {
      id: session.id,
      listener: this.deps.listener,
      clientAddress: session.remoteAddress,
      clientPort: session.remotePort,
      peerAddress: peer.peerAddress,
      proxied: peer.proxied,
      heloName: '',
      secure: session.secure,
    };
    const own = { address: info.clientAddress, port: info.clientPort, heloName: '' };
    const state: SessionState = { info, own, sessionLedger: [], transactionCount: 0, socket: peer.socket };
    this.sessions.set(session.id, state);
    this.deps.metrics?.connectionOpened(this.deps.listener);
    if (!this.admit(state)) {
      this.deps.log.warn({ session: info.id, client: info.clientAddress }, 'too many connections from client');
      return done(replyError(REPLIES.tooManyConnections));
    }
    this.deps.transactions.sessionStage('connect', info, state.sessionLedger).then(
      (reply) => done(reply ? replyError(reply) : null),
      (err: Error) => done(err),
    );
  };

  onMailFrom = (address: SMTPServerAddress, session: SMTPServerSession, done: Done): void => {
    const state = this.sessions.get(session.id)!;
    // RET and ENVID reach here only where DSN is offered (the parameter table refuses them elsewhere).
    const dsn = readMailDsn(address.args);
    if (dsn.reply) return done(replyError(dsn.reply));
    state.own.heloName = session.hostNameAppearsAs || state.own.heloName;
    this.applyForwarded(state, session);
    state.info.secure = session.secure;
    state.info.tls = session.secure ? tlsDetails((session as { tlsOptions?: Parameters<typeof tlsDetails>[0] }).tlsOptions) : undefined;
    state.transactionCount += 1;
    const id = `${state.info.id}.${state.transactionCount}`;
    this.startTransaction(state, id, address.address, dsn.dsn).then(
      (reply) => done(reply ? replyError(reply) : null),
      (err: Error) => done(err),
    );
  };

  onRcptTo = (address: SMTPServerAddress, session: SMTPServerSession, done: Done): void => {
    const state = this.sessions.get(session.id)!;
    const metrics = this.deps.metrics;
    const dsn = readRcptDsn(address.args);
    if (dsn.reply) return done(replyError(dsn.reply));
    this.deps.transactions.addRecipient(state.open!, address.address, dsn.dsn).then(
      (reply) => {
        metrics?.recipient(this.deps.listener, 'rcpt', !reply ? 'accepted' : reply.code >= 500 ? 'rejected' : 'deferred');
        done(reply ? replyError(reply) : null);
      },
      (err: Error) => {
        this.deps.log.error({ err, session: state.info.id }, 'recipient check failed');
        metrics?.recipient(this.deps.listener, 'rcpt', 'deferred');
        done(replyError(REPLIES.lookupFailure));
      },
    );
  };

  onData = (stream: SMTPServerDataStream, session: SMTPServerSession, done: (err: Error | null, msg?: unknown) => void): void => {
    this.data.handle(stream, session, done);
  };

  onClose = (session: SMTPServerSession): void => {
    const state = this.sessions.get(session.id);
    this.deps.peers.delete(session.id);
    if (!state) return;
    this.sessions.delete(session.id);
    this.deps.metrics?.connectionClosed(this.deps.listener);
    if (state.counted !== undefined) this.clients.remove(state.counted);
  };

  /**
   * Strangers are limited per client address (limits.maxConnectionsPerClient); the MTAs Hermod
   * sits behind carry everyone's mail over many connections and are limited only by
   * limits.maxConnections, as Postfix exempts its own relays from smtpd_client_connection_count_limit.
   */
  private admit(state: SessionState): boolean {
    const address = state.info.clientAddress;
    if (this.trustedMtas.contains(address)) return true;
    if (!this.clients.tryAdd(address, this.deps.config.limits.maxConnectionsPerClient)) return false;
    state.counted = address;
    return true;
  }

  /**
   * A trusted MTA's XFORWARD (see xforward.trusted) names the client it received the mail from.
   * The attributes hold for this one transaction; `[UNAVAILABLE]` means unknown.
   */
  private applyForwarded(state: SessionState, session: SMTPServerSession): void {
    const forwarded = session.xForward as Map<string, unknown> | undefined;
    const client = forwardedClient(this.sessionClient(state, session), forwarded);
    consumeForwarded(forwarded);
    state.relayAddress = client.address !== state.own.address ? state.own.address : undefined;
    state.info.clientAddress = client.address;
    state.info.clientPort = client.port;
    state.info.heloName = client.heloName;
  }

  /**
   * The client of the session: the connection's own, or the one a trusted MTA's XCLIENT (see
   * xclient.trusted) handed the session to, for every transaction after it. Its HELO is the
   * session's greeting name, which XCLIENT HELO= replaced where it was known (xclient.ts).
   */
  private sessionClient(state: SessionState, session: SMTPServerSession): ClientIdentity {
    const xclient = session.xClient as Map<string, unknown> | undefined;
    if (!xclient?.has('ADDR')) return state.own;
    const { address, port } = forwardedClient(state.own, xclient);
    return { address, port, heloName: state.own.heloName };
  }

  private async startTransaction(state: SessionState, id: string, mailFrom: string, dsn?: EnvelopeDsn): Promise<Reply | null> {
    const { transactions } = this.deps;
    if (state.heloChecked !== state.info.heloName) {
      state.heloChecked = state.info.heloName;
      const reply = await transactions.sessionStage('helo', state.info, state.sessionLedger);
      if (reply) return reply;
    }
    const { open, reply } = await transactions.open(this.deps.listener, state.info, id, mailFrom, state.sessionLedger, dsn);
    state.open = open;
    return reply;
  }
}
