import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoWeek, junkMoves, ReportBuilder } from '../../src/cli/spam-report.js';
import type { LedgerLine } from '../../src/store/types.js';
import { errorLine, ROOT, runCli, tempDir } from './run-cli.js';
import { seedMessages, withStore } from './seed-store.js';

const spamRaw = readFileSync(join(ROOT, 'test/fixtures/bayes/spam-03.eml'));
const hamRaw = readFileSync(join(ROOT, 'test/fixtures/bayes/ham-02.eml'));
const otherRaw = readFileSync(join(ROOT, 'test/fixtures/bayes/ham-01.eml'));

const bayesLine = (verdict: string, probability: number | null): LedgerLine => ({
  plugin: 'bayes', stage: 'message', verdict: 'continue', score: 0, reason: '', durationMs: 1, details: { verdict, probability },
});

describe('spam report counting', () => {
  it('names ISO weeks (Monday first; early January may belong to the year before)', () => {
    expect(isoWeek(new Date('2026-12-04T10:00:00Z'))).toBe('2026-W49');
    expect(isoWeek(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2026-01-05T00:00:00Z'))).toBe('2026-W02');
  });

  it('reads moves into and out of the junk folder from a ledger; other moves say nothing', () => {
    const move = (from: string, to: string, at?: string): LedgerLine => ({
      plugin: 'operator', stage: 'move', verdict: 'continue', score: 0, reason: '', durationMs: 0, details: { from, to, ...(at ? { at } : {}) },
    });
    const received = new Date('2026-11-02T00:00:00Z');
    const moves = junkMoves([move('INBOX', 'Junk', '2026-11-10T00:00:00Z'), move('Junk', 'INBOX'), move('INBOX', 'Archive')], received, 'Junk');
    expect(moves).toEqual([
      { at: new Date('2026-11-10T00:00:00Z'), kind: 'falseNegative' },
      { at: received, kind: 'falsePositive' },
    ]);
    const report = new ReportBuilder(new Date('2026-11-09T00:00:00Z'));
    report.add({ mailboxAddress: 'a@example.org', receivedAt: received }, moves);
    expect(report.result()).toEqual([{ mailbox: 'a@example.org', week: '2026-W46', received: 0, falseNegatives: 1, falsePositives: 0 }]);
  });
});

describe('hermod spam report and message list --json', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const env = { HERMOD_DATA_DIR: dataDir };
  let ids: string[] = [];

  beforeAll(async () => {
    await withStore(dataDir, async (store) => {
      await store.addDomain('example.org');
      const alice = await store.addMailbox({ address: 'alice@example.org', quotaBytes: 0 });
      const bob = await store.addMailbox({ address: 'bob@example.org', quotaBytes: 0 });
      ids = await seedMessages(store, alice, [
        { raw: spamRaw, ledger: [bayesLine('unsure', 0.61)] },
        { raw: hamRaw, folder: 'Junk', ledger: [bayesLine('spam', 0.97)] },
      ]);
      await seedMessages(store, bob, [{ raw: otherRaw, ledger: [bayesLine('untrained', null)] }]);
    });
    // Alice corrects the filter both ways, with the real command.
    expect((await runCli(['message', 'move', ids[0], 'Junk', '--no-learn'], env)).code).toBe(0);
    expect((await runCli(['message', 'move', ids[1], 'INBOX', '--no-learn'], env)).code).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it('counts a false negative and a false positive for alice this week, nothing for bob', async () => {
    const result = await runCli(['spam', 'report', '--json'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const week = isoWeek(new Date());
    expect(JSON.parse(result.stdout)).toEqual([
      { mailbox: 'alice@example.org', week, received: 2, falseNegatives: 1, falsePositives: 1 },
      { mailbox: 'bob@example.org', week, received: 1, falseNegatives: 0, falsePositives: 0 },
    ]);
  });

  it('narrows to one mailbox and to a date; prints a table without --json', async () => {
    const table = await runCli(['spam', 'report', '--mailbox', 'alice@example.org'], env);
    expect(table.stdout).toMatch(/FALSE NEGATIVES \(INTO JUNK\)/);
    expect(table.stdout).toMatch(/alice@example\.org\s+\d{4}-W\d\d\s+2\s+1\s+1/);
    expect(table.stdout).not.toMatch(/bob@/);
    const later = await runCli(['spam', 'report', '--since', '2999-01-01', '--json'], env);
    expect(JSON.parse(later.stdout)).toEqual([]);
  });

  it('refuses a bad --since with a one-line error', async () => {
    const result = await runCli(['spam', 'report', '--since', 'yesterday'], env);
    expect(result.code).not.toBe(0);
    expect(errorLine(result)).toMatch(/--since/);
  });

  it('message list --json carries the spam score and the Bayes verdict and probability', async () => {
    const result = await runCli(['message', 'list', '--mailbox', 'alice@example.org', '--json'], env);
    const listed = JSON.parse(result.stdout) as { id: string; spam: unknown }[];
    expect(Object.fromEntries(listed.map((e) => [e.id, e.spam]))).toEqual({
      [ids[0]]: { score: 0, bayes: { verdict: 'unsure', probability: 0.61 } },
      [ids[1]]: { score: 0, bayes: { verdict: 'spam', probability: 0.97 } },
    });
  });
});
