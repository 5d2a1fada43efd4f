import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/message-store.js';

/** A fresh store and how to dispose of it (the same shape as the main contract's). */
export type MakePasswordStore = () => Promise<{ store: MessageStore; cleanup(): Promise<void> }>;

/**
 * The submission-password part of the MessageStore contract: `setPassword` / `getPasswordHash`.
 * Every adapter (SQLite now, Cassandra next) runs it.
 */
export function describePasswordContract(name: string, makeStore: MakePasswordStore): void {
  describe(`MessageStore passwords: ${name}`, () => {
    let store: MessageStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.addDomain('example.test');
      await store.addMailbox({ address: 'alice@example.test', aliases: ['al@example.test'], quotaBytes: 0 });
    });
    afterEach(async () => cleanup());

    it('has no hash until one is set, then finds it by address (any case) and by alias', async () => {
      expect(await store.getPasswordHash('alice@example.test')).toBeNull();
      await store.setPassword('alice@example.test', '$scrypt$N=2,r=1,p=1$c2FsdA==$a2V5');
      expect(await store.getPasswordHash('ALICE@example.test')).toBe('$scrypt$N=2,r=1,p=1$c2FsdA==$a2V5');
      expect(await store.getPasswordHash('al@example.test')).toBe('$scrypt$N=2,r=1,p=1$c2FsdA==$a2V5');
      expect(await store.getPasswordHash('nobody@example.test')).toBeNull();
    });

    it('replaces and clears the hash; an unknown mailbox is NotFoundError', async () => {
      await store.setPassword('alice@example.test', 'first');
      await store.setPassword('alice@example.test', 'second');
      expect(await store.getPasswordHash('alice@example.test')).toBe('second');
      await store.setPassword('alice@example.test', null);
      expect(await store.getPasswordHash('alice@example.test')).toBeNull();
      await expect(store.setPassword('nobody@example.test', 'x')).rejects.toMatchObject({ code: 'HERMOD_NOT_FOUND' });
    });

    it('never shows the hash in mailbox listings', async () => {
      await store.setPassword('alice@example.test', 'secret-hash');
      expect(JSON.stringify(await store.listMailboxes())).not.toContain('secret-hash');
      expect(JSON.stringify(await store.resolveAddress('alice@example.test'))).not.toContain('secret-hash');
    });
  });
}
