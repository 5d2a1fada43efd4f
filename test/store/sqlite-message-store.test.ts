import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InputError, StoreError } from '../../src/errors.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { describeMessageStoreContract } from '../contract/message-store.contract.js';
import { makeDelivery, rawMessage, sha256Hex } from './delivery-fixture.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'hermod-store-'));
}

describeMessageStoreContract('SQLite (file)', async () => {
  const dir = await tempDir();
  const store = new SqliteMessageStore({ file: join(dir, 'hermod.sqlite') });
  await store.init();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeMessageStoreContract('SQLite (:memory:)', async () => {
  const store = new SqliteMessageStore({ file: ':memory:' });
  await store.init();
  return { store, cleanup: () => store.close() };
});

describe('SqliteMessageStore specifics', () => {
  let dir: string;
  let file: string;
  const opened: { close(): unknown }[] = [];

  /** A store on the test's file, closed after the test. */
  async function openStore(busyTimeoutMs?: number): Promise<SqliteMessageStore> {
    const store = new SqliteMessageStore({ file, busyTimeoutMs });
    opened.push(store);
    await store.init();
    return store;
  }

  /** A second, independent connection to the same file, to look at what really is on disk. */
  function peek(): Database.Database {
    const db = new Database(file);
    opened.push(db);
    return db;
  }

  /** A store with one domain and mailbox. */
  async function withMailbox(busyTimeoutMs?: number) {
    const store = await openStore(busyTimeoutMs);
    await store.addDomain('example.com');
    const box = await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
    return { store, box };
  }

  beforeEach(async () => {
    dir = await tempDir();
    file = join(dir, 'nested', 'deeper', 'hermod.sqlite');
  });
  afterEach(async () => {
    for (const handle of opened.splice(0).reverse()) await handle.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens connections in WAL mode with synchronous=FULL and foreign keys on', () => {
    const db = openDatabase(file, 1234);
    opened.push(db);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
  });

  it('creates parent directories and records each migration once across reopenings', async () => {
    const first = await openStore();
    await first.close();
    await first.close(); // safe twice
    await openStore();
    const db = peek();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal'); // WAL is a property of the file
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('keeps deliveries, ledger and outbox across close and reopen', async () => {
    const { store, box } = await withMailbox();
    const delivery = makeDelivery(box.id);
    const { entryId } = await store.deliver(delivery);
    await store.close();

    const reopened = await openStore();
    expect((await reopened.resolveAddress('alice@example.com'))?.id).toBe(box.id);
    expect(Buffer.compare((await reopened.getRaw(delivery.sha256))!, delivery.raw)).toBe(0);
    expect((await reopened.listEntries({ mailboxId: box.id, limit: 5 })).map((e) => e.id)).toEqual([entryId]);
    expect(await reopened.getLedger(entryId)).toEqual(delivery.ledger);
    expect((await reopened.pendingOutbox(5)).map((i) => i.entryId)).toEqual([entryId]);
    // Same bytes after a restart are still recognised (MTA retry after a crash).
    expect(await reopened.deliver(delivery)).toEqual({ entryId, duplicate: true });
  });

  it('fails every call after close with a StoreError', async () => {
    const { store, box } = await withMailbox();
    await store.close();
    await expect(store.deliver(makeDelivery(box.id))).rejects.toBeInstanceOf(StoreError);
    await expect(store.listDomains()).rejects.toBeInstanceOf(StoreError);
  });

  it('turns a lock held by another connection into a StoreError and writes nothing', async () => {
    const { store, box } = await withMailbox(50);
    const other = peek();
    other.exec('BEGIN EXCLUSIVE');
    const failure = await store.deliver(makeDelivery(box.id)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('HERMOD_STORE');
    expect(((failure as StoreError).cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    other.exec('ROLLBACK');
    expect(await store.outboxLength()).toBe(0);
    expect((await store.deliver(makeDelivery(box.id))).duplicate).toBe(false);
  });

  it('rolls back the whole delivery when a step fails half-way', async () => {
    const { store, box } = await withMailbox();
    const good = makeDelivery(box.id);
    // A BigInt cannot be serialised: the ledger insert throws after the blob and entry rows.
    const ledger = [...good.ledger, { ...good.ledger[0], details: { n: 1n } as Record<string, unknown> }];
    await expect(store.deliver({ ...good, ledger })).rejects.toBeInstanceOf(StoreError);
    expect(await store.listEntries({ mailboxId: box.id, limit: 5 })).toEqual([]);
    expect(await store.getRaw(good.sha256)).toBeNull();
    expect(await store.outboxLength()).toBe(0);
    expect(await store.mailboxUsage(box.id)).toBe(0);
    expect((await store.deliver(good)).duplicate).toBe(false);
  });

  it('commits concurrent deliveries together, each with its own outcome', async () => {
    const { store, box } = await withMailbox();
    const same = rawMessage();
    const bad = { ...makeDelivery(box.id), sha256: '0'.repeat(64) };
    const results = await Promise.allSettled([
      store.deliver(makeDelivery(box.id, { raw: same })),
      store.deliver(bad),
      store.deliver(makeDelivery(box.id, { raw: same })),
      store.deliver(makeDelivery(box.id)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const [first, , again] = results as PromiseFulfilledResult<{ entryId: string; duplicate: boolean }>[];
    expect(again.value).toEqual({ entryId: first.value.entryId, duplicate: true });
    expect(peek().prepare('SELECT count(*) AS n FROM mailbox_entries').get()).toEqual({ n: 2 });
  });

  it('refuses a delivery whose sha256 is not the hash of its bytes', async () => {
    const { store, box } = await withMailbox();
    const delivery = makeDelivery(box.id, { sha256: sha256Hex(rawMessage()) });
    await expect(store.deliver(delivery)).rejects.toBeInstanceOf(InputError);
    expect(await store.outboxLength()).toBe(0);
  });

  it('drops blobs only their removed mailbox held', async () => {
    const { store, box } = await withMailbox();
    const bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
    const own = makeDelivery(box.id);
    const shared = rawMessage();
    await store.deliver(own);
    await store.deliver(makeDelivery(box.id, { raw: shared }));
    await store.deliver(makeDelivery(bob.id, { raw: shared }));
    await store.removeMailbox('alice@example.com');
    expect(await store.getRaw(own.sha256)).toBeNull();
    expect(await store.getRaw(sha256Hex(shared))).not.toBeNull();
    expect(peek().prepare('SELECT COUNT(*) AS n FROM ledger').get()).toEqual({ n: 2 });
  });

  it('acknowledges outbox items in a commit without its own fsync, then restores synchronous=FULL', async () => {
    const { store, box } = await withMailbox();
    await store.deliver(makeDelivery(box.id));
    const state = (store as unknown as { state: { db: Database.Database; wal: { unsynced: (f: () => unknown) => unknown } } }).state;
    const unsynced = vi.spyOn(state.wal, 'unsynced');
    const seqs = (await store.pendingOutbox(5)).map((item) => item.seq);
    await store.ackOutbox(seqs);
    // A lost acknowledgement only replays items the index already holds (a no-op by version).
    expect(unsynced).toHaveBeenCalledTimes(1);
    expect(state.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(peek().prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 0 });
  });

  it('backs off failed outbox items exponentially, capped at five minutes', async () => {
    const { store, box } = await withMailbox();
    await store.deliver(makeDelivery(box.id));
    const [item] = await store.pendingOutbox(1);
    const db = peek();
    const row = () =>
      db.prepare('SELECT attempts, next_attempt_at AS at FROM outbox WHERE seq = ?').get(item.seq) as {
        attempts: number;
        at: number;
      };
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const before = Date.now();
      await store.failOutbox([item.seq]);
      delays.push(Math.round((row().at - before) / 1000));
    }
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    expect(row().attempts).toBe(12);
  });

  it('refuses to open a database written by a newer schema', async () => {
    const store = await openStore();
    await store.close();
    peek().prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run();
    const newer = new SqliteMessageStore({ file });
    opened.push(newer);
    await expect(newer.init()).rejects.toThrow(/version 999/);
  });
});
