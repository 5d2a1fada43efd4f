import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { BayesTokenStore } from '../store/roles.js';
import type { AttachmentMeta, LedgerLine, Mailbox } from '../store/types.js';
import type { MessageContent } from '../mail/message-content.js';

export type { LedgerLine };

/** The fixed stages, in the order a transaction passes them. */
export const STAGES = ['connect', 'helo', 'mail', 'rcpt', 'data', 'message', 'stored'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * What a hook decides. The first verdict that is not `continue` wins for its scope.
 * `code`/`enhanced` override the defaults of replies.ts; `recipients` narrows a
 * data/message verdict to some recipients (per-recipient truth in LMTP).
 */
export type Verdict =
  | { action: 'continue' }
  | { action: 'accept'; reason?: string }
  | { action: 'discard'; reason?: string; recipients?: string[] }
  | {
      action: 'reject' | 'tempfail';
      text: string;
      code?: number;
      enhanced?: string;
      recipients?: string[];
    };

/** Evidence a plugin adds. Detection apart from decision: these never decide by themselves. */
export interface PluginFinding {
  score?: number;
  tags?: string[];
  /** Folder the plugin suggests (classification); junk decisions belong to the scorer. */
  folder?: string;
  /** Importance contribution, summed and clamped to −10..10. */
  importance?: number;
  reason?: string;
  details?: Record<string, unknown>;
}

export interface SessionInfo {
  id: string;
  listener: 'lmtp' | 'smtp';
  /** The client address: from the PROXY header when one was honoured, else the socket peer. */
  clientAddress: string;
  clientPort: number;
  /** The address that actually connected (HAProxy's when proxied). */
  peerAddress: string;
  proxied: boolean;
  heloName: string;
  secure: boolean;
  /** Protocol and cipher once STARTTLS (or implicit TLS) is up; absent in plain text. */
  tls?: { protocol: string; cipher: string; bits: number; algorithmBits: number };
}

export interface RecipientState {
  /** As given in RCPT TO. */
  address: string;
  mailbox: Mailbox;
}

/**
 * The fields of a message a mailbox entry lists without reading the raw bytes. A plugin that
 * parses the message (the `parse` plugin) fills `Transaction.summary`; without one the entry
 * carries the envelope sender and the SHA-256 thread id.
 */
export interface MessageSummary {
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  date: Date | null;
  messageId: string | null;
  threadId: string;
  attachments: AttachmentMeta[];
}

/**
 * What plugins add to the transaction, by declaration merging: a plugin that shares a result with
 * later plugins declares its field here from its own folder, e.g.
 * `declare module 'hermod/plugin' { interface TransactionExtensions { greeting?: string } }` (a plugin
 * inside this repository names the module by its path, '../../src/plugin-api.js').
 */
export interface TransactionExtensions {}

export interface Transaction extends TransactionExtensions {
  id: string;
  mailFrom: string;
  recipients: RecipientState[];
  /**
   * Set from the data stage on: the bytes as received, one Buffer of exactly the message's size
   * (read once from the DATA spool for a large message). Prefer `rawStream` where a stream will do.
   */
  raw?: Buffer;
  sha256?: string;
  /**
   * Set from the data stage on: a new stream of the bytes as received at each call, in slices of
   * the in-memory message (no copy), for readers that can stream; they use it first, as
   * `txn.rawStream?.() ?? Readable.from([txn.raw])`.
   */
  rawStream?: () => Readable;
  /** What the mailbox entry lists; set by a plugin that parses the message (parse). */
  summary?: MessageSummary;
  /**
   * What the search document takes from the bytes, set by a plugin that parsed them exactly as
   * the indexer would (parse, see readsLikeTheIndexer): handed to this process's indexer so it
   * need not read the message back and parse it again. Absent, the indexer does that.
   */
  searchContent?: MessageContent;
  /** Headers Hermod adds in front of the raw message, in order. */
  addedHeaders: [string, string][];
  /** Evidence collected so far, by plugin name. */
  findings: { plugin: string; finding: PluginFinding }[];
}

/** A result word of RFC 8601 (Authentication-Results): the vocabulary plugins share about checks. */
export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

export interface HookContext<C = unknown, S = unknown> {
  stage: Stage;
  session: SessionInfo;
  transaction: Transaction;
  /** At the rcpt stage: the recipient being checked. */
  recipient?: RecipientState;
  config: C;
  state: S;
  log: Logger;
  /** Adds evidence to the ledger line of this hook call. */
  report(finding: PluginFinding): void;
}

export type Hook<C = unknown, S = unknown> = (
  ctx: HookContext<C, S>,
) => Verdict | void | Promise<Verdict | void>;

/** What Hermod gives a plugin at init. */
export interface PluginDeps {
  log: Logger;
  hostname: string;
  /** Hermod's data directory, for plugins that keep an embedded file (greylist). */
  dataDir?: string;
  /** The store's Bayes token role, for plugins that keep statistics in it (the only role a plugin gets). */
  store?: BayesTokenStore;
}

/**
 * A plugin's manifest: plugins/<name>/index.ts default-exports one.
 * The registry checks the hook names, the `after` dependencies and the config at start-up.
 */
export interface PluginManifest<C = unknown, S = unknown> {
  name: string;
  description: string;
  /** Plugins that must run before this one (and so must be configured). */
  after?: string[];
  configSchema: ZodType<C>;
  init?: (config: C, deps: PluginDeps) => S | Promise<S>;
  hooks: Partial<Record<Stage, Hook<C, S>>>;
  close?: (state: S) => void | Promise<void>;
}
