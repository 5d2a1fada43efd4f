import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Indexer } from '../../src/search/indexer.js';
import { openServices } from '../../src/services.js';
import type { Delivery, LedgerLine } from '../../src/store/types.js';
import { errorLine, runCli, tempDir } from './run-cli.js';

interface Fixture {
  subject: string;
  from: string;
  folder: string;
  tags: string[];
  spamScore: number;
  body: Buffer;
}

const FIXTURES: Fixture[] = [
  {
    subject: 'Quarterly invoice',
    from: 'billing@vendor.test',
    folder: 'INBOX',
    tags: ['invoice'],
    spamScore: 0.5,
    body: Buffer.from('Please find the quarterly statement attached.\r\n'),
  },
  {
    subject: 'You won a prize',
    from: 'winner@prize.test',
    folder: 'Junk',
    tags: ['spam'],
    spamScore: 9.5,
    body: Buffer.from('Claim your reward now.\r\n'),
  },
  {
    subject: 'Lunch plans',
    from: 'bob@example.org',
    folder: 'INBOX',
    tags: [],
    spamScore: 0,
    // 8-bit Latin-1 and a byte invalid as UTF-8: --raw must hand these back unchanged.
    body: Buffer.concat([Buffer.from('Caf'), Buffer.from([0xe9, 0x20, 0xff]), Buffer.from(' at noon?\r\n')]),
  },
];

const LEDGER: LedgerLine[] = [
  { plugin: 'parse', stage: 'message', verdict: 'continue', score: 0, reason: 'parsed', durationMs: 1.25 },
  { plugin: 'spam', stage: 'message', verdict: 'continue', score: 9.5, reason: 'bayes 0.99', durationMs: 12 },
];

function delivery(mailboxId: string, f: Fixture, i: number): Delivery {
  const head = [
    `From: ${f.from}`,
    'To: alice@example.org',
    `Subject: ${f.subject}`,
    `Message-ID: <m${i}@cli.test>`,
    `Date: Fri, 0${i + 1} Mar 2024 10:00:00 +0000`,
    'Content-Type: text/plain; charset=iso-8859-1',
    '',
    '',
  ].join('\r\n');
  const raw = Buffer.concat([Buffer.from(head), f.body]);
  return {
    mailboxId,
    raw,
    sha256: createHash('sha256').update(raw).digest('hex'),
    prependHeaders: `Received: from mx.cli.test by hermod with LMTP id tx-${i}\r\nX-Spam-Score: ${f.spamScore}\r\n`,
    folder: f.folder,
    flags: [],
    tags: f.tags,
    importance: 0,
    spamScore: f.spamScore,
    threadId: `thread-${i}`,
    summary: {
      subject: f.subject,
      from: f.from,
      to: ['alice@example.org'],
      cc: [],
      date: new Date(`2024-03-0${i + 1}T10:00:00Z`),
      messageId: `<m${i}@cli.test>`,
      attachments: [],
    },
    envelope: { mailFrom: f.from, rcptTo: 'alice@example.org', clientAddress: '192.0.2.7', transactionId: `tx-${i}` },
    ledger: LEDGER,
  };
}

