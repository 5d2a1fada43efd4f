import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Indexer } from '../../src/search/indexer.js';
import { openServices } from '../../src/services.js';
import { seedMessages, withStore } from './seed-store.js';
import { errorLine, runCli, tempDir } from './run-cli.js';

const UNKNOWN_ID = '01J00000000000000000000000';

/** Folders, message deletion and id checks of the admin CLI, on one seeded data directory. */
describe('hermod mailbox folders, message delete and id checks', { timeout: 180_000 }, () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const env = { HERMOD_DATA_DIR: dataDir };
  // The machine may be busy: each run gets a minute.
  const cli = (...args: string[]) => runCli(args, env, 60_000);
  let ids: string[] = [];
  let bobIds: string[] = [];
  const shared = 'From: a@remote.test\nSubject: Shared notice\n\nsame bytes for alice and bob, word zanzibar\n';

  beforeAll(async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir } });
    const services = await openServices(config, pino({ level: 'silent' }));
    try {
      const { store, search } = services;
      await store.addDomain('example.test');
      const alice = await store.addMailbox({ address: 'alice@example.test', quotaBytes: 0 });
      const bob = await store.addMailbox({ address: 'bob@example.test', quotaBytes: 0 });
      ids = await seedMessages(store, alice, [
        { raw: shared },
        { raw: 'From: b@remote.test\nSubject: Offer\n\nbuy now\n', folder: 'Junk' },
        { raw: 'From: c@remote.test\nSubject: Old\n\nfrom last year\n', folder: 'Archive/2024' },
      ]);
      bobIds = await seedMessages(store, bob, [{ raw: shared }]);
      await new Indexer({ store, index: search, log: pino({ level: 'silent' }), batchSize: 100, pollMs: 50 }).drainAll();
    } finally {
      await services.close();
    }
  });
  afterAll(() => tmp.cleanup());

  it('mailbox folders lists each folder with counts and sizes that match message list', async () => {
    const listed = JSON.parse((await cli('mailbox', 'folders', 'alice@example.test', '--json')).stdout) as {
      folders: { folder: string; messages: number; bytes: number }[];
    };
    expect(listed.folders.map((f) => [f.folder, f.messages])).toEqual([['Archive/2024', 1], ['INBOX', 1], ['Junk', 1]]);
    const entries = JSON.parse((await cli('message', 'list', '--mailbox', 'alice@example.test', '--json')).stdout) as { folder: string; size: number }[];
    for (const f of listed.folders) expect(f.bytes).toBe(entries.filter((e) => e.folder === f.folder).reduce((s, e) => s + e.size, 0));
    const table = await cli('mailbox', 'folders', 'alice@example.test');
    expect(table.stdout).toMatch(/^FOLDER\s+MESSAGES\s+SIZE\nArchive\/2024\s+1\s.*\nINBOX\s+1\s.*\nJunk\s+1\s.*\n\(total\)\s+3\s/);
    const unknown = await cli('mailbox', 'folders', 'nobody@example.test');
    expect([unknown.code, errorLine(unknown)]).toEqual([1, 'hermod: unknown mailbox "nobody@example.test"']);
  });

  it('message move takes INBOX in any case and refuses bad folder names', async () => {
    const moved = await cli('message', 'move', ids[1], 'inbox', '--no-learn');
    expect(moved.stdout).toBe(`moved ${ids[1]} from Junk to INBOX\n`);
    const folders = await cli('mailbox', 'folders', 'alice@example.test', '--json');
    expect((JSON.parse(folders.stdout) as { folders: { folder: string }[] }).folders.map((f) => f.folder)).toEqual(['Archive/2024', 'INBOX']);
    const bad = await cli('message', 'move', ids[1], 'A/B"C');
    expect([bad.code, errorLine(bad)]).toEqual([2, 'hermod: invalid FOLDER "A/B"C": "A/B"C" contains one of " \\ * %']);
    expect((await cli('message', 'move', ids[1], 'Junk', '--no-learn')).code).toBe(0);
  });

  it('refuses malformed ids with exit 2 and unknown ids with exit 1, everywhere', async () => {
    const cases = [];
    for (const args of [
      ['message', 'list', '--mailbox', 'alice@example.test', '--before', 'NOTANID'],
      ['message', 'show', 'NOTANID'],
      ['message', 'delete', 'NOTANID'],
      ['queue', 'retry', 'NOPE.1'],
      ['queue', 'show', 'NOPE.1'],
      ['message', 'show', UNKNOWN_ID],
      ['queue', 'retry', `${UNKNOWN_ID}.1`],
      ['queue', 'list', UNKNOWN_ID],
    ]) {
      cases.push(await cli(...args));
    }
    expect(cases.map((r) => [r.code, errorLine(r)])).toEqual([
      [2, 'hermod: invalid --before "NOTANID": a message id is 26 letters and digits, as message list shows'],
      [2, 'hermod: invalid message id "NOTANID": a message id is 26 letters and digits, as message list shows'],
      [2, 'hermod: invalid message id "NOTANID": a message id is 26 letters and digits, as message list shows'],
      [2, 'hermod: invalid queue id "NOPE.1": a queue id is MESSAGE.N (a job) or MESSAGE (all its jobs), as queue list shows'],
      [2, 'hermod: invalid job id "NOPE.1": a queue id is MESSAGE.N (a job) or MESSAGE (all its jobs), as queue list shows'],
      [1, `hermod: unknown message id "${UNKNOWN_ID}"`],
      [1, `hermod: no queued job or message ${UNKNOWN_ID}.1 (see: hermod queue list)`],
      [1, `hermod: no queued job or message ${UNKNOWN_ID} (see: hermod queue list)`],
    ]);
  });

  it('message delete --dry-run deletes nothing; an unknown id among known ones deletes nothing', async () => {
    const dry = await cli('message', 'delete', ids[0], '--dry-run', '--json');
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, messages: [{ id: ids[0], mailbox: 'alice@example.test', folder: 'INBOX' }] });
    const mixed = await cli('message', 'delete', ids[0], UNKNOWN_ID);
    expect([mixed.code, errorLine(mixed)]).toEqual([1, `hermod: unknown message id "${UNKNOWN_ID}"; nothing deleted`]);
    expect((await cli('message', 'show', ids[0])).code).toBe(0);
  });

  it('message delete removes entries from store and index, and the bytes once no entry holds them', async () => {
    const search = async (who: string) => JSON.parse((await cli('search', '--mailbox', who, 'zanzibar', '--json')).stdout) as { id: string }[];
    expect((await search('alice@example.test')).map((e) => e.id)).toEqual([ids[0]]);
    const sha = await withStore(dataDir, async (store) => (await store.getEntry(ids[0]))!.sha256);

    const first = await cli('message', 'delete', ids[0].toLowerCase(), ids[2]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^deleted 2 message\(s\)\n/);
    expect(await search('alice@example.test')).toEqual([]);
    expect((await search('bob@example.test')).map((e) => e.id)).toEqual(bobIds);
    expect(await withStore(dataDir, async (store) => (await store.getRaw(sha)) !== null)).toBe(true);
    const left = JSON.parse((await cli('message', 'list', '--mailbox', 'alice@example.test', '--json')).stdout) as { id: string }[];
    expect(left.map((e) => e.id)).toEqual([ids[1]]);

    const last = JSON.parse((await cli('message', 'delete', bobIds[0], '--json')).stdout);
    expect(last).toMatchObject({ dryRun: false, messages: [{ id: bobIds[0], blobRemoved: true }], indexPending: 0 });
    expect(await withStore(dataDir, (store) => store.getRaw(sha))).toBeNull();
    expect(await search('bob@example.test')).toEqual([]);
    const again = await cli('message', 'delete', bobIds[0]);
    expect([again.code, errorLine(again)]).toEqual([1, `hermod: unknown message id "${bobIds[0]}"; nothing deleted`]);
  });
});
