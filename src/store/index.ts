export type { EntryRemoval, MessageStore } from './message-store.js';
export * from './types.js';
export { openMessageStore } from './open-store.js';
