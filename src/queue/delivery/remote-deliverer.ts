/// <reference path="../../types/mx-connect.d.ts" />
import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns';
import type { TLSSocket } from 'node:tls';
import mxConnect, { type MxConnection, type MxConnectOptions } from 'mx-connect';
import type { Logger } from 'pino';
import type { HermodConfig } from '../../config/schema.js';
import { ConfigError, DeliveryError } from '../../errors.js';
import type { EnvelopeDsn } from '../../mail/dsn-parameters.js';
import type { JobRecipient } from '../types.js';
import { SessionPool, type PooledSession } from './session-pool.js';
import { BeforeRecipientsError, SmtpSession, type RecipientReply, type SessionOptions } from './smtp-session.js';
import { createTlsaResolver } from './tlsa-resolver.js';

/** The outcome of one attempt to a remote domain. */
export interface RemoteAttempt {
  replies: RecipientReply[];
  /** `host[ip]` of the peer that answered, for logs and DSNs. */
  remoteMta?: string;
  /** Which transport security applied: none (opportunistic), mta-sts, dane, smarthost. */
  policy: string;
  tls: boolean;
  /** The peer offered DSN (RFC 3461), so it took over the sender's notice requests. */
  dsn: boolean;
}

/** One message to a remote domain: the pending recipients of one job. */
export interface DeliveryRequest {
  domain: string;
  sender: string;
  recipients: JobRecipient[];
  body: Buffer;
  dsn?: EnvelopeDsn;
  /** Aborts the attempt (deadline reached, lease lost): the connection is dropped at once. */
  signal?: AbortSignal;
}

/** What a pooled session established when it was opened. */
interface PeerFacts {
  remoteMta: string;
  policy: string;
}

/** A DNS lookup in node's callback style, for mx-connect's `dnsOptions.resolve`. */
type CallbackResolve = NonNullable<NonNullable<MxConnectOptions['dnsOptions']>['resolve']>;

/**
 * Delivers to a remote domain: to the smarthost when `relay.host` is set, else to the domain's
 * MX (A/AAAA fallback) through mx-connect, honouring MTA-STS (enforce: TLS with a verified
 * certificate for a listed MX) and DANE (TLSA from a DNSSEC-validating resolver: TLS whose
 * certificate matches a record). Without either policy STARTTLS is opportunistic. Sessions are
 * reused per destination through a SessionPool (RSET between messages).
 */
export class RemoteDeliverer {
  private readonly resolve: CallbackResolve;
  private readonly tlsa: (name: string) => Promise<unknown[]>;
  private readonly ca?: Buffer;
  private readonly pool: SessionPool<PeerFacts>;

  /**
   * @param stsCache MTA-STS policies by domain, kept between deliveries (RFC 8461 §3.3: a
   *   cached policy still applies when the policy host cannot be reached)
   */
  constructor(
    private readonly config: HermodConfig,
    private readonly log: Logger,
    private readonly stsCache = new Map<string, unknown>(),
  ) {
    const resolver = new Resolver({ timeout: 5000, tries: 2 });
    if (config.delivery.dnsServers.length > 0) resolver.setServers(config.delivery.dnsServers);
    this.resolve = ((name: string, type: string, cb: (err: Error | null, r?: unknown) => void) =>
      resolver.resolve(name, type, cb as never)) as CallbackResolve;
    this.tlsa = createTlsaResolver(config.delivery.dnsServers);
    if (config.delivery.caFile) this.ca = readCa(config.delivery.caFile);
    const reuse = config.delivery.connectionReuse;
    this.pool = new SessionPool({
      maxIdlePerDestination: reuse.enabled ? reuse.maxIdlePerDestination : 0,
      idleMs: reuse.idleMs,
      maxMessagesPerSession: reuse.maxMessagesPerSession,
    });
  }

  async deliver(request: DeliveryRequest): Promise<RemoteAttempt> {
    const destination = this.config.relay.host ? 'smarthost' : `mx:${request.domain.toLowerCase()}`;
    const cached = await this.pool.take(destination);
    if (cached) {
      const attempt = await this.transact(destination, cached, request);
      // A cached connection the peer had closed fails before any reply: nothing was sent on
      // it, so the message goes out on a new connection instead of waiting for a retry.
      if (cached.session.lastEnding !== 'unanswered' || request.signal?.aborted) return attempt;
    }
    return this.deliverOnNewSession(destination, request);
  }

  private async deliverOnNewSession(destination: string, request: DeliveryRequest): Promise<RemoteAttempt> {
    let entry: PooledSession<PeerFacts>;
    try {
      entry = await this.openSession(request.domain);
    } catch (err) {
      const e = err as DeliveryError & { remoteMta?: string; policy?: string };
      // A refusal before any recipient (greeting, EHLO, STARTTLS, AUTH) defers; only DNS
      // saying the domain has no mail host at all is final (550, set by connect()).
      const code = e instanceof BeforeRecipientsError || e.responseCode !== 550 ? 0 : 550;
      const replies = request.recipients.map((r) => ({ address: r.address, code, response: e.message }));
      return { replies, remoteMta: e.remoteMta, policy: e.policy ?? 'none', tls: false, dsn: false };
    }
    return this.transact(destination, entry, request);
  }

