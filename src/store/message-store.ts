import type { BayesTokenStore, CredentialStore, EntryStore, MailDirectory, OutboxStore, StoreLifecycle } from './roles.js';

/**
 * The whole message store, as every adapter (SQLite, Cassandra) implements it: all the roles of
 * roles.ts. Only the code that opens, migrates or copies a store holds this; every other consumer
 * receives the roles it uses.
 */
export interface MessageStore extends StoreLifecycle, MailDirectory, EntryStore, OutboxStore, CredentialStore, BayesTokenStore {}
