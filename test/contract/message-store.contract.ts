import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, NotFoundError, StoreError } from '../../src/errors.js';
import type { MessageStore } from '../../src/store/message-store.js';
import type { Mailbox } from '../../src/store/types.js';
import { largeRawMessage, makeDelivery, rawMessage, sha256Hex } from '../store/delivery-fixture.js';
import { expectBatchedReads } from '../store/batched-reads.js';
import { describeEntryChangeContract } from './message-store-changes.contract.js';
import { describeImportContract } from './message-store-import.contract.js';
import { describeEntryRemovalContract } from './message-store-removal.contract.js';

/** Builds a fresh, initialised, empty store for one test, and a way to dispose of it. */
export type MakeStore = () => Promise<{ store: MessageStore; cleanup: () => Promise<void> }>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The MessageStore contract, run against every adapter (SQLite now, Cassandra later). It speaks
 * only through the MessageStore interface, so anything it checks is promised by all adapters.
 */
export function describeMessageStoreContract(name: string, makeStore: MakeStore): void {
  describe(`MessageStore contract: ${name}`, () => {
    let store: MessageStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    /** A local domain with one mailbox, the usual starting point. */
    async function alice(): Promise<Mailbox> {
      await store.addDomain('example.com');
      return store.addMailbox({ address: 'alice@example.com', aliases: ['al@example.com'], quotaBytes: 1000 });
    }

    describe('domains', () => {
      it('adds lower-cased, lists by name and answers isLocalDomain case-insensitively', async () => {
        const added = await store.addDomain('Example.COM');
        await store.addDomain('another.test');
        expect(added.name).toBe('example.com');
        expect(added.createdAt).toBeInstanceOf(Date);
        expect((await store.listDomains()).map((d) => d.name)).toEqual(['another.test', 'example.com']);
        expect(await store.isLocalDomain('EXAMPLE.com')).toBe(true);
        expect(await store.isLocalDomain('elsewhere.test')).toBe(false);
      });

      it('refuses a duplicate, in any case, naming the domain', async () => {
        await store.addDomain('example.com');
        await expect(store.addDomain('EXAMPLE.com')).rejects.toBeInstanceOf(InputError);
        await expect(store.addDomain('example.com')).rejects.toThrow(/example\.com/);
      });

      it.each(['', 'localhost-only', 'bad..dots.com', '-lead.com', 'under_score.com', '10.0.0.1', 'sp ace.com'])(
        'refuses the implausible domain name %j',
        async (bad) => {
          await expect(store.addDomain(bad)).rejects.toBeInstanceOf(InputError);
        },
      );

      it('removes an empty domain; a missing one is NotFoundError', async () => {
        await store.addDomain('example.com');
        await store.removeDomain('Example.com');
        expect(await store.isLocalDomain('example.com')).toBe(false);
        await expect(store.removeDomain('example.com')).rejects.toBeInstanceOf(NotFoundError);
      });

      it('refuses to remove a domain that still has mailboxes', async () => {
        await alice();
        await expect(store.removeDomain('example.com')).rejects.toBeInstanceOf(InputError);
        await store.removeMailbox('alice@example.com');
        await store.removeDomain('example.com');
        expect(await store.listDomains()).toEqual([]);
      });
    });

    describe('mailboxes', () => {
      it('adds lower-cased with aliases and quota, and lists all or per domain', async () => {
        await store.addDomain('example.com');
        await store.addDomain('other.test');
        const box = await store.addMailbox({
          address: 'Alice@Example.COM',
          aliases: ['AL@example.com', 'alice@other.test'],
          quotaBytes: 5000,
        });
        expect(box).toMatchObject({ address: 'alice@example.com', quotaBytes: 5000 });
        expect([...box.aliases].sort()).toEqual(['al@example.com', 'alice@other.test']);
        expect(box.id).toEqual(expect.any(String));
        await store.addMailbox({ address: 'bob@other.test', quotaBytes: 0 });

        const all = await store.listMailboxes();
        expect(all.map((m) => m.address).sort()).toEqual(['alice@example.com', 'bob@other.test']);
        const listed = all.find((m) => m.id === box.id);
        expect([...(listed?.aliases ?? [])].sort()).toEqual(['al@example.com', 'alice@other.test']);
        expect((await store.listMailboxes('Other.Test')).map((m) => m.address)).toEqual(['bob@other.test']);
        expect(await store.listMailboxes('nowhere.test')).toEqual([]);
      });

      it('refuses an address whose domain is not local, naming the domain', async () => {
        await expect(store.addMailbox({ address: 'x@missing.test', quotaBytes: 0 })).rejects.toThrow(/missing\.test/);
        await expect(store.addMailbox({ address: 'x@missing.test', quotaBytes: 0 })).rejects.toBeInstanceOf(
          InputError,
        );
      });

      it('refuses an alias outside the local domains', async () => {
        await store.addDomain('example.com');
        const attempt = store.addMailbox({ address: 'a@example.com', aliases: ['a@remote.test'], quotaBytes: 0 });
        await expect(attempt).rejects.toThrow(/remote\.test/);
        expect(await store.listMailboxes()).toEqual([]);
      });

      it.each(['no-at-sign', '@example.com', 'a b@example.com', 'a@', 'a..b@example.com'])(
        'refuses the malformed address %j',
        async (bad) => {
          await store.addDomain('example.com');
          await expect(store.addMailbox({ address: bad, quotaBytes: 0 })).rejects.toBeInstanceOf(InputError);
        },
      );

      it('refuses a negative quota', async () => {
        await store.addDomain('example.com');
        await expect(store.addMailbox({ address: 'a@example.com', quotaBytes: -1 })).rejects.toBeInstanceOf(
          InputError,
        );
      });

      it.each([
        ['address taken by an address', { address: 'ALICE@example.com' }],
        ['address taken by an alias', { address: 'al@example.com' }],
        ['alias taken by an address', { address: 'new@example.com', aliases: ['alice@example.com'] }],
        ['alias taken by an alias', { address: 'new@example.com', aliases: ['Al@example.com'] }],
        ['alias equal to its own address', { address: 'new@example.com', aliases: ['new@example.com'] }],
      ])('refuses a collision: %s, and writes nothing', async (_label, input) => {
        await alice();
        await expect(store.addMailbox({ quotaBytes: 0, ...input })).rejects.toBeInstanceOf(InputError);
        expect((await store.listMailboxes()).map((m) => m.address)).toEqual(['alice@example.com']);
      });

      it('removes a mailbox and frees its address and aliases; a missing one is NotFoundError', async () => {
        await alice();
        await store.removeMailbox('Alice@Example.com');
        expect(await store.resolveAddress('alice@example.com')).toBeNull();
        expect(await store.resolveAddress('al@example.com')).toBeNull();
        expect(await store.listMailboxes()).toEqual([]);
        await store.addMailbox({ address: 'other@example.com', aliases: ['al@example.com'], quotaBytes: 0 });
        await expect(store.removeMailbox('alice@example.com')).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('address resolution', () => {
      it('finds a mailbox by address or alias, in any case', async () => {
        const box = await alice();
        expect((await store.resolveAddress('alice@example.com'))?.id).toBe(box.id);
        expect((await store.resolveAddress('ALICE@Example.Com'))?.id).toBe(box.id);
        expect((await store.resolveAddress('Al@EXAMPLE.com'))?.id).toBe(box.id);
        expect((await store.resolveAddress('al@example.com'))?.address).toBe('alice@example.com');
      });

      it('strips a +tag sub-address when there is no exact match', async () => {
        const box = await alice();
        expect((await store.resolveAddress('alice+news@example.com'))?.id).toBe(box.id);
        expect((await store.resolveAddress('Al+Shop+x@example.com'))?.id).toBe(box.id);
        expect(await store.resolveAddress('nobody+tag@example.com')).toBeNull();
      });

      it('prefers an exact mailbox over stripping the +tag', async () => {
        await alice();
        const tagged = await store.addMailbox({ address: 'alice+work@example.com', quotaBytes: 0 });
        expect((await store.resolveAddress('alice+work@example.com'))?.id).toBe(tagged.id);
      });

      it('returns null for unknown, foreign or malformed addresses', async () => {
        await alice();
        expect(await store.resolveAddress('bob@example.com')).toBeNull();
        expect(await store.resolveAddress('alice@elsewhere.test')).toBeNull();
        expect(await store.resolveAddress('')).toBeNull();
        expect(await store.resolveAddress('not an address')).toBeNull();
      });
    });

    describe('delivery', () => {
      it('keeps the raw bytes exact and serves prepended headers + raw as the full message', async () => {
        const box = await alice();
        const delivery = makeDelivery(box.id);
        const { entryId, duplicate } = await store.deliver(delivery);
        expect(duplicate).toBe(false);

        const raw = await store.getRaw(delivery.sha256);
        expect(raw).not.toBeNull();
        expect(Buffer.compare(raw!, delivery.raw)).toBe(0);
        expect(raw!.includes(Buffer.from([0xe9, 0x20, 0xff, 0x0d, 0x0a]))).toBe(true);

        const full = await store.getFullMessage(entryId);
        const expected = Buffer.concat([Buffer.from(delivery.prependHeaders, 'utf8'), delivery.raw]);
        expect(Buffer.compare(full!, expected)).toBe(0);
      });

      it('keeps a 3 MiB message byte-exact for two mailboxes, and its bytes until the last entry goes', async () => {
        const box = await alice();
        const bob = await store.addMailbox({ address: 'bob@example.com', aliases: [], quotaBytes: 0 });
        const raw = largeRawMessage(3 * 1024 * 1024);
        const first = await store.deliver(makeDelivery(box.id, { raw }));
        const second = await store.deliver(makeDelivery(bob.id, { raw }));
        const sha256 = sha256Hex(raw);
        expect(Buffer.compare((await store.getRaw(sha256))!, raw)).toBe(0);
        const full = (await store.getFullMessage(second.entryId))!;
        expect(Buffer.compare(full.subarray(full.length - raw.length), raw)).toBe(0);

        await store.deleteEntry(first.entryId);
        expect(Buffer.compare((await store.getRaw(sha256))!, raw)).toBe(0);
        const deletion = await store.deleteEntry(second.entryId);
        expect(deletion.blobRemoved).toBe(true);
        expect(await store.getRaw(sha256)).toBeNull();
      });

      it('reads several entries and raw messages at once, small, large and missing alike', async () => {
        const box = await alice();
        const raws = [rawMessage(), rawMessage(), largeRawMessage(2 * 1024 * 1024)];
        await expectBatchedReads(store, box.id, raws, {
          entryId: '01J00000000000000000000000',
          sha256s: (shas) => [shas[0].toUpperCase(), '0'.repeat(64)],
        });
        expect((await store.getEntries([])).size).toBe(0);
        expect((await store.getRaws([])).size).toBe(0);
      });

      it('round-trips every entry field', async () => {
        const box = await alice();
        const delivery = makeDelivery(box.id, { flags: ['\\Seen'], folder: 'Newsletters' });
        const before = Date.now();
        const { entryId } = await store.deliver(delivery);
        const entry = await store.getEntry(entryId);
        expect(entry).toMatchObject({
          id: entryId,
          mailboxId: box.id,
          mailboxAddress: 'alice@example.com',
          folder: 'Newsletters',
          sha256: delivery.sha256,
          flags: ['\\Seen'],
          tags: delivery.tags,
          importance: delivery.importance,
          spamScore: delivery.spamScore,
          threadId: delivery.threadId,
          envelope: delivery.envelope,
        });
        expect(entry!.summary).toEqual(delivery.summary);
        expect(entry!.receivedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(entry!.receivedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      });

      it('keeps a missing Date header and message id as null', async () => {
        const box = await alice();
        const base = makeDelivery(box.id);
        const { entryId } = await store.deliver({ ...base, summary: { ...base.summary, date: null, messageId: null } });
        const entry = await store.getEntry(entryId);
        expect(entry!.summary.date).toBeNull();
        expect(entry!.summary.messageId).toBeNull();
      });

      it('makes one entry when the same bytes reach the same mailbox twice', async () => {
        const box = await alice();
        const raw = rawMessage();
        const first = await store.deliver(makeDelivery(box.id, { raw }));
        const again = await store.deliver(makeDelivery(box.id, { raw, folder: 'Other', tags: ['x'] }));
        expect(again).toEqual({ entryId: first.entryId, duplicate: true });
        expect(await store.listEntries({ mailboxId: box.id, limit: 10 })).toHaveLength(1);
        expect((await store.getEntry(first.entryId))!.folder).toBe('INBOX');
        expect(await store.outboxLength()).toBe(1);
      });

      it('finds the entry an earlier delivery of the same bytes made in that mailbox, and only there', async () => {
        const box = await alice();
        const bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
        const raw = rawMessage();
        expect(await store.findDelivered(box.id, sha256Hex(raw))).toBeNull();
        const { entryId } = await store.deliver(makeDelivery(box.id, { raw }));
        expect(await store.findDelivered(box.id, sha256Hex(raw))).toBe(entryId);
        expect(await store.findDelivered(box.id, sha256Hex(raw).toUpperCase())).toBe(entryId);
        expect(await store.findDelivered(bob.id, sha256Hex(raw))).toBeNull();
      });

      it('makes one entry per mailbox, sharing the bytes, when two mailboxes get the same message', async () => {
        const box = await alice();
        const bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
        const raw = rawMessage();
        const a = await store.deliver(makeDelivery(box.id, { raw }));
        const b = await store.deliver(makeDelivery(bob.id, { raw }));
        expect(b.duplicate).toBe(false);
        expect(b.entryId).not.toBe(a.entryId);
        expect((await store.getEntry(b.entryId))!.sha256).toBe(sha256Hex(raw));
        // The shared bytes outlive either holder.
        await store.removeMailbox('alice@example.com');
        expect(Buffer.compare((await store.getFullMessage(b.entryId))!.subarray(-raw.length), raw)).toBe(0);
        expect(Buffer.compare((await store.getRaw(sha256Hex(raw)))!, raw)).toBe(0);
      });

      it('refuses delivery to a mailbox that does not exist with a StoreError', async () => {
        await alice();
        await expect(store.deliver(makeDelivery('no-such-mailbox'))).rejects.toBeInstanceOf(StoreError);
      });

      it('returns null or empty for things that do not exist', async () => {
        await alice();
        expect(await store.getEntry('01J00000000000000000000000')).toBeNull();
        expect(await store.getFullMessage('01J00000000000000000000000')).toBeNull();
        expect(await store.getRaw('0'.repeat(64))).toBeNull();
        expect(await store.getLedger('01J00000000000000000000000')).toEqual([]);
      });

      it('round-trips the ledger in order, with and without details', async () => {
        const box = await alice();
        const delivery = makeDelivery(box.id);
        const { entryId } = await store.deliver(delivery);
        expect(await store.getLedger(entryId)).toEqual(delivery.ledger);
      });
    });

    describe('listing', () => {
      async function deliverMany(mailboxId: string, folders: string[]): Promise<string[]> {
        const ids: string[] = [];
        for (const folder of folders) ids.push((await store.deliver(makeDelivery(mailboxId, { folder }))).entryId);
        return ids;
      }

      it('lists newest first and pages with the before cursor', async () => {
        const box = await alice();
        const ids = await deliverMany(box.id, ['INBOX', 'INBOX', 'INBOX', 'INBOX', 'INBOX']);
        const newestFirst = [...ids].reverse();
        const page1 = await store.listEntries({ mailboxId: box.id, limit: 2 });
        expect(page1.map((e) => e.id)).toEqual(newestFirst.slice(0, 2));
        const page2 = await store.listEntries({ mailboxId: box.id, limit: 2, before: page1[1].id });
        expect(page2.map((e) => e.id)).toEqual(newestFirst.slice(2, 4));
        const page3 = await store.listEntries({ mailboxId: box.id, limit: 2, before: page2[1].id });
        expect(page3.map((e) => e.id)).toEqual(newestFirst.slice(4));
      });

      it('filters by folder and keeps mailboxes apart', async () => {
        const box = await alice();
        const bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
        const ids = await deliverMany(box.id, ['INBOX', 'Junk', 'INBOX', 'Junk', 'INBOX']);
        await deliverMany(bob.id, ['INBOX']);
        const junk = await store.listEntries({ mailboxId: box.id, folder: 'Junk', limit: 10 });
        expect(junk.map((e) => e.id)).toEqual([ids[3], ids[1]]);
        const inboxPage = await store.listEntries({ mailboxId: box.id, folder: 'INBOX', limit: 10, before: ids[4] });
        expect(inboxPage.map((e) => e.id)).toEqual([ids[2], ids[0]]);
        expect(await store.listEntries({ mailboxId: box.id, limit: 10 })).toHaveLength(5);
        expect(await store.listEntries({ mailboxId: box.id, folder: 'Sent', limit: 10 })).toEqual([]);
        expect(await store.listEntries({ mailboxId: 'no-such-mailbox', limit: 10 })).toEqual([]);
      });
    });

    describe('usage', () => {
      it('sums entry sizes (prepended headers + raw bytes), counting a duplicate once', async () => {
        const box = await alice();
        expect(await store.mailboxUsage(box.id)).toBe(0);
        const one = makeDelivery(box.id);
        const two = makeDelivery(box.id, { prependHeaders: '' });
        const { entryId } = await store.deliver(one);
        await store.deliver(two);
        await store.deliver(one);
        const size = (d: typeof one) => Buffer.byteLength(d.prependHeaders, 'utf8') + d.raw.length;
        expect((await store.getEntry(entryId))!.size).toBe(size(one));
        expect(await store.mailboxUsage(box.id)).toBe(size(one) + size(two));
      });
    });

    describe('outbox', () => {
      it('gets one upsert per delivery, oldest first, with increasing seq and version', async () => {
        const box = await alice();
        const raw = rawMessage();
        const a = await store.deliver(makeDelivery(box.id, { raw }));
        const b = await store.deliver(makeDelivery(box.id));
        await store.deliver(makeDelivery(box.id, { raw })); // a duplicate queues nothing
        expect(await store.outboxLength()).toBe(2);
        const items = await store.pendingOutbox(10);
        expect(items.map((i) => [i.entryId, i.mailboxId, i.op, i.attempts])).toEqual([
          [a.entryId, box.id, 'upsert', 0],
          [b.entryId, box.id, 'upsert', 0],
        ]);
        expect(items[1].seq).toBeGreaterThan(items[0].seq);
        expect(items[1].version).toBeGreaterThan(items[0].version);
        expect(await store.pendingOutbox(1)).toEqual([items[0]]);
      });

      it('drops acknowledged items and ignores unknown or empty acks', async () => {
        const box = await alice();
        await store.deliver(makeDelivery(box.id));
        await store.deliver(makeDelivery(box.id));
        const [first, second] = await store.pendingOutbox(10);
        await store.ackOutbox([first.seq]);
        await store.ackOutbox([first.seq, 987654321]);
        await store.ackOutbox([]);
        expect(await store.outboxLength()).toBe(1);
        expect(await store.pendingOutbox(10)).toEqual([second]);
      });

      it('holds a failed item back for a while, still counting it, then offers it again', async () => {
        const box = await alice();
        await store.deliver(makeDelivery(box.id));
        await store.deliver(makeDelivery(box.id));
        const [first, second] = await store.pendingOutbox(10);
        await store.failOutbox([first.seq]);
        expect(await store.outboxLength()).toBe(2);
        expect((await store.pendingOutbox(10)).map((i) => i.seq)).toEqual([second.seq]);
        await sleep(1100);
        const again = await store.pendingOutbox(10);
        expect(again.map((i) => [i.seq, i.attempts])).toEqual([
          [first.seq, 1],
          [second.seq, 0],
        ]);
      });

      it('queues a delete, newer than its upsert, for every entry of a removed mailbox', async () => {
        const box = await alice();
        const bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
        const a1 = await store.deliver(makeDelivery(box.id));
        const a2 = await store.deliver(makeDelivery(box.id));
        const b1 = await store.deliver(makeDelivery(bob.id));
        const upserts = await store.pendingOutbox(10);
        await store.ackOutbox(upserts.map((i) => i.seq));

        await store.removeMailbox('alice@example.com');
        const deletes = await store.pendingOutbox(10);
        expect(deletes.map((i) => [i.op, i.mailboxId]).sort()).toEqual([
          ['delete', box.id],
          ['delete', box.id],
        ]);
        expect(deletes.map((i) => i.entryId).sort()).toEqual([a1.entryId, a2.entryId].sort());
        const newestUpsert = Math.max(...upserts.map((i) => i.version));
        for (const item of deletes) expect(item.version).toBeGreaterThan(newestUpsert);
        expect(await store.getEntry(a1.entryId)).toBeNull();
        expect(await store.getLedger(a1.entryId)).toEqual([]);
        expect(await store.getEntry(b1.entryId)).not.toBeNull();
        expect(await store.mailboxUsage(box.id)).toBe(0);
      });
    });
  });
  describeEntryChangeContract(name, makeStore);
  describeImportContract(name, makeStore);
  describeEntryRemovalContract(name, makeStore);
}
