import type { estypes } from '@elastic/elasticsearch';

/** The names one index prefix stands for. */
export interface IndexNames {
  /** The composable index template, `PREFIX-messages`. */
  template: string;
  /** What the template applies to, `PREFIX-messages-*`. */
  pattern: string;
  /** The concrete index Hermod creates, `PREFIX-messages-v1`. */
  index: string;
  /** The alias every read and write goes through, `PREFIX-messages`. */
  alias: string;
}

/**
 * Names for a prefix. Reads and writes use the alias, so a future mapping change can build
 * `-v2` beside `-v1` (with `hermod reindex`) and move the alias in one step.
 */
export function indexNames(prefix: string): IndexNames {
  return {
    template: `${prefix}-messages`,
    pattern: `${prefix}-messages-*`,
    index: `${prefix}-messages-v1`,
    alias: `${prefix}-messages`,
  };
}

/** Settings of new indices, from the config. */
export interface IndexSettings {
  shards: number;
  replicas: number;
  refreshIntervalMs: number;
  /** Extra index settings (tests shorten index.gc_deletes with it). */
  extra?: Record<string, unknown>;
}

/** Keyword compared case-insensitively: a lower-casing normalizer (built in, no plugin needed). */
const LOWER_KEYWORD = { type: 'keyword', normalizer: 'hermod_lowercase', ignore_above: 8000 } as const;
/** Keyword compared as is. */
const KEYWORD = { type: 'keyword', ignore_above: 8000 } as const;
/** Text searched with the standard analyzer (see es-text.ts for the folding done before it). */
const TEXT = { type: 'text', analyzer: 'standard' } as const;

/**
 * The mapping. One document per mailbox entry, `_id` = `mailboxId/entryId`, routed by mailbox:
 *
 * - `subject`, `body`, `attachments`: text, standard analyzer, phrase positions kept.
 * - `from`, `to`, `cc`: lower-case keywords matched with `*value*` wildcards (substring of address
 *   or display name, like the embedded index). `to` and `cc` are arrays: one value per address,
 *   so a match cannot straddle two addresses.
 * - `tags`, `folder`: lower-case keywords matched whole. `threadId`, `entryId`, `mailboxId`: keywords.
 * - `date` (arrival time, epoch ms), `size`, `hasAttachment`.
 * - `version`: the external version, also kept as a field so drift checks read it with the rest.
 * - `deleted`: true on a tombstone — what a removal indexes instead of deleting. Elasticsearch
 *   remembers the version of a deleted document only for `index.gc_deletes` (60 s), after which an
 *   old upsert would bring it back; a tombstone document keeps its version for good. Tombstones
 *   carry no text and are filtered out of every search.
 *
 * `dynamic: strict` refuses fields the mapping does not name; `_routing.required` refuses a write
 * that forgot the mailbox; the body is indexed but not kept in `_source` (the store has the message).
 */
export const MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  _routing: { required: true },
  _source: { excludes: ['body'] },
  properties: {
    entryId: KEYWORD,
    mailboxId: KEYWORD,
    threadId: KEYWORD,
    folder: LOWER_KEYWORD,
    tags: LOWER_KEYWORD,
    from: LOWER_KEYWORD,
    to: LOWER_KEYWORD,
    cc: LOWER_KEYWORD,
    subject: TEXT,
    body: TEXT,
    attachments: TEXT,
    hasAttachment: { type: 'boolean' },
    date: { type: 'date', format: 'epoch_millis' },
    size: { type: 'long' },
    version: { type: 'long' },
    deleted: { type: 'boolean' },
  },
};

/** The index template request: settings, the normalizer and the mapping. */
export function templateRequest(names: IndexNames, settings: IndexSettings): estypes.IndicesPutIndexTemplateRequest {
  return {
    name: names.template,
    index_patterns: [names.pattern],
    // Above the built-in templates (priority 100 is common for user templates; ours is specific).
    priority: 200,
    _meta: { description: 'Hermod mailbox entries (search index)', schema: 1 },
    template: {
      settings: {
        number_of_shards: settings.shards,
        number_of_replicas: settings.replicas,
        refresh_interval: `${settings.refreshIntervalMs}ms`,
        analysis: { normalizer: { hermod_lowercase: { type: 'custom', filter: ['lowercase'] } } },
        ...settings.extra,
      },
      mappings: MAPPINGS,
    },
  };
}
