export { SqliteMessageStore, type SqliteMessageStoreOptions } from './sqlite-message-store.js';
export { MIGRATIONS, type Migration } from './migrations.js';
