import { z } from 'zod';
import { cidrListSchema } from '../net/cidr-list.js';

/**
 * Config of the outbound side: the submission listener, the queue, delivery (direct MX or a
 * smarthost) and DKIM signing. schema.ts mounts these under `submission`, `queue`, `relay`,
 * `delivery` and `dkim`; they live here so the outbound room owns its own keys.
 */

/** `submission`: the authenticated submission listener (RFC 6409). */
export const submissionSchema = z
  .strictObject({
    /** Open the submission listener. @defaultValue false */
    enabled: z.boolean().default(false),
    /** Listen address. @defaultValue "127.0.0.1" */
    host: z.string().default('127.0.0.1'),
    /** STARTTLS port; 0 picks a free port (tests). @defaultValue 2587 */
    port: z.number().int().min(0).max(65535).default(2587),
    /** A second port with implicit TLS (like 465, RFC 8314); null: none. Needs tls.key/cert. @defaultValue null */
    implicitTlsPort: z.number().int().min(0).max(65535).nullable().default(null),
    /** Allow AUTH without TLS from loopback clients (webmail on the same host). @defaultValue false */
    allowPlaintextAuthOnLoopback: z.boolean().default(false),
    /** Networks that may relay without AUTH (like Postfix's mynetworks). @defaultValue [] */
    trustedNetworks: cidrListSchema([]),
    /** Failed logins allowed per client address within `authWindowMs`; then the authThrottled reply. @defaultValue 10 */
    maxAuthFailuresPerClient: z.number().int().positive().default(10),
    /** Failed logins allowed per user name within `authWindowMs`; then the authThrottled reply. @defaultValue 5 */
    maxAuthFailuresPerUser: z.number().int().positive().default(5),
    /** Window of the failed-login counters, in milliseconds. @defaultValue 900000 */
    authWindowMs: z.number().int().positive().default(15 * 60_000),
  })
  .prefault({});

/** The retry schedule: like Postfix, 5 min doubling up to 4 h apart, give up after 5 days. */
const retrySchema = z
  .strictObject({
    /** Delay before the second attempt, in milliseconds. @defaultValue 300000 */
    firstMs: z.number().int().positive().default(5 * 60_000),
    /** Each further delay is the previous one times this. @defaultValue 2 */
    factor: z.number().min(1).default(2),
    /** Longest delay between two attempts, in milliseconds. @defaultValue 14400000 */
    maxIntervalMs: z.number().int().positive().default(4 * 3_600_000),
    /** Age at which a message still undelivered bounces, in milliseconds. @defaultValue 432000000 */
    giveUpMs: z.number().int().positive().default(5 * 86_400_000),
  })
  .prefault({});

const destinationLimits = z.strictObject({
  /** Simultaneous deliveries to one destination domain. */
  concurrency: z.number().int().positive().optional(),
  /** Delivery attempts per minute to one destination domain; 0 = unlimited. */
  ratePerMinute: z.number().int().min(0).optional(),
});

