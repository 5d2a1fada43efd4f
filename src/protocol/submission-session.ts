import type { Logger } from 'pino';
import type { HermodConfig } from '../config/schema.js';
import type { AddressOwner } from '../mail/address-syntax.js';
import type { EnvelopeDsn, RecipientDsn } from '../mail/dsn-parameters.js';
import type { InflightBudget } from './inflight-budget.js';
import type { PeerInfo } from './session-state.js';

/** An account as submission sees it: its addresses (for the sender check). */
export type SubmissionAccount = AddressOwner;

/**
 * What submission asks the store: the directory and credentials roles, narrowed to the lookups
 * it makes. Declared here, by its consumer, so the listener room needs no store import.
 */
export interface SubmissionAccounts {
  resolveAddress(address: string): Promise<SubmissionAccount | null>;
  isLocalDomain(name: string): Promise<boolean>;
  getPasswordHash(address: string): Promise<string | null>;
}

/** Where an accepted submission goes: the outbound queue's way in. */
export interface MessageSubmitter {
  submit(message: {
    sender: string;
    recipients: string[];
    raw: Buffer;
    dsn?: EnvelopeDsn;
    recipientDsn?: Record<string, RecipientDsn>;
  }): Promise<{ messageId: string }>;
}

export interface SubmissionHandlerDeps {
  config: HermodConfig;
  accounts: SubmissionAccounts;
  /** The outbound queue's way in; resolved lazily so the listener can exist before the queue. */
  outbound: () => MessageSubmitter;
  log: Logger;
  peers: Map<string, PeerInfo>;
  /** limits.maxInflightBytes, shared with the LMTP and SMTP listeners. */
  budget: InflightBudget;
}

/** What the submission listener keeps per connection. */
export interface SubmissionSession {
  client: string;
  /** The client is in submission.trustedNetworks: may relay without AUTH, as any sender. */
  trusted: boolean;
  mailbox?: SubmissionAccount;
  secure?: boolean;
  sender?: string;
  recipients: string[];
  counted: boolean;
  /** RET/ENVID of MAIL FROM, NOTIFY/ORCPT of each RCPT TO (RFC 3461). */
  dsn?: EnvelopeDsn;
  recipientDsn?: Record<string, RecipientDsn>;
}
