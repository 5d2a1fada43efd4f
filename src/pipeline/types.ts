import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { MessageStore } from '../store/message-store.js';
import type { AttachmentMeta, LedgerLine, Mailbox } from '../store/types.js';

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
}

export interface RecipientState {
  /** As given in RCPT TO. */
  address: string;
  mailbox: Mailbox;
}

/** The parsed form of the message, filled by the `parse` plugin at the data stage. */
export interface ParsedMessage {
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  date: Date | null;
  messageId: string | null;
  threadId: string;
  text: string;
  html: string;
  attachments: AttachmentMeta[];
  /** Header name (lower case) → raw values, in order. */
  headers: Map<string, string[]>;
}

export interface Transaction {
  id: string;
  mailFrom: string;
  recipients: RecipientState[];
  /** Set from the data stage on: the bytes as received. */
  raw?: Buffer;
  sha256?: string;
  /** Set by the parse plugin. */
  parsed?: ParsedMessage;
  /** Headers Hermod adds in front of the raw message, in order. */
  addedHeaders: [string, string][];
  /** Evidence collected so far, by plugin name. */
  findings: { plugin: string; finding: PluginFinding }[];
  /** Set by the `auth` plugin: SPF, DKIM, DMARC and ARC results, for later plugins (classify, privacy). */
  auth?: AuthSummary;
}

/** A result word of RFC 8601 (Authentication-Results), as the checks report it. */
export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

/** What the `auth` plugin found, in a form later plugins can test without knowing mailauth. */
export interface AuthSummary {
  /** SPF of the MAIL FROM domain (or the HELO name for a null sender), checked against the client address. */
  spf: { result: AuthResult; domain: string };
  /** One entry per DKIM-Signature; `aligned` when its domain aligns with the From domain (DMARC relaxed/strict). */
  dkim: { result: AuthResult; domain: string; selector: string; aligned: boolean }[];
  /** DMARC of the From domain; `policy` is the published p=/sp= that applies (none when no record). */
  dmarc: { result: AuthResult; domain: string; policy: 'none' | 'quarantine' | 'reject' };
  /** ARC chain validation; `sealer` is the signing domain of the latest ARC-Seal. */
  arc: { result: AuthResult; sealer?: string };
  /** The From header domain the checks were aligned against ('' when none or several). */
  fromDomain: string;
}

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
  /** The message store, for plugins that keep state in it (Bayes token statistics). */
  store?: MessageStore;
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
