import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { parseScopes } from '../../src/ops/api/scopes.js';
import { TokenFile, tokenFilePath } from '../../src/ops/api/tokens.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { cassandraContactPoint, cassandraDataCenter, testSession, uniqueKeyspace } from '../helpers/cassandra.js';
import { sampleMessage } from '../helpers/hermod-harness.js';
import { lmtpTransaction } from '../helpers/lmtp-session.js';
import { ROOT, tempDir, writeFile } from '../cli/run-cli.js';
import { api } from './api-client.js';

/**
 * The admin API answers what `hermod … --json` prints, on the same store, on both engines: a
 * running Hermod serves the API while the CLI (the built dist/, as installed) reads the same
 * config file. Rebuild (`npm run build`) before running this file.
 */
const CLI = join(ROOT, 'dist/src/cli/main.js');

function cliJson(config: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, '-c', config, ...args, '--json'], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      // index verify exits 1 on drift but still prints its report.
      if (err && !stdout) return reject(new Error(`hermod ${args.join(' ')}: ${stderr || err.message}`));
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`hermod ${args.join(' ')}: not JSON: ${stdout.slice(0, 200)} ${stderr}`));
      }
    });
  });
}

function configYaml(driver: 'sqlite' | 'cassandra', dataDir: string, keyspace: string): string {
  const lines = [
    `dataDir: ${dataDir}`,
    'lmtp: { host: 127.0.0.1, port: 0 }',
    'smtp: { enabled: false }',
    'log: { level: warn }',
    'search: { pollMs: 50 }',
    'ops: { enabled: true, port: 0, api: { enabled: true } }',
    'relay: { host: 127.0.0.1, port: 9 }',
    'queue: { retry: { firstMs: 3600000 } }',
    'store:',
    `  driver: ${driver}`,
  ];
  if (driver === 'cassandra') {
    lines.push(
      '  cassandra:',
      `    contactPoints: ["${cassandraContactPoint()}"]`,
      `    localDataCenter: ${cassandraDataCenter()}`,
      `    keyspace: ${keyspace}`,
      '    replication: { class: SimpleStrategy, replication_factor: 1 }',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(['sqlite', 'cassandra'] as const)('admin API and CLI agree on the %s store', (driver) => {
  const tmp = tempDir(`hermod-api-${driver}-`);
  const keyspace = uniqueKeyspace('api');
  const config = writeFile(tmp.dir, 'hermod.yaml', configYaml(driver, tmp.dir, keyspace));
  let server: RunningServer;
  let port: number;
  let token: string;
  let writer: string;
  const ids: { entry?: string; job?: string } = {};

  beforeAll(async () => {
    server = await startServer(loadConfig({ env: {}, file: config }), pino({ level: 'silent' }), { banner: false });
    port = server.ops!.port;
    const { store } = server.services;
    await store.addDomain('example.test');
    await store.addMailbox({ address: 'alice@example.test', aliases: ['al@example.test'], quotaBytes: 0 });
    for (const subject of ['First note', 'Second note']) {
      const r = await lmtpTransaction(server.lmtp!.port, { from: 'bob@remote.test', to: ['alice@example.test'], message: sampleMessage(subject) });
      ids.entry = r.entryIds[0];
    }
    const { jobs } = await server.outbound!.service.submit({
      sender: 'alice@example.test',
      recipients: ['x@far.test'],
      raw: Buffer.from('From: alice@example.test\r\nTo: x@far.test\r\nSubject: out\r\n\r\nhi\r\n'),
    });
    ids.job = jobs[0].id;
    await until(async () => (await store.outboxLength()) === 0, 'the indexer');
    await until(async () => (await server.outbound!.queue.get(ids.job!))?.state === 'deferred', 'the first attempt');
    token = new TokenFile(tokenFilePath(server.services.config)).create(parseScopes(['read']), 'parity').token;
    writer = new TokenFile(tokenFilePath(server.services.config)).create(parseScopes(['messages:write']), 'parity-delete').token;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (driver === 'cassandra') {
      const session = await testSession('system');
      await session.ddl(`DROP KEYSPACE IF EXISTS ${keyspace}`);
      await session.shutdown();
    }
    tmp.cleanup();
  });

  it('answers each listing and view exactly as the CLI prints it with --json', async () => {
    const pairs: [string[], string][] = [
      [['domain', 'list'], '/api/v1/domains'],
      [['mailbox', 'list'], '/api/v1/mailboxes'],
      [['message', 'list', '--mailbox', 'al@example.test'], '/api/v1/messages?mailbox=al@example.test'],
      [['message', 'list', '--mailbox', 'alice@example.test', '--limit', '1', '--before', ids.entry!], `/api/v1/messages?mailbox=alice@example.test&limit=1&before=${ids.entry}`],
      [['message', 'show', ids.entry!], `/api/v1/messages/${ids.entry}`],
      [['message', 'show', ids.entry!, '--ledger'], `/api/v1/messages/${ids.entry}/ledger`],
      [['mailbox', 'folders', 'alice@example.test'], '/api/v1/mailboxes/alice@example.test/folders'],
      [['message', 'delete', ids.entry!, '--dry-run'], ''],
      [['search', '--mailbox', 'alice@example.test', 'note'], '/api/v1/search?mailbox=alice@example.test&q=note'],
      [['queue', 'list', '--status', 'deferred'], '/api/v1/queue?status=deferred'],
      [['queue', 'show', ids.job!], `/api/v1/queue/${encodeURIComponent(ids.job!)}`],
      [['spam', 'stats', '--mailbox', 'alice@example.test'], '/api/v1/spam/stats?mailbox=alice@example.test'],
      [['index', 'verify'], '/api/v1/index/verify'],
    ];
    const fromCli = await Promise.all(pairs.map(([args]) => cliJson(config, args)));
    for (const [i, [args, path]] of pairs.entries()) {
      const reply = path
        ? await api(port, 'GET', path, { token })
        : await api(port, 'POST', '/api/v1/messages/delete', { token: writer, body: { ids: [ids.entry], dryRun: true } });
      expect(reply.status, path).toBe(200);
      expect(reply.json, `${args.join(' ')} vs ${path}`).toEqual(fromCli[i]);
    }
    expect((fromCli[2] as unknown[]).length).toBe(2);
    expect((fromCli[8] as unknown[]).length).toBe(2);
  }, 300_000);

  it('answers a queue change with dry run as the CLI does', async () => {
    const write = new TokenFile(tokenFilePath(server.services.config)).create(parseScopes(['queue:write']), 'parity-write').token;
    const cli = await cliJson(config, ['queue', 'hold', '--domain', 'far.test', '--dry-run']);
    const reply = await api(port, 'POST', '/api/v1/queue/hold', { token: write, body: { domain: 'far.test', dryRun: true } });
    expect(reply.json).toEqual(cli);
    expect(cli).toEqual({ action: 'hold', dryRun: true, jobs: [ids.job] });
  }, 120_000);
});