/** `queue`: where outbound messages wait, and how often they are tried. */
export const queueSchema = z
  .strictObject({
    /** `sqlite` (embedded, queue.sqlite under dataDir) or `bullmq` (Redis, shared by all nodes). @defaultValue "sqlite" */
    driver: z.enum(['sqlite', 'bullmq']).default('sqlite'),
    /** SQLite queue file, relative to dataDir. @defaultValue "queue.sqlite" */
    sqlite: z.strictObject({ file: z.string().default('queue.sqlite') }).prefault({}),
    bullmq: z
      .strictObject({
        /** Redis URL. @defaultValue "redis://127.0.0.1:6379" */
        url: z.string().trim().min(1).default('redis://127.0.0.1:6379'),
        /** Key prefix of every Redis key the queue writes. @defaultValue "hermod" */
        prefix: z.string().min(1).default('hermod'),
        /** BullMQ queue name. @defaultValue "outbound" */
        name: z.string().min(1).default('outbound'),
      })
      .prefault({}),
    retry: retrySchema,
    /** Age at which the sender is told that a message is delayed; 0 = never. @defaultValue 14400000 */
    delayWarningMs: z.number().int().min(0).default(4 * 3_600_000),
    /** Deliveries in flight per Hermod process. @defaultValue 20 */
    workers: z.number().int().positive().default(20),
    /** How often an idle worker looks for due jobs, in milliseconds. @defaultValue 500 */
    pollMs: z.number().int().positive().default(500),
    /**
     * How long a claimed job stays leased before another worker may take it over, in
     * milliseconds. The worker renews the lease every third of this while an attempt runs.
     * @defaultValue 1800000
     */
    leaseMs: z.number().int().positive().default(30 * 60_000),
    /**
     * Longest time one delivery attempt may take, in milliseconds; then its connection is dropped
     * and the recipients it had not settled are retried. Shorter than leaseMs, and longer than
     * delivery.socketTimeoutMs so the 10-minute wait after the message body fits. @defaultValue 1200000
     */
    attemptTimeoutMs: z.number().int().positive().default(20 * 60_000),
    /** Limits per destination domain (shared through Redis with the bullmq driver). */
    perDestination: z
      .strictObject({
        /** @defaultValue 5 */
        concurrency: z.number().int().positive().default(5),
        /** Attempts per minute; 0 = unlimited. @defaultValue 0 */
        ratePerMinute: z.number().int().min(0).default(0),
        /** Overrides by domain, e.g. `{ "example.com": { concurrency: 2 } }`. @defaultValue {} */
        domains: z.record(z.string(), destinationLimits).default({}),
      })
      .prefault({}),
  })
  .prefault({});

/** `relay`: a smarthost. When `host` is set every non-local message goes there instead of to MX. */
export const relaySchema = z
  .strictObject({
    /** Smarthost name or address; unset = direct delivery to MX. */
    host: z.string().min(1).optional(),
    /** @defaultValue 25 */
    port: z.number().int().min(1).max(65535).default(25),
    /** Implicit TLS (port 465 style). @defaultValue false */
    secure: z.boolean().default(false),
    /** Refuse to send unless STARTTLS succeeds. @defaultValue false */
    requireTls: z.boolean().default(false),
    /** Verify the smarthost's certificate. @defaultValue true */
    verifyCertificate: z.boolean().default(true),
    /** SMTP AUTH towards the smarthost. */
    auth: z.strictObject({ user: z.string().min(1), pass: z.string() }).optional(),
  })
  .prefault({});

/** `delivery.mtaSts`: fetching, caching and applying MTA-STS policies (RFC 8461). */
export const mtaStsSchema = z
  .strictObject({
    /** Look for a policy before delivering to a domain's MX hosts. @defaultValue true */
    enabled: z.boolean().default(true),
    /**
     * Port of the policy host `mta-sts.<domain>`. RFC 8461 fixes 443; only a test or a lab with
     * the policy server elsewhere changes it. @defaultValue 443
     */
    policyPort: z.number().int().min(1).max(65535).default(443),
    /** Time allowed for the whole HTTPS fetch of a policy, in milliseconds. @defaultValue 10000 */
    fetchTimeoutMs: z.number().int().positive().default(10_000),
    /** Largest policy document accepted, in bytes (RFC 8461 §3.3 asks for a limit). @defaultValue 65536 */
    maxPolicyBytes: z.number().int().positive().max(1_048_576).default(65_536),
    /**
     * Upper bound on a policy's `max_age`, in seconds; the RFC allows up to 31557600 (one year),
     * and a shorter cap shortens the protection a cached policy gives. @defaultValue 31557600
     */
    maxAgeCapSeconds: z.number().int().min(60).max(31_557_600).default(31_557_600),
    /**
     * A cached policy older than this is fetched again, before it expires (RFC 8461 §10.2: refresh
     * proactively); a failed refresh keeps the cached one. @defaultValue 86400
     */
    refreshAfterSeconds: z.number().int().min(60).default(86_400),
    /** Domains whose policy is kept; the least recently used goes first. @defaultValue 10000 */
    cacheEntries: z.number().int().positive().default(10_000),
    /**
     * File that keeps the policy cache across restarts (under dataDir when relative); `null` keeps
     * it in memory only. @defaultValue "mta-sts-cache.json"
     */
    cacheFile: z.string().min(1).nullable().default('mta-sts-cache.json'),
  })
  .prefault({});

