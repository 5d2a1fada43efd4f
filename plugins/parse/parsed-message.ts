import type { AttachmentMeta, MessageSummary } from '../../src/plugin-api.js';

/*
 * The parse plugin's result, merged into the plugin API: later plugins (spam, bayes, classify,
 * privacy) read `transaction.parsed`; its listing fields are also the entry's `summary`.
 */
declare module '../../src/plugin-api.js' {
  /** The parsed form of the message, filled by the `parse` plugin at the data stage. */
  interface ParsedMessage extends MessageSummary {
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

  interface TransactionExtensions {
    /** Set by the parse plugin. */
    parsed?: ParsedMessage;
  }
}
