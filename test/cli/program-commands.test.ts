import { describe, expect, it } from 'vitest';
import { buildProgram, commandNamed } from '../../src/cli/program.js';

const ALL = ['serve', 'domain', 'mailbox', 'message', 'search', 'index', 'reindex', 'migrate-data', 'spam', 'send', 'queue', 'dkim', 'token', 'config', 'migrate'];

async function commandsFor(args: string[]): Promise<string[]> {
  return (await buildProgram(args)).commands.map((c) => c.name());
}

describe('hermod program: one command module per run', () => {
  it('finds the command after the global options and the value of -c/--config', () => {
    expect(commandNamed(['serve'])).toBe('serve');
    expect(commandNamed(['-c', 'serve.yaml', 'domain', 'list'])).toBe('domain');
    expect(commandNamed(['--config', 'domain', 'mailbox', 'add', 'a@b.test'])).toBe('mailbox');
    expect(commandNamed(['--config=x.yaml', 'queue', 'list'])).toBe('queue');
    expect(commandNamed(['-V'])).toBeUndefined();
    expect(commandNamed([])).toBeUndefined();
  });

  it('registers only the named command: serve holds no admin command', async () => {
    expect(await commandsFor(['serve'])).toEqual(['serve']);
    expect(await commandsFor(['-c', 'hermod.yaml', 'message', 'list', '--mailbox', 'a@b.test'])).toEqual(['message']);
  });

  it('registers every command for help, no command and an unknown one, so listing and suggestions stay complete', async () => {
    for (const args of [[], ['--help'], ['help', 'serve'], ['domian'], ['-V']]) {
      expect(await commandsFor(args), args.join(' ')).toEqual(ALL);
    }
  });
});
