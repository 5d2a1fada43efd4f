import { afterAll, beforeAll } from 'vitest';
import { describePasswordContract } from '../contract/message-store-passwords.contract.js';
import { TestKeyspace } from '../helpers/cassandra.js';

/** The submission-password contract SQLite runs, on Cassandra (a keyspace for this file). */
const keyspace = new TestKeyspace();

beforeAll(() => keyspace.create(), 120_000);
afterAll(() => keyspace.drop(), 60_000);

describePasswordContract('Cassandra', () => keyspace.freshStore());