/** `delivery`: how the delivery worker talks to other MTAs. */
export const deliverySchema = z
  .strictObject({
    /** Port of remote MX hosts (tests point it at a local peer). @defaultValue 25 */
    port: z.number().int().min(1).max(65535).default(25),
    /** DNS servers for MX/A/AAAA/TXT/TLSA lookups (`ip` or `ip:port`); empty = system resolvers. @defaultValue [] */
    dnsServers: z.array(z.string().trim().min(1)).default([]),
    /** MTA-STS (RFC 8461); `true`/`false` stands for `{ enabled: true/false }`. */
    mtaSts: z.preprocess((v) => (typeof v === 'boolean' ? { enabled: v } : v), mtaStsSchema),
    /** Honour DANE TLSA records (RFC 7672); only DNSSEC-authenticated (AD) answers count. @defaultValue true */
    dane: z.boolean().default(true),
    /**
     * Extra CA bundle (PEM file), trusted besides the system CAs wherever a certificate is verified:
     * MX hosts under MTA-STS `enforce`, the smarthost, and the HTTPS policy host `mta-sts.<domain>`.
     */
    caFile: z.string().optional(),
    /** Time to connect to one MX host, in milliseconds. @defaultValue 30000 */
    connectTimeoutMs: z.number().int().positive().default(30_000),
    /**
     * Wait for any one reply of a remote SMTP server, in milliseconds. It covers the reply after
     * the message body, for which RFC 5321 §4.5.3.2.6 asks at least 10 minutes: giving up sooner
     * makes the message go out twice to slow receivers. @defaultValue 600000
     */
    socketTimeoutMs: z.number().int().positive().default(10 * 60_000),
    /** Connection cache: reuse an open session for the next message to the same destination. */
    connectionReuse: z
      .strictObject({
        /** @defaultValue true */
        enabled: z.boolean().default(true),
        /** Idle sessions kept per destination (smarthost, or MX domain). @defaultValue 20 */
        maxIdlePerDestination: z.number().int().min(0).default(20),
        /** An idle session is closed after this many milliseconds. @defaultValue 5000 */
        idleMs: z.number().int().positive().default(5000),
        /** A session is closed after this many messages. @defaultValue 1000 */
        maxMessagesPerSession: z.number().int().positive().default(1000),
      })
      .prefault({}),
    /**
     * Allow MX hosts on loopback/private addresses. Off in production (an MX of 127.0.0.1 is a
     * misconfiguration or an attack); tests turn it on. @defaultValue false
     */
    allowLocalAddresses: z.boolean().default(false),
  })
  .prefault({});

/** `dkim`: signing of outbound mail, one key per sender domain (`hermod dkim generate`). */
export const dkimSchema = z
  .strictObject({
    /** Sign outbound mail whose From domain has a key. @defaultValue true */
    enabled: z.boolean().default(true),
    /** Where keys live, relative to dataDir: `<dir>/<domain>/<selector>.pem`. @defaultValue "dkim" */
    keyDir: z.string().default('dkim'),
    /** Selector used by `hermod dkim generate` when none is given. @defaultValue "hermod" */
    defaultSelector: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i).default('hermod'),
  })
  .prefault({});

export type SubmissionConfig = z.infer<typeof submissionSchema>;
export type QueueConfig = z.infer<typeof queueSchema>;
export type RelayConfig = z.infer<typeof relaySchema>;
export type DeliveryConfig = z.infer<typeof deliverySchema>;
export type DkimConfig = z.infer<typeof dkimSchema>;
