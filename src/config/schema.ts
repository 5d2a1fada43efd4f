import { z } from 'zod';
import { deliverySchema, dkimSchema, queueSchema, relaySchema, submissionSchema } from '../queue/config-schema.js';
import { cidrListSchema } from '../net/cidr-list.js';
import { cassandraStoreSchema } from '../store/cassandra/config-schema.js';
import { opsSchema } from '../ops/config-schema.js';

/** The keys every listener has. */
const listenerShape = (host: string, port: number) => ({
  /** Listen address. @defaultValue as given per listener */
  host: z.string().default(host),
  /** Listen port; 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65535).default(port),
  /** Set false to not open this listener. @defaultValue true */
  enabled: z.boolean().default(true),
});

const hostPort = (host: string, port: number) => z.strictObject(listenerShape(host, port)).prefault({});

const tlsSchema = z
  .strictObject({
    /** PEM private key file; STARTTLS is offered only when key and cert are both set. */
    key: z.string().optional(),
    /** PEM certificate chain file. */
    cert: z.string().optional(),
  })
  .default({});

const limitsSchema = z
  .strictObject({
    /** Largest message accepted, in bytes (SIZE advertised in EHLO). @defaultValue 26214400 */
    maxMessageBytes: z.number().int().positive().default(25 * 1024 * 1024),
    /** Most recipients in one transaction; further RCPTs get the tooManyRecipients reply (src/mail/replies.ts). @defaultValue 100 */
    maxRecipients: z.number().int().positive().default(100),
    /**
     * Most simultaneous connections from one client address (as Postfix's smtpd_client_connection_count_limit);
     * more get 421. The MTAs in proxy.trusted / xforward.trusted are not limited per address. @defaultValue 50
     */
    maxConnectionsPerClient: z.number().int().positive().default(50),
    /** Most simultaneous connections in all, per listener. @defaultValue 500 */
    maxConnections: z.number().int().positive().default(500),
    /** Idle socket timeout in milliseconds. @defaultValue 60000 */
    socketTimeoutMs: z.number().int().positive().default(60_000),
    /**
     * A message being received stays in memory up to this many bytes; beyond, it goes to a spool
     * file under `<dataDir>/spool` (removed after the transaction, leftovers removed at start).
     * @defaultValue 1048576
     */
    spoolThresholdBytes: z.number().int().min(0).default(1024 * 1024),
    /**
     * Budget of DATA bytes in flight over all listeners (messages being received or processed).
     * While it is used up, a new DATA waits up to `inflightWaitMs` for room, then gets
     * 451 4.3.1 (inflightBudgetExceeded in src/mail/replies.ts). @defaultValue 268435456
     */
    maxInflightBytes: z.number().int().positive().default(256 * 1024 * 1024),
    /** How long a DATA waits for room in `maxInflightBytes` before 451 4.3.1, in milliseconds. @defaultValue 2000 */
    inflightWaitMs: z.number().int().min(0).default(2000),
  })
  .prefault({});

const proxySchema = z
  .strictObject({
    /** CIDRs whose PROXY v1/v2 header is honoured; anyone else sending one is disconnected. */
    trusted: cidrListSchema([]),
    /** A trusted peer must send a header; a trusted peer without one is disconnected. @defaultValue false */
    required: z.boolean().default(false),
    /** How long to wait for the header from a trusted peer, in milliseconds. @defaultValue 1000 */
    timeoutMs: z.number().int().positive().default(1000),
  })
  .prefault({});

const xforwardSchema = z
  .strictObject({
    /**
     * CIDRs of MTAs (Postfix) whose XFORWARD ADDR/NAME/HELO name the original client; matched
     * against the client address after PROXY decoding. Empty: XFORWARD is not offered.
     */
    trusted: cidrListSchema([]),
  })
  .prefault({});

const xclientSchema = z
  .strictObject({
    /**
     * CIDRs of MTAs (Haraka with Hermod's plugin, Postfix's smtpd proxy) whose XCLIENT
     * ADDR/NAME/PORT/HELO hand the session over to the client they received the mail from;
     * matched against the client address after PROXY decoding. A list of its own, not
     * xforward.trusted: XCLIENT replaces the session's identity, XFORWARD only annotates it.
     * Never offered on the submission listener. Empty: XCLIENT is not offered.
     */
    trusted: z.array(z.string()).default([]),
  })
  .prefault({});

/** A loopback-by-default side service (Postfix lookups, ops HTTP), off unless enabled. */
const sideService = (port: number) =>
  z
    .strictObject({
      /** Open this service. @defaultValue false */
      enabled: z.boolean().default(false),
      /** Listen address. @defaultValue "127.0.0.1" */
      host: z.string().default('127.0.0.1'),
      /** Listen port; 0 picks a free port (tests). */
      port: z.number().int().min(0).max(65535).default(port),
    })
    .prefault({});

