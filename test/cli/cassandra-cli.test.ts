import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Indexer } from '../../src/search/indexer.js';
import { openServices } from '../../src/services.js';
import type { Delivery } from '../../src/store/types.js';
import { cassandraContactPoint, cassandraDataCenter, testSession, uniqueKeyspace } from '../helpers/cassandra.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';
import { ROOT, runCli, tempDir, writeFile, type CliResult } from './run-cli.js';

/**
 * `hermod` on the distributed store behaves as on the embedded one: the same admin commands,
 * run as subprocesses against a config with store.driver sqlite and one with store.driver
 * cassandra, print the same output (ids and dates aside) and exit with the same codes.
 */
const keyspace = uniqueKeyspace('cli');
const tmp = { sqlite: tempDir('hermod-cli-sqlite-'), cassandra: tempDir('hermod-cli-cassandra-') };

function configYaml(driver: 'sqlite' | 'cassandra', dataDir: string): string {
  const lines = [`dataDir: ${dataDir}`, 'lmtp: { port: 0 }', 'smtp: { port: 0 }', 'log: { level: warn }', 'store:', `  driver: ${driver}`];
  if (driver === 'cassandra') {
    lines.push(
      '  cassandra:',
      `    contactPoints: ["${cassandraContactPoint()}"]`,
      `    localDataCenter: ${cassandraDataCenter()}`,
      `    keyspace: ${keyspace}`,
      '    replication: { class: SimpleStrategy, replication_factor: 1 }',
      // Only `hermod migrate` creates the schema here: the commands must find it.
      '    migrateOnStart: false',
    );
  }
  return `${lines.join('\n')}\n`;
}

const files = {
  sqlite: writeFile(tmp.sqlite.dir, 'hermod.yaml', configYaml('sqlite', tmp.sqlite.dir)),
  cassandra: writeFile(tmp.cassandra.dir, 'hermod.yaml', configYaml('cassandra', tmp.cassandra.dir)),
};

function hermod(driver: 'sqlite' | 'cassandra', ...args: string[]): Promise<CliResult> {
  return runCli(['-c', files[driver], ...args]);
}

/** Output with entry ids, dates and the store's own location replaced by placeholders. */
function normalise(text: string): string {
  return text
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, '<ID>')
    .replace(/\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?Z?)?/g, '<DATE>');
}

function message(i: number, folder: string): Omit<Delivery, 'mailboxId'> {
  const raw = Buffer.concat([
    Buffer.from(`From: bob@remote.test\r\nTo: alice@example.test\r\nSubject: Note ${i}\r\nMessage-ID: <n${i}@cli.test>\r\n\r\n`),
    Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x0d, 0x0a]),
  ]);
  return {
    raw,
    sha256: createHash('sha256').update(raw).digest('hex'),
    prependHeaders: `Received: from mx.test by hermod; tx-${i}\r\n`,
    folder,
    flags: [],
    tags: i === 2 ? ['spam'] : [],
    importance: 0,
    spamScore: i === 2 ? 9 : 0,
    threadId: `t${i}`,
    summary: { subject: `Note ${i}`, from: 'bob@remote.test', to: ['alice@example.test'], cc: [], date: new Date(`2024-05-0${i}T08:00:00Z`), messageId: `<n${i}@cli.test>`, attachments: [] },
    envelope: { mailFrom: 'bob@remote.test', rcptTo: 'alice@example.test', clientAddress: '192.0.2.9', transactionId: `tx-${i}` },
    ledger: [{ plugin: 'spam', stage: 'message', verdict: 'continue', score: i === 2 ? 9 : 0, reason: 'test', durationMs: 1 }],
  };
}

/** Delivers three messages to alice through the configured store, and indexes them. */
async function deliverMessages(driver: 'sqlite' | 'cassandra'): Promise<string[]> {
  const config = loadConfig({ env: {}, file: files[driver] });
  const log = pino({ level: 'silent' });
  const services = await openServices(config, log);
  try {
    const alice = (await services.store.resolveAddress('alice@example.test'))!;
    const ids: string[] = [];
    for (const [i, folder] of [[1, 'INBOX'], [2, 'Junk'], [3, 'INBOX']] as const) {
      ids.push((await services.store.deliver({ mailboxId: alice.id, ...message(i, folder) })).entryId);
    }
    await new Indexer({ store: services.store, index: services.search, log, batchSize: 100, pollMs: 50 }).drainAll();
    return ids;
  } finally {
    await services.close();
  }
}

