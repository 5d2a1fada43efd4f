import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { hashPassword } from '../../protocol/password-hash.js';
import { loadCliConfig, withServices } from '../context.js';
import { print } from '../format.js';
import { checkAddress } from '../../admin/input-rules.js';

/** Registers `hermod mailbox passwd ADDRESS`: the password for SMTP AUTH on the submission port. */
export function registerPasswd(mailbox: Command): void {
  mailbox
    .command('passwd')
    .description('set the submission (SMTP AUTH) password of a mailbox; stored as an scrypt hash')
    .argument('<address>', 'primary address of the mailbox')
    .option('--password-stdin', 'read the password from the first line of standard input (scripts)')
    .option('--clear', 'remove the password: the mailbox can no longer log in')
    .action(async (address: string, opts: { passwordStdin?: boolean; clear?: boolean }, cmd: Command) => {
      const primary = checkAddress(address, 'mailbox address');
      const password = opts.clear ? null : opts.passwordStdin || !process.stdin.isTTY ? await firstLine() : await prompt();
      if (password !== null && password.length < 8) throw new InputError('the password must have at least 8 characters');
      const hash = password === null ? null : await hashPassword(password);
      await withServices(loadCliConfig(cmd), async ({ store }) => {
        await store.setPassword(primary, hash);
        print(hash ? `password set for ${primary}` : `password removed for ${primary}`);
      });
    });
}

function firstLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (data += chunk));
    process.stdin.on('end', () => resolve(data.split(/\r?\n/)[0] ?? ''));
    process.stdin.on('error', reject);
  });
}

/** Asks twice on the terminal without echo. */
async function prompt(): Promise<string> {
  const ask = (question: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s) => {
        if (s.includes(question)) process.stderr.write(s);
      };
      rl.question(question, (answer) => {
        rl.close();
        process.stderr.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('New password: ');
  if ((await ask('Repeat password: ')) !== first) throw new InputError('the passwords do not match');
  return first;
}
