import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, ROOT, runCli, tempDir } from './run-cli.js';
import { seedMessages, withStore } from './seed-store.js';

const FIXTURES = join(ROOT, 'test/fixtures/bayes');

describe('hermod spam train | stats', () => {
  const tmp = tempDir();
  const env = { HERMOD_DATA_DIR: join(tmp.dir, 'data') };
  const spamDir = join(tmp.dir, 'spam');
  const hamDir = join(tmp.dir, 'ham');

  beforeAll(async () => {
    mkdirSync(join(spamDir, 'nested'), { recursive: true });
    mkdirSync(hamDir);
    for (const name of readdirSync(FIXTURES)) {
      const target = name.startsWith('spam') ? spamDir : hamDir;
      copyFileSync(join(FIXTURES, name), join(name === 'spam-04.eml' ? join(spamDir, 'nested') : target, name));
    }
    writeFileSync(join(spamDir, '.hidden'), 'not a message');
    await withStore(env.HERMOD_DATA_DIR, async (store) => {
      await store.addDomain('example.org');
      const alice = await store.addMailbox({ address: 'alice@example.org', quotaBytes: 0 });
      await seedMessages(store, alice, [
        { raw: readFileSync(join(FIXTURES, 'spam-01.eml')), folder: 'Junk' },
        { raw: readFileSync(join(FIXTURES, 'spam-02.eml')), folder: 'Junk' },
        { raw: readFileSync(join(FIXTURES, 'ham-01.eml')) },
      ]);
    });
  });
  afterAll(() => tmp.cleanup());

  async function stats(mailbox?: string): Promise<Record<string, { spam: number; ham: number }>> {
    const result = await runCli(['spam', 'stats', '--json', ...(mailbox ? ['--mailbox', mailbox] : [])], env);
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout);
  }

  it('learns files and directories (recursively, dot files skipped) into the global statistics', async () => {
    const spam = await runCli(['spam', 'train', '--spam', spamDir], env);
    expect(spam).toMatchObject({ code: 0, stderr: '' });
    expect(spam.stdout).toBe(
      'learned 4 message(s) as spam in global: 4 new, 0 relearned (were ham), 0 already learned as spam\n' +
        'global now holds 4 spam and 0 ham\n',
    );
    const ham = await runCli(['spam', 'train', '--ham', join(hamDir, 'ham-01.eml'), join(hamDir, 'ham-02.eml')], env);
    expect(ham.stdout).toContain('learned 2 message(s) as ham in global: 2 new');
    expect(await stats()).toEqual({ global: { spam: 4, ham: 2 } });
  });

  it('counts a message once, and moves it over when learned with the other label', async () => {
    const again = await runCli(['spam', 'train', '--spam', spamDir], env);
    expect(again.stdout).toContain('0 new, 0 relearned (were ham), 4 already learned as spam');
    const flip = await runCli(['spam', 'train', '--ham', join(spamDir, 'spam-01.eml')], env);
    expect(flip.stdout).toContain('0 new, 1 relearned (were spam), 0 already learned as ham');
    expect(await stats()).toEqual({ global: { spam: 3, ham: 3 } });
  });

  it('skips a leading mbox "From " line, so a saved mbox message is the same message', async () => {
    const mboxStyle = join(tmp.dir, 'from-line.eml');
    const raw = readFileSync(join(FIXTURES, 'ham-03.eml'));
    writeFileSync(mboxStyle, Buffer.concat([Buffer.from('From dave@example.org Wed Mar  5 16:45:00 2025\n'), raw]));
    await runCli(['spam', 'train', '--ham', mboxStyle], env);
    const plain = await runCli(['spam', 'train', '--ham', join(hamDir, 'ham-03.eml')], env);
    expect(plain.stdout).toContain('0 new, 0 relearned (were spam), 1 already learned as ham');
  });

  it('learns a mailbox folder into the mailbox and global statistics', async () => {
    const result = await runCli(['spam', 'train', '--spam', '--mailbox', 'alice@example.org', '--folder', 'Junk'], env);
    expect(result.code).toBe(0);
    // New to the mailbox; globally spam-02 was spam already and spam-01 (learned as ham above) moves over.
    expect(result.stdout).toBe(
      'learned 2 message(s) as spam in alice@example.org and global: 2 new, 0 relearned (were ham), 0 already learned as spam\n' +
        'alice@example.org now holds 2 spam and 0 ham\n' +
        'global now holds 4 spam and 3 ham\n',
    );
    expect(await stats('alice@example.org')).toEqual({ global: { spam: 4, ham: 3 }, 'alice@example.org': { spam: 2, ham: 0 } });
    const table = await runCli(['spam', 'stats', '--mailbox', 'alice@example.org'], env);
    expect(table.stdout.split('\n')[0]).toMatch(/^STATISTICS\s+SPAM\s+HAM$/);
  });

  it.each([
    [['spam', 'train', 'x.eml'], /--spam or --ham/],
    [['spam', 'train', '--spam', '--ham', 'x.eml'], /one of --spam or --ham/],
    [['spam', 'train', '--spam'], /message files or directories, or --mailbox A --folder F/],
    [['spam', 'train', '--spam', '/no/such/file.eml'], /\/no\/such\/file\.eml: no such file or directory/],
    [['spam', 'train', '--spam', '--mailbox', 'alice@example.org'], /--mailbox needs --folder/],
    [['spam', 'train', '--spam', '--folder', 'Junk'], /--folder needs --mailbox/],
    [['spam', 'train', '--spam', '--mailbox', 'alice@example.org', '--folder', 'Junk', 'x.eml'], /not both \(x\.eml\)/],
    [['spam', 'train', '--spam', '--mailbox', 'not-an-address', '--folder', 'Junk'], /--mailbox "not-an-address"/],
    [['spam', 'train', '--ham', '--mailbox', 'alice@example.org', '--folder', 'Nowhere'], /--folder: no messages in alice@example\.org folder "Nowhere"/],
    [['spam', 'train', '--spam', '--bogus'], /unknown option '--bogus'/],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(message);
  });

  it('refuses an empty directory and an unknown mailbox', async () => {
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    const [dir, mailbox] = await Promise.all([
      runCli(['spam', 'train', '--spam', empty], env),
      runCli(['spam', 'train', '--spam', '--mailbox', 'zed@example.org', '--folder', 'Junk'], env),
    ]);
    expect(dir.code).toBe(2);
    expect(errorLine(dir)).toContain(`${empty}: no message files in this directory`);
    expect(mailbox.code).toBe(1);
    expect(errorLine(mailbox)).toMatch(/unknown mailbox "zed@example\.org"/);
  });
});
