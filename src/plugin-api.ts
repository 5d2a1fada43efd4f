/**
 * The plugin API (`hermod/plugin`): everything a plugin may use of Hermod, and the only module
 * of Hermod a plugin imports. What is not exported here is Hermod's own business and may change
 * without notice; a dependency-rule test keeps plugins to this module and their own folder.
 */

// Manifest, hooks and what a hook sees and returns.
export {
  STAGES,
  type AuthResult,
  type Hook,
  type HookContext,
  type MessageSummary,
  type PluginDeps,
  type PluginFinding,
  type PluginManifest,
  type RecipientState,
  type SessionInfo,
  type Stage,
  type Transaction,
  type TransactionExtensions,
  type Verdict,
} from './pipeline/types.js';
export { PluginError } from './errors.js';
// Giving the event loop a turn during long passes over message content.
export { runPass, runPassSliced, SLICE_CHARS, SLICE_STEPS, TimeSlice, whiteSpaceChunks, type SteppedPass } from './pipeline/time-slice.js';

// The store role a plugin may be given (Bayes token statistics) and the values it deals in.
export type { BayesTokenStore } from './store/roles.js';
export {
  BAYES_GLOBAL_SCOPE,
  type AttachmentMeta,
  type BayesCounts,
  type BayesLabel,
  type BayesLearning,
  type BayesLearnResult,
  type Mailbox,
} from './store/types.js';

// Header readers more than one plugin needs. The header section is found in one place, so every
// reader agrees on where it ends and reads at most MAX_HEADER_SECTION bytes as headers.
export { authservIdOf } from './mail/authentication-results.js';
export { bodyStart, headerSectionBytes, headerText, MAX_HEADER_SECTION } from './mail/message-headers.js';
// Part headers found by name anywhere in the raw bytes, without copying the message into text.
export { fieldsNamed, holdsFolded, lowerAsciiByte, unfoldedValueAt } from './mail/header-lines.js';
export { addressParser, loadAddressParser, loadMailparser } from './mail/mailparser-loader.js';
export { htmlToPlainText, htmlToPlainTextSteps } from './mail/html-text.js';
// What a parse of the message hands to the search indexer, and when it may.
export { readsLikeTheIndexer, type ContentParseLimits, type MessageContent } from './mail/message-content.js';

// SQLite set-up for a plugin's own file that several nodes may open at once.
export { switchToWal } from './store/sqlite/wal-mode.js';

// Network helpers shared by the network plugins (DNS lists, SPF, greylisting, rate limits).
export { createDnsClient, dnsConfigSchema, isNoRecord, type DnsClient, type DnsConfig, type DnsLookup } from './net/dns-resolver.js';
export { cidrListSchema, isAddressOrCidr, LOOPBACK } from './net/cidr-list.js';
export { createRedis, redisConfigSchema, type Redis, type RedisConfig } from './net/redis-client.js';
export { NetworkList, normalizeAddress } from './net/network-list.js';

/**
 * Filled by the `parse` plugin (plugins/parse/parsed-message.ts) by declaration merging, and
 * given to later plugins as `transaction.parsed`. Empty here: its fields belong to that plugin.
 */
export interface ParsedMessage {}

/**
 * Filled by the `auth` plugin (plugins/auth/auth-summary.ts) by declaration merging, and given
 * to later plugins as `transaction.auth`. Empty here: its fields belong to that plugin.
 */
export interface AuthSummary {}
