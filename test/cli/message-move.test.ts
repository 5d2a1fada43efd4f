import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAYES_GLOBAL_SCOPE } from '../../src/store/types.js';
import { errorLine, ROOT, runCli, tempDir } from './run-cli.js';
import { seedMessages, withStore } from './seed-store.js';

const spamRaw = readFileSync(join(ROOT, 'test/fixtures/bayes/spam-03.eml'));
const hamRaw = readFileSync(join(ROOT, 'test/fixtures/bayes/ham-02.eml'));

describe('hermod message move', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const env = { HERMOD_DATA_DIR: dataDir };
  let spamId = '';
  let hamId = '';
  let mailboxId = '';

  beforeAll(async () => {
    await withStore(dataDir, async (store) => {
      await store.addDomain('example.org');
      const alice = await store.addMailbox({ address: 'alice@example.org', quotaBytes: 0 });
      mailboxId = alice.id;
      [spamId, hamId] = await seedMessages(store, alice, [{ raw: spamRaw, tags: ['bulk'] }, { raw: hamRaw }]);
    });
  });
  afterAll(() => tmp.cleanup());

  /** Entry, label and totals as the store has them now. */
  async function state(entryId: string) {
    return withStore(dataDir, async (store) => {
      const entry = (await store.getEntry(entryId))!;
      return {
        folder: entry.folder,
        tags: entry.tags,
        label: await store.bayesLabel(mailboxId, entry.sha256),
        globalLabel: await store.bayesLabel(BAYES_GLOBAL_SCOPE, entry.sha256),
        mailbox: await store.bayesTotals(mailboxId),
        global: await store.bayesTotals(BAYES_GLOBAL_SCOPE),
        ledger: await store.getLedger(entryId),
        outbox: await store.outboxLength(),
      };
    });
  }

  it('into Junk: moves, tags spam, learns spam in the mailbox and globally, notes it in the ledger', async () => {
    const result = await runCli(['message', 'move', spamId, 'Junk'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`moved ${spamId} from INBOX to Junk; learned as spam in alice@example.org and global\n`);
    const now = await state(spamId);
    expect(now).toMatchObject({
      folder: 'Junk',
      tags: ['bulk', 'spam'],
      label: 'spam',
      globalLabel: 'spam',
      mailbox: { spam: 1, ham: 0 },
      global: { spam: 1, ham: 0 },
    });
    expect(now.ledger.at(-1)).toMatchObject({
      plugin: 'operator',
      stage: 'move',
      reason: 'moved from INBOX to Junk; learned as spam in alice@example.org and global',
      details: { from: 'INBOX', to: 'Junk', learned: 'spam' },
    });
    expect(now.outbox).toBe(3); // two deliveries, one change: the index follows
  });

  it('again into Junk: nothing to do, nothing counted twice', async () => {
    const result = await runCli(['message', 'move', spamId, 'Junk'], env);
    expect(result.stdout).toBe(`message ${spamId} is already in Junk\n`);
    expect(await state(spamId)).toMatchObject({ mailbox: { spam: 1, ham: 0 }, global: { spam: 1, ham: 0 } });
  });

  it('out of Junk: unlearns spam and learns ham exactly once, and drops the spam tag', async () => {
    const out = await runCli(['message', 'move', spamId, 'INBOX'], env);
    expect(out.stdout).toBe(`moved ${spamId} from Junk to INBOX; relearned as ham (was spam) in alice@example.org and global\n`);
    expect(await state(spamId)).toMatchObject({
      folder: 'INBOX',
      tags: ['bulk'],
      label: 'ham',
      mailbox: { spam: 0, ham: 1 },
      global: { spam: 0, ham: 1 },
    });
    const back = await runCli(['message', 'move', spamId, 'Junk'], env);
    expect(back.stdout).toContain('relearned as spam (was ham)');
    expect(await state(spamId)).toMatchObject({ mailbox: { spam: 1, ham: 0 }, global: { spam: 1, ham: 0 } });
  });

  it('between other folders, or with --no-learn, only moves', async () => {
    const archive = await runCli(['message', 'move', hamId, 'Archive'], env);
    expect(archive.stdout).toBe(`moved ${hamId} from INBOX to Archive\n`);
    const quiet = await runCli(['message', 'move', hamId, 'Junk', '--no-learn'], env);
    expect(quiet.stdout).toBe(`moved ${hamId} from Archive to Junk\n`);
    const now = await state(hamId);
    expect(now).toMatchObject({ folder: 'Junk', tags: ['spam'], label: null, mailbox: { spam: 1, ham: 0 } });
    expect(now.ledger.at(-1)).toMatchObject({ reason: 'moved from Archive to Junk', details: { learned: null } });
  });

  it.each([
    [['message', 'move', '01J00000000000000000000000', 'Junk'], 1, /unknown message id "01J00000000000000000000000"/],
    [['message', 'move', 'x', '  '], 2, /invalid FOLDER "  "/],
    [['message', 'move', 'x'], 2, /missing required argument 'folder'/],
  ])('refuses %j with one line (exit %d)', async (args, code, message) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(code);
    expect(errorLine(result)).toMatch(message);
  });
});