  /** Closes the cached sessions (shutdown). */
  close(): void {
    this.pool.close();
  }

  private async transact(destination: string, entry: PooledSession<PeerFacts>, request: DeliveryRequest): Promise<RemoteAttempt> {
    const { session, meta } = entry;
    const signal = request.signal;
    const abort = () => session.abort(String((signal?.reason as Error | undefined)?.message ?? 'attempt aborted'));
    signal?.addEventListener('abort', abort, { once: true });
    try {
      if (signal?.aborted) abort();
      const replies = await session.send({ sender: request.sender, recipients: request.recipients, dsn: request.dsn }, request.body);
      return { replies, remoteMta: meta.remoteMta, policy: meta.policy, tls: session.encrypted, dsn: session.supportsDsn };
    } finally {
      signal?.removeEventListener('abort', abort);
      if (session.usable && !signal?.aborted) this.pool.give(destination, entry);
      else session.close();
    }
  }

  private async openSession(domain: string): Promise<PooledSession<PeerFacts>> {
    if (this.config.relay.host) {
      const relay = this.config.relay;
      const options: SessionOptions = {
        ...this.sessionBase(relay.host!, relay.port),
        secure: relay.secure,
        requireTls: relay.requireTls,
        verifyCertificate: relay.verifyCertificate,
        auth: relay.auth,
      };
      return this.start(options, { remoteMta: `${relay.host}[${relay.port}]`, policy: 'smarthost' });
    }
    const connection = await this.connect(domain);
    const tlsa = connection.tlsaRecords ?? [];
    const dane = tlsa.length > 0;
    const sts = !dane && connection.policyMatch?.mode === 'enforce' && connection.policyMatch.valid;
    const options: SessionOptions = {
      ...this.sessionBase(connection.host, connection.port),
      socket: connection.socket,
      requireTls: dane || sts,
      verifyCertificate: sts,
      servername: connection.hostname,
      checkPeer: dane ? (socket) => daneProblem(socket, tlsa, connection.hostname) : undefined,
    };
    return this.start(options, { remoteMta: `${connection.hostname}[${connection.host}]`, policy: dane ? 'dane' : sts ? 'mta-sts' : 'none' });
  }

  private async start(options: SessionOptions, meta: PeerFacts): Promise<PooledSession<PeerFacts>> {
    const session = new SmtpSession(options);
    try {
      await session.open();
      return { session, meta };
    } catch (err) {
      session.close();
      throw Object.assign(err as Error, meta);
    }
  }

  private sessionBase(host: string, port: number): Omit<SessionOptions, 'requireTls' | 'verifyCertificate'> {
    const d = this.config.delivery;
    return {
      host,
      port,
      ca: this.ca,
      heloName: this.config.hostname,
      connectTimeoutMs: d.connectTimeoutMs,
      socketTimeoutMs: d.socketTimeoutMs,
    };
  }

  /** mx-connect with Hermod's resolver, MTA-STS cache and TLSA lookups. */
  private async connect(domain: string): Promise<MxConnection> {
    const d = this.config.delivery;
    try {
      return await mxConnect({
        target: domain,
        port: d.port,
        maxConnectTime: d.connectTimeoutMs,
        localHostname: this.config.hostname,
        dnsOptions: { ignoreIPv6: false, preferIPv6: false, blockLocalAddresses: !d.allowLocalAddresses, resolve: this.resolve },
        mtaSts: {
          enabled: d.mtaSts,
          cache: { get: async (k) => this.stsCache.get(k) ?? false, set: async (k, v) => this.stsCache.set(k, v) },
          logger: (entry) => this.log.debug({ domain, ...entry }, 'mta-sts'),
        },
        dane: { enabled: d.dane, resolveTlsa: this.tlsa, verify: true, logger: (entry) => this.log.debug({ domain, ...entry }, 'dane') },
      });
    } catch (err) {
      const e = err as Error & { temporary?: boolean; category?: string; response?: string };
      // "No MX and no address" is permanent (like Postfix's "Host or domain name not found");
      // DNS trouble, refused connections and policy failures are temporary.
      const permanent = e.category === 'dns' && !e.temporary;
      throw new DeliveryError(e.response ?? e.message, permanent ? 550 : 0, { cause: err });
    }
  }
}

/** Why the peer's certificate matches none of the TLSA records, or null when one matches. */
function daneProblem(socket: TLSSocket, records: unknown[], hostname: string): string | null {
  const x509 = socket.getPeerX509Certificate();
  if (!x509) return `DANE verification failed for ${hostname}: no certificate`;
  // mx-connect reads `raw` (selector 0) and a `publicKey` it can hand to createPublicKey (selector 1).
  const cert = { raw: x509.raw, publicKey: x509.publicKey.export({ type: 'spki', format: 'pem' }) };
  const result = mxConnect.dane.verifyCertAgainstTlsa(cert, records);
  return result.valid ? null : `DANE verification failed for ${hostname}: ${result.error ?? 'no TLSA record matches'}`;
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`delivery.caFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
