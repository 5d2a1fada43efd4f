import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/commands/message-reclassify.js';
import { planReclassification } from '../../src/cli/reclassify.js';
import type { MailboxEntry } from '../../src/store/types.js';
import { errorLine, runCli, tempDir } from './run-cli.js';
import { classifyLine, message, seedMessages, withStore } from './seed-store.js';

/** The rules after the change: invoices get a tag, a folder and importance. */
const NEW_RULES = `
plugins:
  - name: parse
  - name: classify
    config:
      rules:
        - name: invoices
          if: { header: subject, matches: 'invoice' }
          tags: [finance]
          folder: Finance
          importance: 3
        - name: verified
          if: { auth: { dmarc: pass } }
          tags: [verified]
`;

/** The auth plugin's ledger line at delivery: its results, which a replay must not re-check. */
const AUTH_LINE = {
  plugin: 'auth',
  stage: 'data',
  verdict: 'continue',
  score: 0,
  reason: 'spf=pass dmarc=pass',
  durationMs: 3,
  details: {
    auth: {
      spf: { result: 'pass', domain: 'remote.test' },
      dkim: [],
      dmarc: { result: 'pass', domain: 'remote.test', policy: 'none' },
      arc: { result: 'none' },
      fromDomain: 'remote.test',
    },
  },
};

describe('hermod message reclassify', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const env = { HERMOD_DATA_DIR: dataDir };
  const configFile = join(tmp.dir, 'hermod.yaml');
  const noClassify = join(tmp.dir, 'no-classify.yaml');
  let ids: Record<string, string> = {};

  beforeAll(async () => {
    writeFileSync(configFile, NEW_RULES);
    writeFileSync(noClassify, 'plugins:\n  - name: parse\n');
    await withStore(dataDir, async (store) => {
      await store.addDomain('example.org');
      const alice = await store.addMailbox({ address: 'alice@example.org', quotaBytes: 0 });
      const [invoice, junk, moved, list, verified] = await seedMessages(store, alice, [
        { raw: message('Your invoice 42'), ledger: [classifyLine([], 0)] },
        { raw: message('Invoice overdue, pay now'), folder: 'Junk', tags: ['spam'], ledger: [classifyLine([], 0)] },
        { raw: message('Invoice copy for the archive'), folder: 'Archive', ledger: [classifyLine([], 0)] },
        // Delivered under old rules that filed lists into Lists with tag "list"; the spam plugin's gtube tag stays.
        {
          raw: message('Weekly digest', 'List-Id: <dev.example.net>\n'),
          folder: 'Lists',
          tags: ['gtube', 'list', 'oldrule'],
          importance: -3,
          ledger: [classifyLine(['list', 'oldrule'], -1, 'Lists')],
        },
        { raw: message('Status update'), ledger: [AUTH_LINE, classifyLine([], 0)] },
      ]);
      ids = { invoice, junk, moved, list, verified };
    });
  });
  afterAll(() => tmp.cleanup());

  const entry = (id: string) => withStore(dataDir, async (store) => ({ entry: (await store.getEntry(id))!, ledger: await store.getLedger(id) }));

  it('refuses a bad --since, an unknown mailbox and a chain without classify, in one line', async () => {
    const [since, mailbox, chain] = await Promise.all([
      runCli(['message', 'reclassify', '--mailbox', 'alice@example.org', '--since', 'yesterday'], env),
      runCli(['message', 'reclassify', '--mailbox', 'zed@example.org', '-c', configFile], env),
      runCli(['message', 'reclassify', '--mailbox', 'alice@example.org', '-c', noClassify], env),
    ]);
    expect(since.code).toBe(2);
    expect(errorLine(since)).toMatch(/--since.*'yesterday'.*YYYY-MM-DD/);
    expect(mailbox.code).toBe(1);
    expect(errorLine(mailbox)).toContain('zed@example.org');
    expect(chain.code).toBe(2);
    expect(errorLine(chain)).toContain("plugin 'classify' is not in the configured chain");
  });

  it('with --since after every arrival, touches nothing', async () => {
    const result = await runCli(['message', 'reclassify', '--mailbox', 'alice@example.org', '--since', '2999-01-01', '-c', configFile], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('reclassified 0 message(s) in alice@example.org: 0 changed (0 moved to another folder), 0 unchanged\n');
  });

  it('applies the new rules through parse and classify; keeps Junk, hand-moved mail and other tags', async () => {
    const result = await runCli(['message', 'reclassify', '--mailbox', 'alice@example.org', '-c', configFile], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      'reclassified 5 message(s) in alice@example.org: 5 changed (2 moved to another folder), 0 unchanged, 1 kept in Junk\n',
    );
    // Rules on authentication see the results recorded at delivery.
    expect((await entry(ids.verified)).entry).toMatchObject({ folder: 'INBOX', tags: ['personal', 'verified'], importance: 2 });
    const invoice = await entry(ids.invoice);
    // The built-in "personal" rule matches too (sent to alice, not a list): +2.
    expect(invoice.entry).toMatchObject({ folder: 'Finance', tags: ['finance', 'personal'], importance: 5 });
    expect(invoice.ledger.at(-1)).toMatchObject({
      plugin: 'classify',
      stage: 'reclassify',
      reason: 'matched personal, invoices',
      details: { tags: ['personal', 'finance'], folder: 'Finance', importance: 5 },
    });
    expect((await entry(ids.junk)).entry).toMatchObject({ folder: 'Junk', tags: ['finance', 'personal', 'spam'], importance: 5 });
    expect((await entry(ids.moved)).entry).toMatchObject({ folder: 'Archive', tags: ['finance', 'personal'] });
    // The old rule's tag, folder and importance go; the built-in list rule stays; gtube (another plugin's) stays.
    const list = (await entry(ids.list)).entry;
    expect(list).toMatchObject({ folder: 'INBOX', tags: ['gtube', 'list'] });
    expect(list.importance).toBe(-3 - -1 + -2);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const result = await runCli(['message', 'reclassify', '--mailbox', 'alice@example.org', '-c', configFile], env);
    expect(result.stdout).toBe(
      'reclassified 5 message(s) in alice@example.org: 0 changed (0 moved to another folder), 5 unchanged, 1 kept in Junk\n',
    );
  });
});

