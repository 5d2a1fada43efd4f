import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';

/** A promise with its resolve and reject at hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('GroupCommit with a durability step', () => {
  it('resolves the callers of a written batch only once the batch is durable', async () => {
    const sync = deferred();
    const commits = new GroupCommit((items: number[]) => items.map((n) => n * 2), 256, () => sync.promise);
    const settled: number[] = [];
    const all = Promise.all([1, 2, 3].map((n) => commits.submit(n).then((r) => settled.push(r))));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]);
    sync.resolve();
    await all;
    expect(settled).toEqual([2, 4, 6]);
  });

  it('holds items that arrive during the fsync and commits them together once it returns', async () => {
    const syncs = [deferred(), deferred()];
    let next = 0;
    const batches: number[][] = [];
    const commits = new GroupCommit(
      (items: number[]) => {
        batches.push(items);
        return items;
      },
      256,
      () => syncs[next++].promise,
    );
    const first = commits.submit(1);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    const later = [commits.submit(2)];
    await new Promise((r) => setImmediate(r));
    later.push(commits.submit(3));
    await new Promise((r) => setImmediate(r));
    // Nothing could be acknowledged before the next fsync anyway: no commit per event-loop turn.
    expect(batches).toEqual([[1]]);
    syncs[0].resolve();
    expect(await first).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3]]);
    let settled = false;
    void Promise.all(later).then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // still waiting for the fsync after their own commit
    syncs[1].resolve();
    expect(await Promise.all(later)).toEqual([2, 3]);
  });

  it('fails every caller of the batch when the durability step fails', async () => {
    const commits = new GroupCommit((items: number[]) => items, 256, () => Promise.reject(new Error('fsync: EIO')));
    const results = await Promise.allSettled([commits.submit(1), commits.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('fsync: EIO');
  });
});

describe('WalSync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hermod-walsync-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('commits without a blocking fsync, restores synchronous=FULL, then syncs the WAL', async () => {
    const file = join(dir, 'store.sqlite');
    const db = openDatabase(file, 1000);
    try {
      db.exec('CREATE TABLE t (v INTEGER)');
      const wal = new WalSync(db, file);
      wal.unsynced(() => db.prepare('INSERT INTO t (v) VALUES (1)').run());
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
      await wal.durable();
      expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('makes callers that arrive during an fsync share the next one', async () => {
    const file = join(dir, 'shared.sqlite');
    const db = openDatabase(file, 1000);
    try {
      db.exec('CREATE TABLE t (v INTEGER)');
      const wal = new WalSync(db, file);
      const first = wal.durable();
      const second = wal.durable();
      const third = wal.durable();
      expect(second).toBe(third);
      expect(second).not.toBe(first);
      await Promise.all([first, second, third]);
    } finally {
      db.close();
    }
  });

  it('restores synchronous=FULL when the commit throws', () => {
    const db = openDatabase(join(dir, 'throws.sqlite'), 1000);
    try {
      const wal = new WalSync(db, join(dir, 'throws.sqlite'));
      expect(() => wal.unsynced(() => db.exec('INSERT INTO missing VALUES (1)'))).toThrow(/no such table/);
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });
});
