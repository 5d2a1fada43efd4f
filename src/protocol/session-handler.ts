import type { Logger } from 'pino';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { HermodConfig } from '../config/schema.js';
import type { MessageProcessor } from '../pipeline/message-processor.js';
import type { PluginRunner } from '../pipeline/runner.js';
import type { SessionInfo, Verdict } from '../pipeline/types.js';
import type { Metrics } from '../ops/metrics.js';
import type { MessageStore } from '../store/message-store.js';
import { DataHandler } from './data-handler.js';
import { replyError, replyForVerdict, REPLIES, type Reply } from './replies.js';
import { ClientCounter, type PeerInfo, type SessionState } from './session-state.js';
import { tlsDetails } from './tls-details.js';

type Done = (err?: Error | null) => void;

export interface SessionHandlerDeps {
  listener: 'lmtp' | 'smtp';
  config: HermodConfig;
  store: MessageStore;
  runner: PluginRunner;
  processor: MessageProcessor;
  log: Logger;
  /** Peer details recorded by the accept step, by connection id. */
  peers: Map<string, PeerInfo>;
  /** Connection, recipient and transaction counts for /metrics; none when the ops endpoint is off. */
  metrics?: Metrics;
}

/**
 * smtp-server's callbacks for one listener: connection limits, recipient lookup, relay and
 * quota policy, and the connect/helo/mail/rcpt stages. DATA goes to DataHandler.
 */
export class SessionHandler {
  private readonly sessions = new Map<string, SessionState>();
  private readonly clients = new ClientCounter();
  readonly data: DataHandler;

  constructor(private readonly deps: SessionHandlerDeps) {
    this.data = new DataHandler(deps, (id) => this.sessions.get(id));
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
    const state: SessionState = { info, sessionLedger: [], transactionLedger: [], transactionCount: 0, counted: false };
    this.sessions.set(session.id, state);
    this.deps.metrics?.connectionOpened(this.deps.listener);
    if (!this.clients.tryAdd(info.clientAddress, this.deps.config.limits.maxConnectionsPerClient)) {
      this.deps.log.warn({ session: info.id, client: info.clientAddress }, 'too many connections from client');
      return done(replyError(REPLIES.tooManyConnections));
    }
    state.counted = true;
    this.runStage('connect', state, undefined).then(
      (reply) => done(reply ? replyError(reply) : null),
      (err: Error) => done(err),
    );
  };

  onMailFrom = (address: SMTPServerAddress, session: SMTPServerSession, done: Done): void => {
    const state = this.sessions.get(session.id)!;
    this.applyForwarded(state, session);
    state.info.heloName = session.hostNameAppearsAs ?? '';
    state.info.secure = session.secure;
    state.info.tls = session.secure ? tlsDetails((session as { tlsOptions?: Parameters<typeof tlsDetails>[0] }).tlsOptions) : undefined;
    state.transactionCount += 1;
    state.transaction = {
      id: `${state.info.id}.${state.transactionCount}`,
      mailFrom: address.address,
      recipients: [],
      addedHeaders: [],
      findings: [],
    };
    state.transactionLedger = [];
    this.checkMail(state).then(
      (reply) => done(reply ? replyError(reply) : null),
      (err: Error) => done(err),
    );
  };

  onRcptTo = (address: SMTPServerAddress, session: SMTPServerSession, done: Done): void => {
    const state = this.sessions.get(session.id)!;
    const metrics = this.deps.metrics;
    this.checkRecipient(state, address.address).then(
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
    if (state.counted) this.clients.remove(state.relayAddress ?? state.info.clientAddress);
  };

  /**
   * A trusted MTA's XFORWARD (see xforward.trusted) names the client it received the mail from;
   * smtp-server has put that address in the session. From here on it is the client address
   * everywhere (ledger, Received header, plugins), as with a PROXY header.
   */
  private applyForwarded(state: SessionState, session: SMTPServerSession): void {
    if (!session.remoteAddress || session.remoteAddress === state.info.clientAddress) return;
    state.relayAddress ??= state.info.clientAddress;
    state.info.clientAddress = session.remoteAddress;
    state.info.clientPort = session.remotePort;
  }

  private async checkMail(state: SessionState): Promise<Reply | null> {
    if (state.heloChecked !== state.info.heloName) {
      state.heloChecked = state.info.heloName;
      const reply = await this.runStage('helo', state, undefined);
      if (reply) return reply;
    }
    return this.runStage('mail', state, undefined);
  }

  private async checkRecipient(state: SessionState, address: string): Promise<Reply | null> {
    const txn = state.transaction!;
    const { config, store } = this.deps;
    if (txn.recipients.length >= config.limits.maxRecipients) return REPLIES.tooManyRecipients;
    const mailbox = await store.resolveAddress(address);
    if (!mailbox) return this.unknownRecipientReply(state, address);
    if (mailbox.quotaBytes > 0 && (await store.mailboxUsage(mailbox.id)) >= mailbox.quotaBytes) {
      return config.quota.overQuota === 'reject' ? REPLIES.overQuotaPerm : REPLIES.overQuotaTemp;
    }
    const recipient = { address, mailbox };
    const reply = await this.runStage('rcpt', state, recipient);
    if (!reply) txn.recipients.push(recipient);
    return reply;
  }

  /** LMTP is final delivery: unknown is unknown. On SMTP, a foreign domain is a relay attempt. */
  private async unknownRecipientReply(state: SessionState, address: string): Promise<Reply> {
    if (this.deps.listener === 'lmtp') return REPLIES.unknownRecipient;
    const domain = address.slice(address.lastIndexOf('@') + 1);
    if (await this.deps.store.isLocalDomain(domain)) return REPLIES.unknownRecipient;
    // Outbound relaying is not offered on this listener, whoever asks.
    this.deps.log.info({ session: state.info.id, client: state.info.clientAddress, rcpt: address }, 'relay refused');
    return REPLIES.relayDenied;
  }

  private async runStage(
    stage: 'connect' | 'helo' | 'mail' | 'rcpt',
    state: SessionState,
    recipient: { address: string; mailbox: NonNullable<Awaited<ReturnType<MessageStore['resolveAddress']>>> } | undefined,
  ): Promise<Reply | null> {
    const ledger = stage === 'connect' || stage === 'helo' ? state.sessionLedger : state.transactionLedger;
    const transaction = state.transaction ?? { id: `${state.info.id}.0`, mailFrom: '', recipients: [], addedHeaders: [], findings: [] };
    const verdicts = await this.deps.runner.run(stage, { session: state.info, transaction, recipient, ledger });
    const verdict: Verdict | undefined = verdicts[0];
    return verdict ? replyForVerdict(verdict) : null;
  }
}