describe('reclassification plan', () => {
  const base = { folder: 'INBOX', tags: ['a', 'spam'], importance: 2 } as MailboxEntry;
  it.each([
    ['nothing new', base, { tags: [], importance: 0 }, { tags: [], importance: 0 }, null],
    ['tags swap', base, { tags: ['a'], importance: 2 }, { tags: ['b'], importance: 2 }, { tags: ['b', 'spam'], importance: 2 }],
    ['folder follows rules', base, { tags: [], importance: 0 }, { tags: [], importance: 0, folder: 'F' }, { tags: ['a', 'spam'], importance: 2, folder: 'F' }],
    ['back to INBOX', { ...base, folder: 'F' }, { tags: [], importance: 0, folder: 'F' }, { tags: [], importance: 0 }, { tags: ['a', 'spam'], importance: 2, folder: 'INBOX' }],
    ['Junk stays', { ...base, folder: 'Junk' }, { tags: [], importance: 0 }, { tags: [], importance: 0, folder: 'F' }, null],
    ['importance clamped', base, { tags: [], importance: 0 }, { tags: [], importance: 20 }, { tags: ['a', 'spam'], importance: 10 }],
  ])('%s', (_name, entry, previous, next, expected) => {
    expect(planReclassification(entry as MailboxEntry, previous, next, 'Junk')).toEqual(expected);
  });

  it.each([
    ['2026-01-02', '2026-01-02T00:00:00.000Z'],
    ['2026-01-02T10:30:00Z', '2026-01-02T10:30:00.000Z'],
  ])('--since %s', (value, iso) => {
    expect(parseSince(value).toISOString()).toBe(iso);
  });

  it.each(['2026-13-01', 'tomorrow', '01/02/2026', ''])('--since refuses %j', (value) => {
    expect(() => parseSince(value)).toThrow(/YYYY-MM-DD/);
  });
});
