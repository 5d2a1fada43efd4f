import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { InputError } from '../../errors.js';
import { headerAddresses, withoutBcc } from '../../mail/message-headers.js';
import { loadCliConfig } from '../context.js';
import { print, printJson } from '../format.js';
import { withQueue } from '../queue-context.js';
import { collectAddress } from '../validate.js';
import { checkAddress } from '../../admin/input-rules.js';

interface SendOptions {
  from?: string;
  to?: string[];
  cc?: string[];
  subject?: string;
  body?: string;
  eml?: string;
  json?: boolean;
}

/** Registers `hermod send`: queue a message from flags or from an .eml file, as sendmail would. */
export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('queue a message for delivery (the running server sends it)')
    .option('--from <address>', 'sender (envelope and From); with --eml, overrides the envelope sender only')
    .addOption(new Option('--to <address>', 'recipient (repeat for more); with --eml, replaces the header recipients').argParser(collectAddress))
    .addOption(new Option('--cc <address>', 'copy recipient (repeat for more)').argParser(collectAddress))
    .option('--subject <text>', 'subject line', '')
    .option('--body <text>', 'plain-text body', '')
    .option('--eml <file>', 'send this RFC 5322 message as it is (recipients from To, Cc and Bcc unless --to is given)')
    .option('--json', 'print JSON ({messageId, jobs})')
    .addHelpText(
      'after',
      '\nExamples:\n  hermod send --from alice@example.org --to bob@example.com --subject Hi --body "Hello"\n' +
        '  hermod send --eml message.eml\n  hermod send --eml message.eml --from bounces@example.org --to list@example.net',
    )
    .action(async (opts: SendOptions, cmd: Command) => {
      const { sender, recipients, raw } = opts.eml ? fromFile(opts) : fromFlags(opts);
      await withQueue(loadCliConfig(cmd), async ({ outbound }) => {
        const { messageId, jobs } = await outbound.submit({ sender, recipients, raw });
        if (opts.json) return printJson({ messageId, jobs });
        print(`queued as ${messageId}: ${jobs.map((j) => `${j.id} → ${j.domain} (${j.recipients.length})`).join(', ')}`);
      });
    });
}

function fromFlags(opts: SendOptions): { sender: string; recipients: string[]; raw: Buffer } {
  if (!opts.from) throw new InputError('--from is required (or give --eml FILE)');
  const from = checkAddress(opts.from, '--from');
  const to = opts.to ?? [];
  const recipients = [...to, ...(opts.cc ?? [])];
  if (recipients.length === 0) throw new InputError('at least one --to is required');
  const headers = [
    `From: <${from}>`,
    `To: ${to.map((a) => `<${a}>`).join(', ') || 'undisclosed-recipients:;'}`,
    ...(opts.cc?.length ? [`Cc: ${opts.cc.map((a) => `<${a}>`).join(', ')}`] : []),
    `Subject: ${(opts.subject ?? '').replace(/[\r\n]+/g, ' ')}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${from.slice(from.indexOf('@') + 1)}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  const body = (opts.body ?? '').replace(/\r?\n/g, '\r\n');
  return { sender: from, recipients, raw: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}\r\n`) };
}

function fromFile(opts: SendOptions): { sender: string; recipients: string[]; raw: Buffer } {
  let raw: Buffer;
  try {
    raw = readFileSync(opts.eml!);
  } catch (err) {
    throw new InputError(`--eml: cannot read ${opts.eml} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const sender = opts.from ? checkAddress(opts.from, '--from') : headerAddresses(raw, 'from')[0];
  if (!sender) throw new InputError(`--eml: ${opts.eml} has no From address; give --from`);
  const recipients = opts.to?.length
    ? [...opts.to, ...(opts.cc ?? [])]
    : ['to', 'cc', 'bcc'].flatMap((h) => headerAddresses(raw, h));
  if (recipients.length === 0) throw new InputError(`--eml: ${opts.eml} names no recipient (To, Cc, Bcc); give --to`);
  return { sender, recipients, raw: withoutBcc(raw) };
}
