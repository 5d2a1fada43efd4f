/**
 * Builds HookContexts for plugin tests, so a hook can run without a server: a transaction with
 * recipient mailboxes, a silent logger, and a `report` that collects findings.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type {
  HookContext,
  PluginFinding,
  PluginManifest,
  RecipientState,
  SessionInfo,
  Stage,
  Transaction,
  Verdict,
} from '../../src/pipeline/types.js';
import type { Mailbox } from '../../src/store/types.js';

/** A recipient given by address, or with aliases. */
export type RecipientSpec = string | { address: string; aliases?: string[] };

export function makeMailbox(spec: RecipientSpec, index = 0): Mailbox {
  const { address, aliases = [] } = typeof spec === 'string' ? { address: spec } : spec;
  return {
    id: `mbx-${index + 1}`,
    address,
    aliases,
    quotaBytes: 0,
    createdAt: new Date(0),
  };
}

export function makeSession(): SessionInfo {
  return {
    id: 'test-session',
    listener: 'lmtp',
    clientAddress: '192.0.2.1',
    clientPort: 54321,
    peerAddress: '192.0.2.1',
    proxied: false,
    heloName: 'client.example.net',
    secure: false,
  };
}

/** A transaction at the data stage: raw bytes, their SHA-256, one mailbox per recipient. */
export function makeTransaction(
  raw: Buffer,
  recipients: RecipientSpec[] = ['bob@example.com'],
  mailFrom = 'sender@example.org',
): Transaction {
  const states: RecipientState[] = recipients.map((spec, i) => {
    const mailbox = makeMailbox(spec, i);
    return { address: mailbox.address, mailbox };
  });
  return {
    id: 'test-txn',
    mailFrom,
    recipients: states,
    raw,
    sha256: createHash('sha256').update(raw).digest('hex'),
    addedHeaders: [],
    findings: [],
  };
}

export interface ContextOptions<C, S> {
  stage: Stage;
  /** Either a ready transaction or raw bytes to build one from. */
  transaction?: Transaction;
  raw?: Buffer;
  recipients?: RecipientSpec[];
  config: C;
  state?: S;
  /** Plugin name recorded with each finding in transaction.findings. @defaultValue "test" */
  plugin?: string;
}

/** A HookContext plus the findings its `report` collected. */
export function createHookContext<C, S = unknown>(
  options: ContextOptions<C, S>,
): { ctx: HookContext<C, S>; findings: PluginFinding[] } {
  const transaction =
    options.transaction ?? makeTransaction(options.raw ?? Buffer.alloc(0), options.recipients);
  const findings: PluginFinding[] = [];
  const plugin = options.plugin ?? 'test';
  const ctx: HookContext<C, S> = {
    stage: options.stage,
    session: makeSession(),
    transaction,
    recipient: options.stage === 'rcpt' ? transaction.recipients[0] : undefined,
    config: options.config,
    state: options.state as S,
    log: pino({ level: 'silent' }),
    report(finding) {
      findings.push(finding);
      // Like the runner: later plugins see earlier evidence on the transaction.
      transaction.findings.push({ plugin, finding });
    },
  };
  return { ctx, findings };
}

export interface HookRun<C, S> {
  verdict: Verdict | void;
  findings: PluginFinding[];
  ctx: HookContext<C, S>;
}

/**
 * Runs one hook of a manifest the way the registry would: config parsed by the manifest's
 * schema, `init` called, the hook run, `close` called.
 */
export async function runHook<C, S>(
  manifest: PluginManifest<C, S>,
  stage: Stage,
  transaction: Transaction,
  rawConfig: unknown = {},
): Promise<HookRun<C, S>> {
  const hook = manifest.hooks[stage];
  if (!hook) throw new Error(`plugin ${manifest.name} has no ${stage} hook`);
  const config = manifest.configSchema.parse(rawConfig);
  const log = pino({ level: 'silent' });
  const state = manifest.init ? await manifest.init(config, { log, hostname: 'mx.test' }) : undefined;
  const { ctx, findings } = createHookContext<C, S>({
    stage,
    transaction,
    config,
    state: state as S,
    plugin: manifest.name,
  });
  try {
    const verdict = await hook(ctx);
    return { verdict, findings, ctx };
  } finally {
    await manifest.close?.(state as S);
  }
}

/** Expected results for one fixture in test/fixtures/mail/expected.json. */
export interface ExpectedMessage {
  description: string;
  parse: {
    subject: string;
    from: string;
    to?: string[];
    toCount?: number;
    cc: string[];
    date: string | null;
    messageId: string | null;
    sameThreadAs?: string;
    textIncludes?: string;
    hasHtml: boolean;
    htmlIncludes?: string;
    attachments: { filename: string; contentType: string; size: number; sha256: string }[];
    headers?: Record<string, string[]>;
  };
  spam: { rules: string[]; minScore: number; maxScore: number; tags?: string[] };
  classify: { tags: string[]; importance: number; matched: string[]; folder?: string };
}

export interface MailFixtures {
  now: Date;
  recipient: { address: string; aliases: string[] };
  /** [file name, raw bytes, expectations], in file name order. */
  messages: [string, Buffer, ExpectedMessage][];
}

export const MAIL_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/mail/', import.meta.url));

/** Reads the .eml corpus and its expectations. */
export function loadMailFixtures(): MailFixtures {
  const doc = JSON.parse(readFileSync(join(MAIL_FIXTURE_DIR, 'expected.json'), 'utf8')) as {
    now: string;
    recipient: MailFixtures['recipient'];
    messages: Record<string, ExpectedMessage>;
  };
  const messages = Object.keys(doc.messages)
    .sort()
    .map((name): [string, Buffer, ExpectedMessage] => [
      name,
      readFileSync(join(MAIL_FIXTURE_DIR, name)),
      doc.messages[name],
    ]);
  return { now: new Date(doc.now), recipient: doc.recipient, messages };
}
