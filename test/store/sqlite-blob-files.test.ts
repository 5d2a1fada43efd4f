import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { largeRawMessage, makeDelivery, sha256Hex } from './delivery-fixture.js';

const THRESHOLD = 64 * 1024;

describe('SQLite store: large raw messages as content-addressed files', () => {
  let dir: string;
  let file: string;
  let blobDir: string;
  const opened: { close(): unknown }[] = [];

  async function openStore(): Promise<SqliteMessageStore> {
    const store = new SqliteMessageStore({ file, fileThresholdBytes: THRESHOLD });
    opened.push(store);
    await store.init();
    return store;
  }

  async function withMailboxes() {
    const store = await openStore();
    await store.addDomain('example.com');
    const alice = await store.addMailbox({ address: 'alice@example.com', quotaBytes: 0 });
    const bob = await store.addMailbox({ address: 'bob@example.com', quotaBytes: 0 });
    return { store, alice, bob };
  }

  function blobPath(sha256: string): string {
    return join(blobDir, sha256.slice(0, 2), sha256);
  }

  /** What the database row of the raw message says, through a separate connection. */
  function messageRow(sha256: string): { size: number; in_file: number; rawLength: number } | undefined {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT size, in_file, length(raw) AS rawLength FROM messages WHERE sha256 = ?').get(sha256) as
        | { size: number; in_file: number; rawLength: number }
        | undefined;
    } finally {
      db.close();
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hermod-blobs-'));
    file = join(dir, 'hermod.sqlite');
    blobDir = `${file}.blobs`;
  });
  afterEach(async () => {
    for (const handle of opened.splice(0).reverse()) await handle.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a message above the threshold to <sha256> under the blob directory, not into the row', async () => {
    const { store, alice } = await withMailboxes();
    const raw = largeRawMessage(THRESHOLD * 3);
    const sha256 = sha256Hex(raw);
    const { entryId } = await store.deliver(makeDelivery(alice.id, { raw }));
    expect(readFileSync(blobPath(sha256)).equals(raw)).toBe(true);
    expect(messageRow(sha256)).toEqual({ size: raw.length, in_file: 1, rawLength: 0 });
    expect((await store.getRaw(sha256))!.equals(raw)).toBe(true);
    const full = (await store.getFullMessage(entryId))!;
    expect(full.subarray(full.length - raw.length).equals(raw)).toBe(true);
    // No temporary file of the write is left beside it.
    expect(readdirSync(join(blobDir, sha256.slice(0, 2)))).toEqual([sha256]);
  });

  it('keeps a message at or below the threshold in the row', async () => {
    const { store, alice } = await withMailboxes();
    const raw = largeRawMessage(THRESHOLD);
    await store.deliver(makeDelivery(alice.id, { raw }));
    expect(messageRow(sha256Hex(raw))).toMatchObject({ in_file: 0, rawLength: raw.length });
    expect(existsSync(blobPath(sha256Hex(raw)))).toBe(false);
  });

  it('copies the bytes from the spool file a delivery names', async () => {
    const { store, alice } = await withMailboxes();
    const raw = largeRawMessage(THRESHOLD * 2);
    const spooled = join(dir, 'spooled.eml');
    writeFileSync(spooled, raw);
    await store.deliver(makeDelivery(alice.id, { raw, rawFile: spooled }));
    expect(readFileSync(blobPath(sha256Hex(raw))).equals(raw)).toBe(true);
  });

  it('removes the file with the last entry that refers to it, and only then', async () => {
    const { store, alice, bob } = await withMailboxes();
    const raw = largeRawMessage(THRESHOLD * 2);
    const first = await store.deliver(makeDelivery(alice.id, { raw }));
    const second = await store.deliver(makeDelivery(bob.id, { raw }));
    await store.deleteEntry(first.entryId);
    expect(existsSync(blobPath(sha256Hex(raw)))).toBe(true);
    await store.deleteEntry(second.entryId);
    expect(existsSync(blobPath(sha256Hex(raw)))).toBe(false);
  });

  it('removes the files of a removed mailbox that no other mailbox holds', async () => {
    const { store, alice, bob } = await withMailboxes();
    const own = largeRawMessage(THRESHOLD * 2);
    const shared = largeRawMessage(THRESHOLD * 2);
    await store.deliver(makeDelivery(alice.id, { raw: own }));
    await store.deliver(makeDelivery(alice.id, { raw: shared }));
    await store.deliver(makeDelivery(bob.id, { raw: shared }));
    await store.removeMailbox('alice@example.com');
    expect(existsSync(blobPath(sha256Hex(own)))).toBe(false);
    expect(existsSync(blobPath(sha256Hex(shared)))).toBe(true);
  });

  it('sweeps at open the old files no row refers to and old temporary files, and keeps the rest', async () => {
    const { store, alice } = await withMailboxes();
    const kept = largeRawMessage(THRESHOLD * 2);
    await store.deliver(makeDelivery(alice.id, { raw: kept }));
    await store.close();
    const orphan = 'ab'.repeat(32);
    const young = 'cd'.repeat(32);
    for (const name of [orphan, young]) {
      mkdirSync(join(blobDir, name.slice(0, 2)), { recursive: true });
      writeFileSync(blobPath(name), 'left by a crash');
    }
    const tmp = join(blobDir, 'ab', `.${orphan}.interrupted.tmp`);
    writeFileSync(tmp, 'half');
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const path of [blobPath(orphan), tmp, blobPath(sha256Hex(kept))]) utimesSync(path, hourAgo, hourAgo);
    await openStore();
    expect(existsSync(blobPath(orphan))).toBe(false);
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(blobPath(young))).toBe(true);
    expect(existsSync(blobPath(sha256Hex(kept)))).toBe(true);
  });

  it('writes a file again for a new copy when the old one went missing', async () => {
    const { store, alice, bob } = await withMailboxes();
    const raw = largeRawMessage(THRESHOLD * 2);
    await store.deliver(makeDelivery(alice.id, { raw }));
    rmSync(blobPath(sha256Hex(raw)));
    await store.deliver(makeDelivery(bob.id, { raw: Buffer.from(raw) }));
    expect((await store.getRaw(sha256Hex(raw)))!.equals(raw)).toBe(true);
  });

  it('refuses to commit a reference to a file that is missing, with a StoreError (a 451, never a lost 250)', async () => {
    const { store, alice, bob } = await withMailboxes();
    const raw = largeRawMessage(THRESHOLD * 2);
    await store.deliver(makeDelivery(alice.id, { raw }));
    rmSync(blobPath(sha256Hex(raw)));
    // A second store on the same database that keeps this size in rows writes no file; its commit
    // would refer to the missing one, as a copy racing a removal would.
    const inline = new SqliteMessageStore({ file, fileThresholdBytes: THRESHOLD * 100 });
    opened.push(inline);
    await inline.init();
    await expect(inline.deliver(makeDelivery(bob.id, { raw }))).rejects.toThrow(/missing/);
    expect(await store.listEntries({ mailboxId: bob.id, limit: 10 })).toEqual([]);
  });

  it('fails the delivery with a StoreError when the blob directory cannot be written', async () => {
    const { store, alice } = await withMailboxes();
    writeFileSync(blobDir, 'a file where the directory should be');
    const raw = largeRawMessage(THRESHOLD * 2);
    await expect(store.deliver(makeDelivery(alice.id, { raw }))).rejects.toBeInstanceOf(StoreError);
    expect(messageRow(sha256Hex(raw))).toBeUndefined();
  });
});
