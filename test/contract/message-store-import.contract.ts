import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/store/message-store.js';
import { makeDelivery } from '../store/delivery-fixture.js';
import type { MakeStore } from './message-store.contract.js';

/**
 * The MessageStore contract for data migration (`hermod migrate-data`): a mailbox and an entry
 * copied from another store keep their ids and times, an imported entry queues no outbox item,
 * and importing it again is a duplicate. Part of the suite every adapter runs.
 */
export function describeImportContract(name: string, makeStore: MakeStore): void {
  describe(`MessageStore contract (data migration): ${name}`, () => {
    let store: MessageStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.addDomain('example.com');
    });
    afterEach(async () => {
      await cleanup();
    });

    it('keeps the id and creation time of an imported mailbox', async () => {
      const createdAt = new Date('2023-04-05T06:07:08.009Z');
      const id = '01GX0000000000000000000001';
      const box = await store.addMailbox({ address: 'old@example.com', aliases: ['o@example.com'], quotaBytes: 5, imported: { id, createdAt } });
      expect(box).toMatchObject({ id, address: 'old@example.com', quotaBytes: 5 });
      const found = await store.resolveAddress('o@example.com');
      expect(found?.id).toBe(id);
      expect(found?.createdAt.toISOString()).toBe(createdAt.toISOString());
    });

    it('keeps the id and arrival time of an imported entry, queues nothing, and dedupes a repeat', async () => {
      const box = await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
      const imported = { entryId: '01GX0000000000000000000ABC', receivedAt: new Date('2023-05-06T07:08:09.010Z') };
      const delivery = makeDelivery(box.id, { folder: 'Archive', tags: ['old'], imported });
      expect(await store.deliver(delivery)).toEqual({ entryId: imported.entryId, duplicate: false });
      expect(await store.outboxLength()).toBe(0);
      const entry = await store.getEntry(imported.entryId);
      expect(entry).toMatchObject({ id: imported.entryId, folder: 'Archive', tags: ['old'], mailboxId: box.id });
      expect(entry?.receivedAt.toISOString()).toBe(imported.receivedAt.toISOString());
      const [listed] = await store.listEntries({ mailboxId: box.id, folder: 'Archive', limit: 10 });
      expect(listed.id).toBe(imported.entryId);
      expect(await store.deliver(delivery)).toEqual({ entryId: imported.entryId, duplicate: true });
      // The repeat leaves the entry whole: fetchable with its ledger, still listed.
      expect(await store.getEntry(imported.entryId)).toEqual(entry);
      expect(await store.getLedger(imported.entryId)).toEqual(delivery.ledger);
      expect((await store.listEntries({ mailboxId: box.id, limit: 10 })).map((e) => e.id)).toEqual([imported.entryId]);
      expect(await store.mailboxUsage(box.id)).toBe(entry?.size);
      // A normal delivery after it still gets a new, newer id.
      const next = await store.deliver(makeDelivery(box.id));
      expect(next.entryId > imported.entryId).toBe(true);
      expect(await store.outboxLength()).toBe(1);
    });
  });
}
