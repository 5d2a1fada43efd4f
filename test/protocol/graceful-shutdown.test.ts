import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteMessageStore } from '../../src/store/sqlite/sqlite-message-store.js';
import { RawSmtpClient } from '../helpers/smtp-client.js';
import { sampleMessage } from '../helpers/hermod-harness.js';

const repo = new URL('../../', import.meta.url).pathname;
let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function hermod(args: string[], config: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '-c', config, ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function run(args: string[], config: string): Promise<void> {
  const p = hermod(args, config);
  const code = await new Promise<number | null>((r) => p.on('exit', r));
  expect(code).toBe(0);
}

async function connectWhenUp(port: number): Promise<RawSmtpClient> {
  for (let i = 0; i < 200; i++) {
    try {
      return await RawSmtpClient.open(port);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('hermod did not start');
}

describe('hermod serve: SIGTERM drains', () => {
  it('finishes a transaction in flight, refuses new connections, closes the store and exits 0', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hermod-term-'));
    const port = await freePort();
    const config = join(dir, 'hermod.yaml');
    writeFileSync(config, `dataDir: ${dir}/data\nlmtp: { port: ${port} }\nsmtp: { enabled: false }\nlog: { level: info }\n`);
    await run(['domain', 'add', 'example.test'], config);
    await run(['mailbox', 'add', 'alice@example.test'], config);
    child = hermod(['serve'], config);
    const exited = new Promise<number | null>((r) => child!.on('exit', r));

    const client = await connectWhenUp(port);
    expect((await client.reply()).code).toBe(220);
    await client.command('LHLO client.test');
    await client.command('MAIL FROM:<bob@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    expect((await client.command('DATA')).code).toBe(354);
    const message = sampleMessage('in flight during SIGTERM');
    client.write(message.slice(0, 40));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // New connections are no longer accepted while the old one finishes.
    await expect(RawSmtpClient.open(port).then((c) => c.reply())).rejects.toThrow();
    client.write(`${message.slice(40)}.\r\n`);
    expect((await client.reply()).code).toBe(250);
    expect(await exited).toBe(0);

    const store = new SqliteMessageStore({ file: join(dir, 'data', 'hermod.sqlite') });
    await store.init();
    const mailbox = (await store.resolveAddress('alice@example.test'))!;
    const entries = await store.listEntries({ mailboxId: mailbox.id, limit: 5 });
    expect(entries.map((e) => e.summary.subject)).toEqual(['in flight during SIGTERM']);
    await store.close();
  });
});