describe('hermod CLI on store.driver cassandra', () => {
  beforeAll(async () => {
    const first = await hermod('cassandra', 'migrate');
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(
      /applied 1: initial storage model\napplied 2: bayes token statistics\napplied 3: dedupe claims without lightweight transactions; resumable mailbox removal\napplied 4: messages of one chunk in one row\nschema at version 4\n$/,
    );
  }, 60_000);
  afterAll(async () => {
    const session = await testSession(keyspace);
    await session.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await session.shutdown();
    tmp.sqlite.cleanup();
    tmp.cassandra.cleanup();
  }, 60_000);

  it('migrates idempotently, on either store, and reports the store in config check', async () => {
    const [again, check, embedded] = await Promise.all([
      hermod('cassandra', 'migrate', '--json'),
      hermod('cassandra', 'config', 'check'),
      hermod('sqlite', 'migrate'),
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ driver: 'cassandra', applied: [], version: 4, warnings: [] });
    expect(check.stdout).toMatch(new RegExp(`store\\s+cassandra keyspace ${keyspace} on ${cassandraContactPoint()}`));
    expect(embedded).toMatchObject({ code: 0, stderr: '' });
    expect(embedded.stdout).toMatch(/^sqlite .*hermod\.sqlite\napplied 1: initial storage model\n[\s\S]*schema at version \d+\n$/);
  });

  it('answers the admin and message commands exactly as the embedded store does', async () => {
    // Few commands: each is a Node process start, and both drivers run side by side.
    const script: string[][] = [
      ['domain', 'add', 'example.test'],
      ['mailbox', 'add', 'alice@example.test', '--alias', 'al@example.test', '--quota', '1M'],
      ['mailbox', 'add', 'carol@example.test', '--alias', 'AL@example.test'],
    ];
    const after: string[][] = [
      ['message', 'list', '--mailbox', 'alice@example.test'],
      ['message', 'list', '--mailbox', 'al@example.test', '--folder', 'Junk', '--json'],
      ['search', '--mailbox', 'alice@example.test', 'subject:note'],
      ['mailbox', 'list', '--json'],
      ['domain', 'remove', 'example.test'],
    ];
    const run = async (driver: 'sqlite' | 'cassandra') => {
      const results: CliResult[] = [];
      for (const args of script) results.push(await hermod(driver, ...args));
      const ids = await deliverMessages(driver);
      for (const args of after) results.push(await hermod(driver, ...args));
      results.push(await hermod(driver, 'message', 'show', ids[0], '--raw'));
      return results;
    };
    const [embedded, distributed] = await Promise.all([run('sqlite'), run('cassandra')]);
    const view = (r: CliResult) => ({ code: r.code, stdout: normalise(r.stdout), stderr: normalise(r.stderr) });
    expect(distributed.map(view)).toEqual(embedded.map(view));
    // Spot checks that the runs did what the script says, on both.
    expect(distributed.map((r) => r.code)).toEqual([0, 0, 2, 0, 0, 0, 0, 2, 0]);
    expect(distributed[2].stderr).toMatch(/al@example\.test is already in use/);
    expect(distributed[3].stdout).toMatch(/Note 3[\s\S]*Note 2[\s\S]*Note 1/);
    expect(JSON.parse(distributed[4].stdout)).toHaveLength(1);
    expect(distributed[7].stderr).toMatch(/still has mailboxes/);
    const raw = distributed[8].stdoutBytes;
    expect(raw.subarray(-8)).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x0d, 0x0a]));
  }, 180_000);

  it('serves LMTP from the Cassandra store and exits 0 on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERMOD_')) env[k] = v;
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), '-c', files.cassandra, 'serve'], {
      cwd: ROOT,
      env,
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const port = new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const m = /LMTP listening on [^\s]+:(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    });
    try {
      const message = 'From: bob@remote.test\r\nTo: alice@example.test\r\nSubject: served\r\n\r\nHello.\r\n';
      const result = await lmtpTransaction(await port, { from: 'bob@remote.test', to: ['alice@example.test'], message });
      expect(result.data.map((r) => r.text)).toEqual([expect.stringMatching(/^250 2\.0\.0 Ok: delivered as /)]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const listed = await hermod('cassandra', 'message', 'show', result.entryIds[0]!, '--json');
      expect(JSON.parse(listed.stdout)).toMatchObject({ id: result.entryIds[0], folder: 'INBOX', mailboxAddress: 'alice@example.test' });
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
