import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLine, runCli, tempDir } from './run-cli.js';

/** domain and mailbox commands against one data dir; the steps build on each other, in order. */
describe('hermod domain / mailbox', () => {
  const tmp = tempDir();
  const env = { HERMOD_DATA_DIR: tmp.dir };
  afterAll(() => tmp.cleanup());

  it('adds a domain and mailboxes, with an explicit and a default quota', async () => {
    const domain = await runCli(['domain', 'add', 'Example.ORG'], env);
    expect(domain).toMatchObject({ code: 0, stderr: '' });
    expect(domain.stdout).toBe('domain added: example.org\n');

    const alice = await runCli(
      ['mailbox', 'add', 'alice@example.org', '--alias', 'al@example.org', '--alias', 'a.l@example.org', '--quota', '2G'],
      env,
    );
    expect(alice.code).toBe(0);
    expect(alice.stdout).toContain('mailbox added: alice@example.org (quota 2G');

    // quota.defaultBytes from the environment (HERMOD_QUOTA__DEFAULT_BYTES) when --quota is absent
    const bob = await runCli(['mailbox', 'add', 'bob@example.org'], { ...env, HERMOD_QUOTA__DEFAULT_BYTES: '1048576' });
    expect(bob.code).toBe(0);
    expect(bob.stdout).toContain('(quota 1M)');
  });

  it('lists mailboxes and domains as JSON and as tables', async () => {
    const json = await runCli(['mailbox', 'list', '--domain', 'example.org', '--json'], env);
    expect(json.code).toBe(0);
    const mailboxes = JSON.parse(json.stdout) as { address: string; aliases: string[]; quotaBytes: number }[];
    const byAddress = Object.fromEntries(mailboxes.map((m) => [m.address, m]));
    expect(Object.keys(byAddress).sort()).toEqual(['alice@example.org', 'bob@example.org']);
    expect(byAddress['alice@example.org'].quotaBytes).toBe(2 * 1024 ** 3);
    expect(byAddress['alice@example.org'].aliases.sort()).toEqual(['a.l@example.org', 'al@example.org']);
    expect(byAddress['bob@example.org'].quotaBytes).toBe(1024 * 1024);

    const table = await runCli(['mailbox', 'list'], env);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ADDRESS\s+ALIASES\s+QUOTA\s+USED\s+CREATED$/);
    expect(lines).toHaveLength(3);
    expect(table.stdout).toMatch(/alice@example\.org\s+.*al@example\.org.*\s+2G\s+0\s+\d{4}-\d\d-\d\d/);

    const domains = await runCli(['domain', 'list', '--json'], env);
    expect(JSON.parse(domains.stdout)).toEqual([
      expect.objectContaining({ name: 'example.org', mailboxes: 2 }),
    ]);
  });

  it('refuses bad input with one line on stderr and exit status 2, before touching the store', async () => {
    const untouched = join(tmp.dir, 'never-created');
    const [badAddress, badQuota, badFlag] = await Promise.all([
      runCli(['mailbox', 'add', 'carol smith@example.org'], { HERMOD_DATA_DIR: untouched }),
      runCli(['mailbox', 'add', 'carol@example.org', '--quota', '12Q'], env),
      runCli(['domain', 'list', '--jsn'], env),
    ]);
    expect(badAddress.code).toBe(2);
    expect(errorLine(badAddress)).toContain('"carol smith@example.org"');
    expect(badAddress.stdout).toBe('');
    expect(existsSync(untouched)).toBe(false);

    expect(badQuota.code).toBe(2);
    expect(errorLine(badQuota)).toMatch(/--quota.*12Q/);

    expect(badFlag.code).toBe(2);
    expect(errorLine(badFlag)).toMatch(/unknown option '--jsn'.*--json/);
  });

  it('reports an unknown mailbox with exit status 1', async () => {
    const missing = await runCli(['mailbox', 'remove', 'nobody@example.org'], env);
    expect(missing.code).toBe(1);
    expect(errorLine(missing)).toContain('nobody@example.org');
  });

  it('removes mailboxes and then the domain', async () => {
    expect((await runCli(['mailbox', 'remove', 'alice@example.org'], env)).stdout).toBe(
      'mailbox removed: alice@example.org\n',
    );
    expect((await runCli(['mailbox', 'remove', 'BOB@example.org'], env)).code).toBe(0);
    expect((await runCli(['domain', 'remove', 'example.org'], env)).stdout).toBe('domain removed: example.org\n');
  });
});