describe('hermod message / search', () => {
  const tmp = tempDir();
  const env = { HERMOD_DATA_DIR: tmp.dir };
  /** Entry ids newest first, as the store lists them; and the full bytes of the 8-bit one. */
  let ids: string[] = [];
  let lunchId = '';
  let lunchBytes = Buffer.alloc(0);

  beforeAll(async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir: tmp.dir } });
    const log = pino({ level: 'silent' });
    const services = await openServices(config, log);
    try {
      const { store, search } = services;
      await store.addDomain('example.org');
      const mailbox = await store.addMailbox({ address: 'alice@example.org', aliases: ['al@example.org'], quotaBytes: 0 });
      for (const [i, f] of FIXTURES.entries()) await store.deliver(delivery(mailbox.id, f, i));
      await new Indexer({ store, index: search, log, batchSize: 100, pollMs: 50 }).drainAll();
      const entries = await store.listEntries({ mailboxId: mailbox.id, limit: 10 });
      ids = entries.map((e) => e.id);
      lunchId = entries.find((e) => e.summary.subject === 'Lunch plans')!.id;
      lunchBytes = (await store.getFullMessage(lunchId))!;
    } finally {
      await services.close();
    }
  });
  afterAll(() => tmp.cleanup());

  it('lists a mailbox as a table, newest first', async () => {
    const result = await runCli(['message', 'list', '--mailbox', 'alice@example.org'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DATE\s+FOLDER\s+FROM\s+SUBJECT\s+SIZE\s+TAGS\s+SPAM$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(ids);
    const prize = lines.find((l) => l.includes('You won a prize'))!;
    expect(prize).toMatch(/2024-03-02 10:00\s+Junk\s+winner@prize\.test\s+You won a prize\s+\d+\s+spam\s+9\.5$/);
  });

  it('filters by folder, limits and pages with --before, as JSON (through an alias)', async () => {
    const [junk, page] = await Promise.all([
      runCli(['message', 'list', '--mailbox', 'al@example.org', '--folder', 'Junk', '--json'], env),
      runCli(['message', 'list', '--mailbox', 'alice@example.org', '--before', ids[0], '--limit', '1', '--json'], env),
    ]);
    expect(JSON.parse(junk.stdout).map((e: { summary: { subject: string } }) => e.summary.subject)).toEqual([
      'You won a prize',
    ]);
    expect(JSON.parse(page.stdout).map((e: { id: string }) => e.id)).toEqual([ids[1]]);
  });

  it('shows a message: summary fields and headers, and JSON', async () => {
    const [text, json] = await Promise.all([
      runCli(['message', 'show', lunchId], env),
      runCli(['message', 'show', lunchId, '--json'], env),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^id\\s+${lunchId}$`, 'm'));
    expect(text.stdout).toMatch(/^subject\s+Lunch plans$/m);
    expect(text.stdout).toMatch(/^mailbox\s+alice@example\.org$/m);
    expect(text.stdout).toMatch(/^envelope\s+from <bob@example\.org> to <alice@example\.org> client 192\.0\.2\.7/m);
    expect(text.stdout).toContain('\nheaders:\n  Received: from mx.cli.test by hermod with LMTP id tx-2\n');
    expect(text.stdout).toContain('  Subject: Lunch plans\n');
    const parsed = JSON.parse(json.stdout) as { id: string; headers: { name: string; value: string }[] };
    expect(parsed.id).toBe(lunchId);
    expect(parsed.headers).toContainEqual({ name: 'Message-ID', value: '<m2@cli.test>' });
  });

  it('writes the raw message byte-exact with --raw', async () => {
    const result = await runCli(['message', 'show', lunchId, '--raw'], env);
    expect(result.code).toBe(0);
    expect(result.stdoutBytes.equals(lunchBytes)).toBe(true);
  });

  it('shows the ledger as a table', async () => {
    const result = await runCli(['message', 'show', ids[0], '--ledger'], env);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PLUGIN\s+STAGE\s+VERDICT\s+SCORE\s+REASON\s+DURATION MS$/);
    expect(lines[1]).toMatch(/^parse\s+message\s+continue\s+0\.0\s+parsed\s+1\.3$/);
    expect(lines[2]).toMatch(/^spam\s+message\s+continue\s+9\.5\s+bayes 0\.99\s+12$/);
  });

  it('searches a mailbox with free text and field filters', async () => {
    const [text, filtered] = await Promise.all([
      runCli(['search', '--mailbox', 'alice@example.org', 'quarterly'], env),
      runCli(['search', '--mailbox', 'alice@example.org', '--json', 'from:winner folder:Junk'], env),
    ]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DATE\s+FOLDER\s+FROM\s+SUBJECT/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('Quarterly invoice');
    expect(JSON.parse(filtered.stdout).map((e: { summary: { subject: string } }) => e.summary.subject)).toEqual([
      'You won a prize',
    ]);
  });

  it('reports an unknown message id or mailbox, and a bad query, in one line', async () => {
    const [message, mailbox, query] = await Promise.all([
      runCli(['message', 'show', '01J00000000000000000000000'], env),
      runCli(['message', 'list', '--mailbox', 'zed@example.org'], env),
      runCli(['search', '--mailbox', 'alice@example.org', 'form:bob'], env),
    ]);
    expect(message.code).toBe(1);
    expect(errorLine(message)).toContain('01J00000000000000000000000');
    expect(mailbox.code).toBe(1);
    expect(errorLine(mailbox)).toMatch(/zed@example\.org.*--mailbox/);
    expect(query.code).toBe(2);
    expect(errorLine(query)).toContain('form:bob');
  });
});
