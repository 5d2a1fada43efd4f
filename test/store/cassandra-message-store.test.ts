import { afterAll, beforeAll } from 'vitest';
import { describeMessageStoreContract } from '../contract/message-store.contract.js';
import { TestKeyspace } from '../helpers/cassandra.js';

/**
 * The MessageStore contract (the same suite the SQLite store runs) against Apache Cassandra: one
 * keyspace for this file (`hermod_test_<hex>`), migrated once, emptied between tests and dropped
 * at the end. The Cassandra node comes from test/global-setup.ts (HERMOD_TEST_CASSANDRA).
 */
const keyspace = new TestKeyspace();

beforeAll(() => keyspace.create(), 120_000);
afterAll(() => keyspace.drop(), 60_000);

describeMessageStoreContract('Cassandra', () => keyspace.freshStore());
