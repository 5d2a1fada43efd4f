import type { Logger } from 'pino';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { ownsAddress } from '../mail/address-syntax.js';
import { readMailDsn, readRcptDsn } from './envelope-parameters.js';
import { AuthThrottle, userKey } from './auth-throttle.js';
import { NetworkList } from '../net/network-list.js';
import { dummyHash, verifyPassword } from './password-hash.js';
import { replyError, REPLIES, type Reply } from '../mail/replies.js';
import { ClientCounter } from './session-state.js';
import { SubmissionData } from './submission-data.js';
import type { SubmissionAccount, SubmissionHandlerDeps, SubmissionSession } from './submission-session.js';

type Done = (err?: Error | null) => void;
type AuthDone = (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void;


const LOOPBACK = new NetworkList(['127.0.0.0/8', '::1/128'], 'loopback');

/**
 * The submission listener's policy (RFC 6409): AUTH PLAIN/LOGIN only over TLS (or from loopback
 * when configured), failed logins throttled per client and per user, relaying only for
 * authenticated users or `submission.trustedNetworks`, and an authenticated user may only use
 * its own addresses (mailbox address or aliases) as envelope sender and in From.
 */
export class SubmissionHandler {
  private readonly sessions = new Map<string, SubmissionSession>();
  private readonly clients = new ClientCounter();
  private readonly throttle: AuthThrottle;
  private readonly trusted: NetworkList;
  readonly data: SubmissionData;

  constructor(private readonly deps: SubmissionHandlerDeps) {
    const s = deps.config.submission;
    this.throttle = new AuthThrottle({ perClient: s.maxAuthFailuresPerClient, perUser: s.maxAuthFailuresPerUser, windowMs: s.authWindowMs });
    this.trusted = new NetworkList(s.trustedNetworks, 'submission.trustedNetworks');
    this.data = new SubmissionData(deps, (id) => this.sessions.get(id));
  }

  onConnect = (session: SMTPServerSession, done: Done): void => {
    this.deps.peers.delete(session.id);
    const client = session.remoteAddress;
    const state: SubmissionSession = { client, trusted: this.trusted.contains(client), recipients: [], counted: false };
    this.sessions.set(session.id, state);
    if (!this.clients.tryAdd(client, this.deps.config.limits.maxConnectionsPerClient)) return done(replyError(REPLIES.tooManyConnections));
    state.counted = true;
    done(null);
  };

  onAuth = (auth: SMTPServerAuthentication, session: SMTPServerSession, done: AuthDone): void => {
    const state = this.sessions.get(session.id)!;
    this.authenticate(auth, session, state).then(
      (mailbox) => {
        if (!mailbox) return;
        state.mailbox = mailbox;
        done(null, { user: mailbox.address });
      },
      (reply: Reply | Error) => done(reply instanceof Error ? replyError(REPLIES.lookupFailure) : replyError(reply)),
    );
  };

  onMailFrom = (address: SMTPServerAddress, session: SMTPServerSession, done: Done): void => {
    const state = this.sessions.get(session.id)!;
    state.recipients = [];
    state.recipientDsn = undefined;
    state.secure = session.secure;
    const dsn = readMailDsn(address.args);
    if (dsn.reply) return done(replyError(dsn.reply));
    state.dsn = dsn.dsn;
    const reply = this.checkSender(state, address.address);
    if (reply) {
      this.deps.log.info({ session: session.id, client: state.client, user: state.mailbox?.address, from: address.address }, 'submission sender refused');
      return done(replyError(reply));
    }
    state.sender = address.address;
    done(null);
  };

  onRcptTo = (address: SMTPServerAddress, session: SMTPServerSession, done: Done): void => {
    const state = this.sessions.get(session.id)!;
    const dsn = readRcptDsn(address.args);
    if (dsn.reply) return done(replyError(dsn.reply));
    this.checkRecipient(state, address.address).then(
      (reply) => {
        if (!reply) state.recipients.push(address.address);
        if (!reply && dsn.dsn) state.recipientDsn = { ...state.recipientDsn, [address.address.toLowerCase()]: dsn.dsn };
        done(reply ? replyError(reply) : null);
      },
      () => done(replyError(REPLIES.lookupFailure)),
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
    if (state.counted) this.clients.remove(state.client);
  };

  /** Resolves the mailbox on success; rejects with the reply otherwise. */
  private async authenticate(auth: SMTPServerAuthentication, session: SMTPServerSession, state: SubmissionSession): Promise<SubmissionAccount> {
    const { config, accounts, log } = this.deps;
    const loopbackOk = config.submission.allowPlaintextAuthOnLoopback && LOOPBACK.contains(state.client);
    // smtp-server refuses AUTH before STARTTLS itself; this also covers a listener without TLS.
    if (!session.secure && !loopbackOk) throw REPLIES.authRequiresTls;
    const user = String(auth.username ?? '').trim().toLowerCase();
    // Looked up first, so the throttle counts the mailbox, whatever name (alias, +tag) was used.
    const mailbox = user ? await accounts.resolveAddress(user) : null;
    const key = userKey(user, mailbox?.address);
    if (this.throttle.blocked(state.client, key)) {
      log.warn({ session: session.id, client: state.client, user }, 'submission login throttled');
      throw REPLIES.authThrottled;
    }
    const hash = mailbox ? await accounts.getPasswordHash(mailbox.address) : null;
    const ok = await verifyPassword(String(auth.password ?? ''), hash ?? (await dummyHash()));
    if (!ok || !mailbox || !hash) {
      this.throttle.fail(state.client, key);
      log.warn({ session: session.id, client: state.client, user, method: auth.method }, 'submission login failed');
      throw REPLIES.authFailed;
    }
    log.info({ session: session.id, client: state.client, user: mailbox.address, method: auth.method }, 'submission login');
    return mailbox;
  }

  private checkSender(state: SubmissionSession, sender: string): Reply | null {
    if (state.mailbox) return ownsAddress(state.mailbox, sender) ? null : REPLIES.senderNotOwned;
    return state.trusted ? null : REPLIES.authRequired;
  }

  private async checkRecipient(state: SubmissionSession, address: string): Promise<Reply | null> {
    if (!state.mailbox && !state.trusted) return REPLIES.authRequired;
    if (state.recipients.length >= this.deps.config.limits.maxRecipients) return REPLIES.tooManyRecipients;
    const domain = address.slice(address.lastIndexOf('@') + 1);
    if (await this.deps.accounts.isLocalDomain(domain)) {
      if (!(await this.deps.accounts.resolveAddress(address))) return REPLIES.unknownRecipient;
    }
    return null;
  }
}
