import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/protocol/password-hash.js';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { errorLine, ROOT, runCli, tempDir, writeFile, type CliResult } from './run-cli.js';

const tmp = tempDir('hermod-queue-cli-');
const env = { HERMOD_DATA_DIR: join(tmp.dir, 'data') };
const cli = (...args: string[]) => runCli(args, env);
const json = async <T>(...args: string[]): Promise<T> => {
  const r = await cli(...args, '--json');
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

/** Runs the CLI with text on standard input. */
function runWithInput(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERMOD_')));
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, stdoutBytes: Buffer.from(stdout) }));
    child.stdin.end(input);
  });
}

interface Job {
  id: string;
  messageId: string;
  domain: string;
  sender: string;
  state: string;
  recipients: { address: string }[];
}

beforeAll(async () => {
  expect((await cli('domain', 'add', 'example.test')).code).toBe(0);
  expect((await cli('mailbox', 'add', 'alice@example.test')).code).toBe(0);
});
afterAll(() => tmp.cleanup());

// Each CLI run starts node with tsx (2-4 s on a busy two-core machine); the steps build on each other.
describe('hermod mailbox passwd, dkim, send and queue', { timeout: 180_000 }, () => {
  it('mailbox passwd stores an scrypt hash of the password read from stdin', async () => {
    const r = await runWithInput(['mailbox', 'passwd', 'alice@example.test', '--password-stdin'], 'correct horse\n');
    expect(r.stdout).toBe('password set for alice@example.test\n');
    const store = new SqliteMessageStore({ file: join(env.HERMOD_DATA_DIR, 'hermod.sqlite') });
    await store.init();
    const hash = (await store.getPasswordHash('alice@example.test'))!;
    await store.close();
    expect(hash).toMatch(/^\$scrypt\$N=32768,r=8,p=1\$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    const short = await runWithInput(['mailbox', 'passwd', 'alice@example.test', '--password-stdin'], 'short\n');
    expect(short.code).toBe(2);
    expect(errorLine(short)).toMatch(/at least 8 characters/);
  });

  it('dkim generate writes a private key and prints the TXT record', async () => {
    const r = await cli('dkim', 'generate', 'example.test', '--selector', 's2026');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^s2026\._domainkey\.example\.test\. IN TXT \( "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+/m);
    const file = join(env.HERMOD_DATA_DIR, 'dkim', 'example.test', 's2026.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await cli('dkim', 'show', 'example.test')).stdout).toMatch(/^s2026\._domainkey/);
  });

  it('send queues one job per domain, from flags and from an .eml file (Bcc kept out of the body)', async () => {
    const sent = await json<{ messageId: string; jobs: Job[] }>(
      'send', '--from', 'alice@example.test', '--to', 'bob@remote.test', '--to', 'carol@other.test', '--subject', 'Hi', '--body', 'hello',
    );
    expect(sent.jobs.map((j) => j.domain)).toEqual(['remote.test', 'other.test']);
    const eml = writeFile(tmp.dir, 'm.eml', 'From: alice@example.test\r\nTo: dan@remote.test\r\nBcc: eve@hidden.test\r\nSubject: eml\r\n\r\nbody\r\n');
    const fromFile = await json<{ jobs: Job[] }>('send', '--eml', eml);
    expect(fromFile.jobs.map((j) => [j.domain, j.recipients.map((r) => r.address)])).toEqual([
      ['remote.test', ['dan@remote.test']],
      ['hidden.test', ['eve@hidden.test']],
    ]);
    const show = await cli('queue', 'show', fromFile.jobs[0].id);
    expect(show.stdout).toMatch(/Subject: eml/);
    expect(show.stdout).not.toMatch(/Bcc:/);
    expect((await json<Job[]>('queue', 'list')).length).toBe(4);
    expect((await json<Job[]>('queue', 'list', '--domain', 'remote.test')).length).toBe(2);
  });

  it('hold, release, retry and delete take selectors and --dry-run; a change without any selector is refused', async () => {
    const dry = await json<{ dryRun: boolean; jobs: string[] }>('queue', 'hold', '--domain', 'remote.test', '--dry-run');
    expect(dry).toMatchObject({ dryRun: true });
    expect(dry.jobs).toHaveLength(2);
    expect((await json<Job[]>('queue', 'list', '--status', 'held'))).toEqual([]);
    const held = await json<{ jobs: string[] }>('queue', 'hold', '--domain', 'remote.test');
    expect((await json<Job[]>('queue', 'list', '--status', 'held')).map((j) => j.id).sort()).toEqual(held.jobs.sort());
    expect((await json<{ jobs: string[] }>('queue', 'release', held.jobs[0])).jobs).toEqual([held.jobs[0]]);
    expect((await json<{ jobs: string[] }>('queue', 'retry', '--status', 'held')).jobs).toEqual([held.jobs[1]]);
    expect((await json<Job[]>('queue', 'list', '--status', 'held'))).toEqual([]);
    const refused = await cli('queue', 'delete');
    expect(refused.code).toBe(2);
    expect(errorLine(refused)).toMatch(/--all for every job/);
    expect((await json<{ jobs: string[] }>('queue', 'delete', '--domain', 'other.test')).jobs).toHaveLength(1);
    const text = await cli('queue', 'list');
    expect(text.stdout).toMatch(/^ID +STATE +AGE +SIZE +SENDER +DOMAIN/);
  });

  it('stats counts by state and by domain and age, like qshape', async () => {
    const stats = await json<{ total: number; states: Record<string, number>; buckets: string[]; domains: { domain: string; total: number; byAge: number[] }[] }>('queue', 'stats');
    expect(stats.total).toBe(3);
    expect(stats.states.queued).toBe(3);
    expect(stats.buckets[0]).toBe('5m');
    expect(stats.domains.find((d) => d.domain === 'remote.test')).toMatchObject({ total: 2, byAge: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    expect((await cli('queue', 'stats')).stdout).toMatch(/^TOTAL +3 +3 /m);
  });

  it('bounce removes the job and queues a DSN to the sender with the null sender', async () => {
    const [job] = await json<Job[]>('queue', 'list', '--domain', 'hidden.test');
    expect((await json<{ jobs: string[] }>('queue', 'bounce', job.id)).jobs).toEqual([job.id]);
    const jobs = await json<Job[]>('queue', 'list', '--sender', '<>');
    expect(jobs.map((j) => [j.domain, j.recipients.map((r) => r.address)])).toEqual([['example.test', ['alice@example.test']]]);
    const show = await cli('queue', 'show', jobs[0].id);
    expect(show.stdout).toMatch(/Subject: Undelivered Mail Returned to Sender/);
  });
});