const pluginEntry = z.strictObject({
  /** Plugin folder name under plugins/ (or a built-in). */
  name: z.string().min(1),
  /** Hook timeout in milliseconds. @defaultValue 5000 */
  timeoutMs: z.number().int().positive().default(5000),
  /** On a throw or timeout, continue instead of answering with the pluginFailure reply. @defaultValue false */
  failOpen: z.boolean().default(false),
  /** The plugin's own settings, validated by its manifest's schema. */
  config: z.record(z.string(), z.unknown()).default({}),
});

/** A mailbox's own thresholds: each key optional, falling back to the global `scoring` key. */
const mailboxThresholds = z.strictObject({
  addHeader: z.number().optional(),
  junk: z.number().optional(),
  tempfail: z.number().nullable().optional(),
  reject: z.number().optional(),
  junkFolder: z.string().optional(),
});

const scoringSchema = z
  .strictObject({
    /** Score at or above which X-Spam-Status says Yes. @defaultValue 5 */
    addHeader: z.number().default(5),
    /** Score at or above which the message is filed into the Junk folder. @defaultValue 8 */
    junk: z.number().default(8),
    /** Score at or above which the message is refused (the spamRejected reply). @defaultValue 15 */
    reject: z.number().default(15),
    /** Folder used for junk. @defaultValue "Junk" */
    junkFolder: z.string().default('Junk'),
    /**
     * Score at or above which the copy is deferred (the spamDeferred reply) (a "soft reject" band below
     * `reject`, as rspamd's); null: no such band. @defaultValue null
     */
    tempfail: z.number().nullable().default(null),
    /** Thresholds per mailbox, by mailbox address (any case); keys left out use the values above. @defaultValue {} */
    mailboxes: z.record(z.string(), mailboxThresholds).default({}),
  })
  .prefault({});

/** `"a,b"` (as an environment variable gives it) → `["a", "b"]`; arrays pass through. */
const commaList = (value: unknown): unknown =>
  typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part !== '') : value;

