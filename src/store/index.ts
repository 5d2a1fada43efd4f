export type { MessageStore } from './message-store.js';
export type { BayesTokenStore, CredentialStore, EntryStore, MailDirectory, OutboxStore, StoreLifecycle } from './roles.js';
export * from './types.js';
export { openMessageStore } from './open-store.js';
