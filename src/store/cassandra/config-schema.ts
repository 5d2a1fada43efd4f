import { z } from 'zod';

/**
 * Config of the Cassandra message store (`store.cassandra`, used when `store.driver` is
 * `cassandra`). schema.ts mounts it; it lives here so the store room owns its own keys.
 */

/** `"a,b"` (as an environment variable gives it) → `["a", "b"]`; arrays pass through. */
const commaList = (value: unknown): unknown =>
  typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part !== '') : value;

/** Consistency levels a Hermod operator may choose for ordinary reads and writes. */
export const CONSISTENCY_LEVELS = ['ONE', 'TWO', 'THREE', 'QUORUM', 'ALL', 'LOCAL_QUORUM', 'EACH_QUORUM', 'LOCAL_ONE'] as const;
export type ConsistencyLevel = (typeof CONSISTENCY_LEVELS)[number];
/** Consistency levels of the Paxos phase of lightweight transactions. */
export const SERIAL_CONSISTENCY_LEVELS = ['SERIAL', 'LOCAL_SERIAL'] as const;
export type SerialConsistencyLevel = (typeof SERIAL_CONSISTENCY_LEVELS)[number];

const simpleStrategy = z.strictObject({
  class: z.literal('SimpleStrategy'),
  /** Copies of every row; 1 on a single development node. */
  replication_factor: z.number().int().min(1).max(32),
});

/** `{ class: NetworkTopologyStrategy, dc1: 3, dc2: 3 }`: replicas per datacenter. */
const networkTopologyStrategy = z
  .object({ class: z.literal('NetworkTopologyStrategy') })
  .catchall(z.number().int().min(0).max(32))
  .refine((r) => Object.keys(r).some((key) => key !== 'class'), {
    message: 'name at least one datacenter with its replica count, e.g. dc1: 3',
  });

/** Keyspace replication, written as CQL's replication map. */
export const replicationSchema = z.union([simpleStrategy, networkTopologyStrategy]);
export type CassandraReplication = z.infer<typeof replicationSchema>;

export const cassandraStoreSchema = z
  .strictObject({
    /** `host:port` of one or more nodes; a comma-separated string is accepted too. @defaultValue ["127.0.0.1:9042"] */
    contactPoints: z.preprocess(commaList, z.array(z.string().min(1)).min(1)).default(['127.0.0.1:9042']),
    /** The datacenter this Hermod node talks to (LOCAL_* consistency is counted there). @defaultValue "datacenter1" */
    localDataCenter: z.string().min(1).default('datacenter1'),
    /** Keyspace of all Hermod tables; created by `hermod migrate` when missing. @defaultValue "hermod" */
    keyspace: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,47}$/, 'must be lower-case letters, digits or "_", starting with a letter, at most 48')
      .default('hermod'),
    /**
     * Replication of a keyspace created by `hermod migrate`; an existing keyspace is left as it is
     * (change it with ALTER KEYSPACE and a repair). @defaultValue { class: SimpleStrategy, replication_factor: 1 }
     */
    replication: replicationSchema.default({ class: 'SimpleStrategy', replication_factor: 1 }),
    /** Consistency of every read and write; a delivery is answered 250 only once it is met. @defaultValue "LOCAL_QUORUM" */
    consistency: z.enum(CONSISTENCY_LEVELS).default('LOCAL_QUORUM'),
    /** Consistency of the Paxos phase of lightweight transactions (dedupe, unique addresses). @defaultValue "LOCAL_SERIAL" */
    serialConsistency: z.enum(SERIAL_CONSISTENCY_LEVELS).default('LOCAL_SERIAL'),
    /** Apply pending schema migrations when Hermod starts (else only `hermod migrate` does). @defaultValue true */
    migrateOnStart: z.boolean().default(true),
    /** Raw messages are stored in chunks of this many bytes (at most 4 MiB). @defaultValue 262144 */
    chunkBytes: z.number().int().min(1024).max(4 * 1024 * 1024).default(256 * 1024),
    /**
     * Client-side limit of one request in milliseconds; keep it above Cassandra's
     * write_request_timeout (2 s) and cas_contention_timeout (1 s). @defaultValue 10000
     */
    requestTimeoutMs: z.number().int().min(100).default(10_000),
    /**
     * How long a node serves an RCPT address lookup (address → mailbox) and a mailbox row from
     * memory, in milliseconds; 0 reads Cassandra every time. Only found addresses are kept: a new
     * mailbox or alias is reachable at once, while a removed one may still be accepted by other
     * nodes for this long (README, "Distributed engines"). @defaultValue 2000
     */
    addressCacheMs: z.number().int().min(0).max(60_000).default(2000),
    /**
     * How long a node serves the Bayes totals of a scope (messages learned as spam and ham) from
     * memory, in milliseconds; 0 reads them for every message. A learn on another node shows in
     * the totals this much later (its tokens at once). @defaultValue 5000
     */
    bayesTotalsCacheMs: z.number().int().min(0).max(600_000).default(5000),
    /**
     * How long a node serves the Bayes counts of a token (per scope) from memory, in
     * milliseconds; 0 reads every token of every message. A learn on another node shows in a
     * token's counts this much later; a learn through this node at once. @defaultValue 30000
     */
    bayesTokensCacheMs: z.number().int().min(0).max(600_000).default(30_000),
    /** User for PasswordAuthenticator; with `password`. Never logged. */
    username: z.string().min(1).optional(),
    /** Password for PasswordAuthenticator. Never logged. */
    password: z.string().min(1).optional(),
  })
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password go together',
  })
  .prefault({});

export type CassandraStoreConfig = z.infer<typeof cassandraStoreSchema>;