/** The Elasticsearch search index (search.driver: elasticsearch). */
const elasticsearchSchema = z
  .strictObject({
    /** Node URLs; a comma-separated string is accepted too. @defaultValue ["http://127.0.0.1:9200"] */
    nodes: z
      .preprocess(commaList, z.array(z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s):// URL')).min(1))
      .default(['http://127.0.0.1:9200']),
    /**
     * Names of the index template (PREFIX-messages), the index (PREFIX-messages-v1) and its alias
     * (PREFIX-messages). @defaultValue "hermod"
     */
    indexPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,100}$/, 'must be lower-case letters, digits, "-" or "_"')
      .default('hermod'),
    /** Primary shards of a new index (documents are routed by mailbox). @defaultValue 1 */
    shards: z.number().int().min(1).max(1024).default(1),
    /** Replicas of a new index; 0 on a single-node cluster, else it stays yellow. @defaultValue 1 */
    replicas: z.number().int().min(0).max(16).default(1),
    /** index.refresh_interval of a new index; writes wait for the next refresh. @defaultValue 1000 */
    refreshIntervalMs: z.number().int().min(50).max(60_000).default(1000),
    /** Time limit of one request, in milliseconds. @defaultValue 30000 */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Basic-auth user; with `password`. Never logged. */
    username: z.string().min(1).optional(),
    /** Basic-auth password. Never logged. */
    password: z.string().min(1).optional(),
  })
  .refine((es) => (es.username === undefined) === (es.password === undefined), {
    message: 'username and password go together',
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    /** Name used in the greeting and in Received headers. @defaultValue "localhost" */
    hostname: z.string().default('localhost'),
    /**
     * Directory for the embedded stores. Relative paths in the config file resolve against the
     * file's directory; the default and environment values against the working directory.
     * @defaultValue "./data"
     */
    dataDir: z.string().default('./data'),
    lmtp: hostPort('127.0.0.1', 2424),
    smtp: z
      .strictObject({
        ...listenerShape('127.0.0.1', 2525),
        /**
         * Offer DSN (RFC 3461). The listener is then the final hop for NOTIFY=SUCCESS and queues a
         * "delivered" notice to the sender of each message it stores for such a recipient; off, the
         * client reports success itself ("relayed"). @defaultValue true
         */
        dsn: z.boolean().default(true),
      })
      .prefault({}),
    tls: tlsSchema,
    limits: limitsSchema,
    proxy: proxySchema,
    xforward: xforwardSchema,
    xclient: xclientSchema,
    quota: z
      .strictObject({
        /** Default mailbox quota in bytes for new mailboxes; 0 is unlimited. @defaultValue 1073741824 */
        defaultBytes: z.number().int().min(0).default(1024 * 1024 * 1024),
        /** Reply when over quota: tempfail (overQuotaTemp) or reject (overQuotaPerm). @defaultValue "tempfail" */
        overQuota: z.enum(['tempfail', 'reject']).default('tempfail'),
      })
      .prefault({}),
    store: z
      .strictObject({
        /** Message store: embedded SQLite, or an Apache Cassandra cluster. @defaultValue "sqlite" */
        driver: z.enum(['sqlite', 'cassandra']).default('sqlite'),
        /** SQLite file, relative to dataDir. @defaultValue "hermod.sqlite" */
        sqlite: z
          .strictObject({
            file: z.string().default('hermod.sqlite'),
            /** How long a write waits for a lock before failing (→ the storeFailure reply). @defaultValue 5000 */
            busyTimeoutMs: z.number().int().min(0).default(5000),
            /**
             * Raw messages larger than this are kept as content-addressed files beside the
             * database (`<file>.blobs/`), fsynced with their directory before the commit that
             * refers to them; smaller ones stay in the database. @defaultValue 1048576
             */
            fileThresholdBytes: z.number().int().min(0).default(1024 * 1024),
          })
          .prefault({}),
        /** The Cassandra cluster (store.driver: cassandra); see src/store/cassandra/config-schema.ts. */
        cassandra: cassandraStoreSchema,
      })
      .prefault({}),
    search: z
      .strictObject({
        /** Search engine: embedded SQLite FTS5, or an Elasticsearch cluster. @defaultValue "sqlite" */
        driver: z.enum(['sqlite', 'elasticsearch']).default('sqlite'),
        /** FTS5 file, relative to dataDir. @defaultValue "search.sqlite" */
        sqlite: z.strictObject({ file: z.string().default('search.sqlite') }).prefault({}),
        elasticsearch: elasticsearchSchema,
        /** Indexer poll interval when the outbox is empty, in milliseconds. @defaultValue 500 */
        pollMs: z.number().int().positive().default(500),
        /** Outbox entries taken per indexer batch. @defaultValue 200 */
        batchSize: z.number().int().positive().default(200),
        /**
         * Bytes (estimated) of message content parsed at delivery held for this process's indexer,
         * so it need not read the message back and parse it again; 0 turns the handoff off. One
         * message's content over an eighth of this is not held. @defaultValue 16777216 (16 MiB)
         */
        handoffBytes: z.number().int().nonnegative().default(16 * 1024 * 1024),
      })
      .prefault({}),
    scoring: scoringSchema,
    /** Plugin chain, in order. */
    plugins: z.array(pluginEntry).default([
      { name: 'parse', timeoutMs: 5000, failOpen: false, config: {} },
      { name: 'spam', timeoutMs: 5000, failOpen: false, config: {} },
      // Contributes nothing until it has learned bayes.minTrained spam and ham (and says so in the ledger).
      { name: 'bayes', timeoutMs: 5000, failOpen: false, config: {} },
      { name: 'classify', timeoutMs: 5000, failOpen: false, config: {} },
    ]),
    log: z
      .strictObject({
        /** pino level. @defaultValue "info" */
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
    /** How long SIGTERM waits for transactions in flight, in milliseconds. @defaultValue 30000 */
    shutdownTimeoutMs: z.number().int().positive().default(30_000),
    /** Postfix socketmap lookups (domain, mailbox) answered from the store. @defaultValue off, 127.0.0.1:2426 */
    lookup: sideService(2426),
    /** Ops HTTP endpoint: /healthz, /readyz, /metrics, the admin API (opt-in), TLS. @defaultValue off, 127.0.0.1:9424 */
    ops: opsSchema,
    /** Authenticated submission listener (STARTTLS, AUTH PLAIN/LOGIN). @defaultValue off, 127.0.0.1:2587 */
    submission: submissionSchema,
    /** Outbound queue: driver, retry schedule, per-destination limits. */
    queue: queueSchema,
    /** Smarthost for all outbound mail; unset host = direct MX delivery. */
    relay: relaySchema,
    /** Direct delivery: MX port, DNS, MTA-STS, DANE. */
    delivery: deliverySchema,
    /** DKIM signing of outbound mail per sender domain. */
    dkim: dkimSchema,
  })
  .strict();

export type HermodConfig = z.infer<typeof configSchema>;
export type PluginEntry = z.infer<typeof pluginEntry>;
export type ScoringConfig = z.infer<typeof scoringSchema>;
