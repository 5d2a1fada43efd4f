export { TransactionCore, type DeliveryReport, type OpenTransaction, type TransactionCoreDeps, type TransactionKind } from './transaction-core.js';
export { replyForOutcome, singleReply, type RecipientOutcome, type SingleReply } from './recipient-outcome.js';
export type { ProcessResult } from './message-processor.js';
export { exceedsQuota } from './quota-rule.js';
