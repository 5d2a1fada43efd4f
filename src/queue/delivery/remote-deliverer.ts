/// <reference path="../../types/mx-connect.d.ts" />
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Resolver } from 'node:dns';
import { rootCertificates, type TLSSocket } from 'node:tls';
import mxConnect, { type MxConnection, type MxConnectOptions } from 'mx-connect';
import type { Logger } from 'pino';
import type { HermodConfig } from '../../config/schema.js';
import { ConfigError, DeliveryError } from '../../errors.js';
import type { EnvelopeDsn } from '../../mail/dsn-parameters.js';
import { createDnsClient, type DnsLookup } from '../../net/dns-resolver.js';
import type { JobRecipient } from '../types.js';
import { SessionPool, type PooledSession } from './session-pool.js';
import { BeforeRecipientsError, SmtpSession, type RecipientReply, type SessionOptions } from './smtp-session.js';
import { createTlsaResolver } from './tlsa-resolver.js';
import { MtaStsPolicies, mxMatches, type StsPolicy } from './mta-sts-policies.js';
import { enforcedMx, pkixProblem } from './mta-sts-route.js';
import { MtaStsCacheFile } from './mta-sts-cache-file.js';

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
 * MX (A/AAAA fallback) through mx-connect, honouring MTA-STS (enforce: only MX hosts the policy
 * lists, TLS with a verified certificate; testing: failures logged, delivery goes on) and DANE (TLSA from a DNSSEC-validating resolver: TLS whose
 * certificate matches a record). Without either policy STARTTLS is opportunistic. Sessions are
 * reused per destination through a SessionPool (RSET between messages).
 */
export class RemoteDeliverer {
  private readonly resolve: CallbackResolve;
  private readonly tlsa: (name: string) => Promise<unknown[]>;
  private readonly ca?: Buffer;
  private readonly pool: SessionPool<PeerFacts>;
  private readonly lookup: DnsLookup;
  /** MTA-STS policies by domain, kept between deliveries; none when delivery.mtaSts is off. */
  private readonly mtaSts?: MtaStsPolicies;

  constructor(
    private readonly config: HermodConfig,
    private readonly log: Logger,
  ) {
    const resolver = new Resolver({ timeout: 5000, tries: 2 });
    if (config.delivery.dnsServers.length > 0) resolver.setServers(config.delivery.dnsServers);
    this.resolve = ((name: string, type: string, cb: (err: Error | null, r?: unknown) => void) =>
      resolver.resolve(name, type, cb as never)) as CallbackResolve;
    this.tlsa = createTlsaResolver(config.delivery.dnsServers);
    if (config.delivery.caFile) this.ca = readCa(config.delivery.caFile);
    this.lookup = createDnsClient({ servers: config.delivery.dnsServers, timeoutMs: 5000, tries: 2 }, 'delivery.dnsServers').lookup;
    const sts = config.delivery.mtaSts;
    if (sts.enabled) {
      this.mtaSts = new MtaStsPolicies({
        lookup: this.lookup,
        port: sts.policyPort,
        ca: this.ca,
        timeoutMs: sts.fetchTimeoutMs,
        maxBytes: sts.maxPolicyBytes,
        maxAgeCapSeconds: sts.maxAgeCapSeconds,
        refreshAfterSeconds: sts.refreshAfterSeconds,
        cacheEntries: sts.cacheEntries,
        cacheFile: sts.cacheFile === null ? undefined : new MtaStsCacheFile(resolve(config.dataDir, sts.cacheFile), log),
        log,
      });
    }
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
    const policy = (await this.mtaSts?.policyFor(domain)) ?? null;
    const connection = await this.connect(domain, policy);
    const tlsa = connection.tlsaRecords ?? [];
    const dane = tlsa.length > 0;
    const enforce = !dane && policy?.mode === 'enforce';
    const testing = !dane && policy?.mode === 'testing' ? policy : null;
    const hostname = connection.hostname;
    const options: SessionOptions = {
      ...this.sessionBase(connection.host, connection.port),
      socket: connection.socket,
      requireTls: dane || enforce,
      verifyCertificate: enforce,
      servername: hostname,
      checkPeer: dane
        ? (socket) => daneProblem(socket, tlsa, hostname)
        : testing
          ? (socket) => this.reportTesting(domain, testing, hostname, pkixProblem(socket, hostname))
          : undefined,
    };
    const remoteMta = `${hostname}[${connection.host}]`;
    const entry = await this.start(options, { remoteMta, policy: dane ? 'dane' : enforce ? 'mta-sts' : testing ? 'mta-sts-testing' : 'none' });
    if (testing && !entry.session.encrypted) this.reportTesting(domain, testing, hostname, 'no STARTTLS');
    return entry;
  }

  /**
   * RFC 8461 §5: under a `testing` policy a failed check is reported, never enforced. Hermod has
   * no TLSRPT (RFC 8460) reporting; the warning in the log is the report. Returns null, so the
   * session goes on.
   */
  private reportTesting(domain: string, policy: StsPolicy, hostname: string, problem: string | null): null {
    if (problem) this.log.warn({ domain, mx: hostname, policyId: policy.id, mode: 'testing', problem }, 'mta-sts: testing policy not met; delivering anyway');
    return null;
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

  /**
   * mx-connect with Hermod's resolver and TLSA lookups. MTA-STS is applied here rather than by
   * mx-connect (see MtaStsPolicies): under `enforce` mx-connect gets only the MX hosts the policy
   * lists; under `testing` a host the policy does not list is used, and reported.
   */
  private async connect(domain: string, policy: StsPolicy | null): Promise<MxConnection> {
    const d = this.config.delivery;
    try {
      const mx = policy?.mode === 'enforce' ? await enforcedMx(domain, policy, this.lookup) : undefined;
      const connection = await mxConnect({
        target: domain,
        ...(mx ? { mx } : {}),
        port: d.port,
        maxConnectTime: d.connectTimeoutMs,
        localHostname: this.config.hostname,
        dnsOptions: { ignoreIPv6: false, preferIPv6: false, blockLocalAddresses: !d.allowLocalAddresses, resolve: this.resolve },
        mtaSts: { enabled: false },
        dane: { enabled: d.dane, resolveTlsa: this.tlsa, verify: true, logger: (entry) => this.log.debug({ domain, ...entry }, 'dane') },
      });
      if (policy?.mode === 'testing' && !mxMatches(connection.hostname, policy.mx)) {
        this.reportTesting(domain, policy, connection.hostname, 'MX host not listed in the policy');
      }
      return connection;
    } catch (err) {
      if (err instanceof DeliveryError) throw Object.assign(err, { policy: 'mta-sts' });
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

/**
 * The operator's CA bundle with the system roots: node's `ca` option replaces the default roots,
 * and an extra CA must not make every public certificate untrusted.
 */
function readCa(file: string): Buffer {
  try {
    return Buffer.concat([Buffer.from(rootCertificates.join('\n') + '\n'), readFileSync(file)]);
  } catch (err) {
    throw new ConfigError(`delivery.caFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
