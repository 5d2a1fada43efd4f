import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, NotFoundError } from '../../src/errors.js';
import type { MessageStore } from '../../src/store/message-store.js';
import type { Mailbox } from '../../src/store/types.js';
import { makeDelivery, rawMessage, sha256Hex } from '../store/delivery-fixture.js';
import type { MakeStore } from './message-store.contract.js';

const MISSING_ID = '01J00000000000000000000000';

/**
 * The MessageStore contract for folder names, folder listing and entry deletion. Part of the
 * contract suite every adapter runs (called from describeMessageStoreContract).
 */
export function describeEntryRemovalContract(name: string, makeStore: MakeStore): void {
  describe(`MessageStore contract (folders and deletion): ${name}`, () => {
    let store: MessageStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    async function mailboxes(): Promise<[Mailbox, Mailbox]> {
      await store.addDomain('example.com');
      return [
        await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 }),
        await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 }),
      ];
    }

    it('treats INBOX in any case as INBOX, in deliveries, moves and listings', async () => {
      const [alice] = await mailboxes();
      const { entryId } = await store.deliver(makeDelivery(alice.id, { folder: 'inbox' }));
      expect((await store.getEntry(entryId))!.folder).toBe('INBOX');
      await store.ackOutbox((await store.pendingOutbox(10)).map((i) => i.seq));
      expect((await store.moveEntry(entryId, 'Inbox')).folder).toBe('INBOX');
      expect(await store.outboxLength()).toBe(0);
      expect((await store.listEntries({ mailboxId: alice.id, folder: 'iNbOx', limit: 5 })).map((e) => e.id)).toEqual([entryId]);
      expect((await store.moveEntry(entryId, 'inbox/Lists')).folder).toBe('INBOX/Lists');
      expect((await store.listFolders(alice.id)).map((f) => f.folder)).toEqual(['INBOX/Lists']);
    });

    it.each(['A/B"C', 'a//b', '/lead', 'trail/', 'x/../y', '.', 'tab\there', 'star*', 'per%cent', 'back\\slash', 'x'.repeat(256), Array(11).fill('l').join('/')])(
      'refuses the folder name %j',
      async (bad) => {
        const [alice] = await mailboxes();
        const { entryId } = await store.deliver(makeDelivery(alice.id));
        await expect(store.moveEntry(entryId, bad)).rejects.toBeInstanceOf(InputError);
        expect((await store.getEntry(entryId))!.folder).toBe('INBOX');
      },
    );

    it('lists the folders holding entries, by name, with counts and sizes that add up to the usage', async () => {
      const [alice, bob] = await mailboxes();
      expect(await store.listFolders(alice.id)).toEqual([]);
      const sizes: Record<string, number> = {};
      for (const folder of ['INBOX', 'Junk', 'INBOX', 'Archive/2024']) {
        const delivery = makeDelivery(alice.id, { folder });
        await store.deliver(delivery);
        sizes[folder] = (sizes[folder] ?? 0) + Buffer.byteLength(delivery.prependHeaders) + delivery.raw.length;
      }
      await store.deliver(makeDelivery(bob.id));
      expect(await store.listFolders(alice.id)).toEqual([
        { folder: 'Archive/2024', messages: 1, bytes: sizes['Archive/2024'] },
        { folder: 'INBOX', messages: 2, bytes: sizes.INBOX },
        { folder: 'Junk', messages: 1, bytes: sizes.Junk },
      ]);
      const total = (await store.listFolders(alice.id)).reduce((sum, f) => sum + f.bytes, 0);
      expect(total).toBe(await store.mailboxUsage(alice.id));
      const listed = await store.listEntries({ mailboxId: alice.id, limit: 10 });
      expect(listed.reduce((sum, e) => sum + e.size, 0)).toBe(total);
    });

    it('deletes an entry with its ledger, queues an index delete, and keeps bytes another entry holds', async () => {
      const [alice, bob] = await mailboxes();
      const raw = rawMessage();
      const a = await store.deliver(makeDelivery(alice.id, { raw }));
      const b = await store.deliver(makeDelivery(bob.id, { raw }));
      await store.ackOutbox((await store.pendingOutbox(10)).map((i) => i.seq));
      const usage = await store.mailboxUsage(alice.id);

      const first = await store.deleteEntry(a.entryId);
      expect(first).toMatchObject({ entry: { id: a.entryId, mailboxId: alice.id }, blobRemoved: false });
      expect(await store.getEntry(a.entryId)).toBeNull();
      expect(await store.getLedger(a.entryId)).toEqual([]);
      expect(await store.listEntries({ mailboxId: alice.id, limit: 10 })).toEqual([]);
      expect(await store.listFolders(alice.id)).toEqual([]);
      expect(await store.mailboxUsage(alice.id)).toBe(usage - first.entry.size);
      expect((await store.pendingOutbox(10)).map((i) => [i.entryId, i.mailboxId, i.op])).toEqual([[a.entryId, alice.id, 'delete']]);
      expect((await store.getRaw(sha256Hex(raw)))!.equals(raw)).toBe(true);
      expect((await store.getFullMessage(b.entryId))!.subarray(-raw.length).equals(raw)).toBe(true);

      const last = await store.deleteEntry(b.entryId);
      expect(last.blobRemoved).toBe(true);
      expect(await store.getRaw(sha256Hex(raw))).toBeNull();
      await expect(store.deleteEntry(b.entryId)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.deleteEntry(MISSING_ID)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('stores the same bytes again as a new entry after its entry was deleted', async () => {
      const [alice] = await mailboxes();
      const delivery = makeDelivery(alice.id);
      const first = await store.deliver(delivery);
      await store.deleteEntry(first.entryId);
      const again = await store.deliver(delivery);
      expect(again.duplicate).toBe(false);
      expect(again.entryId).not.toBe(first.entryId);
      expect((await store.getFullMessage(again.entryId))!.subarray(-delivery.raw.length).equals(delivery.raw)).toBe(true);
      expect((await store.listFolders(alice.id))[0]).toMatchObject({ folder: 'INBOX', messages: 1 });
    });
  });
}
