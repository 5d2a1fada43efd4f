import { Readable } from 'node:stream';
import { z } from 'zod';
import { htmlToPlainTextSteps, readsLikeTheIndexer, runPassSliced, TimeSlice, type HookContext, type MessageContent, type ParsedMessage, type PluginManifest, type Verdict } from '../../src/plugin-api.js';
// The ParsedMessage this plugin adds to the plugin API (declaration merging): importing it here
// puts it in every program that loads the plugin, not only in the whole-tree build.
import type {} from './parsed-message.js';
import { parseBoundsSchema, type BoundHit } from './bounds.js';
import { fallbackParsed, fromStreamedMail } from './build-parsed.js';
import { parseMessageStream, type StreamedMail } from './stream-parse.js';

export const parseConfigSchema = z.strictObject({
  /** Convert HTML to plain text when a message has no text part. @defaultValue true */
  htmlToText: z.boolean().default(true),
  /** Characters of HTML converted to text; the rest of the HTML is not read. @defaultValue 262144 */
  maxHtmlToTextChars: z.number().int().positive().default(256 * 1024),
  ...parseBoundsSchema,
  /**
   * What a message that hits a bound gets: `deliver` (parsed up to the bound, a ledger line says
   * which) or `reject` (554 5.6.0). @defaultValue 'deliver'
   */
  onBound: z.enum(['deliver', 'reject']).default('deliver'),
});

export type ParseConfig = z.infer<typeof parseConfigSchema>;

/** The header block and the start of the body, for the header-only fallback. */
function fallbackWindow(config: ParseConfig): number {
  return 4 * config.maxHeaderBytes + config.maxTextCharsPerPart;
}

/** The first `limit` bytes of a fresh stream of the message. */
async function readHead(open: () => Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const stream = open();
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      chunks.push(buf);
      length += buf.length;
      if (length >= limit) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/**
 * What the search index takes from the message, as this parse read it. Handed over only when the
 * parse hit no bound and its bounds are within the indexer's (readsLikeTheIndexer): then it read
 * the same header lines, field bytes and parts, so the indexer's own parse would give the same.
 * The text is the text/plain parts before any HTML conversion: the indexer converts the HTML itself.
 */
function searchContentOf(mail: StreamedMail): MessageContent {
  return {
    subject: mail.subject,
    from: mail.from,
    to: mail.to,
    cc: mail.cc,
    text: mail.text,
    html: mail.html,
    attachments: mail.attachmentParts,
  };
}

interface ParseOutcome {
  parsed: ParsedMessage;
  bounds: BoundHit[];
  error?: string;
}

/** Any character trim() would keep (JavaScript's \s is trim()'s white space). */
const NOT_BLANK = /\S/;

/** Parses the message stream; on a parser failure falls back to a header-only parse and says why. */
async function parseTransaction(ctx: HookContext<ParseConfig>, open: () => Readable): Promise<ParseOutcome> {
  const config = ctx.config;
  try {
    // The message in memory is fed to the parser in slices of its own Buffer, without a stream.
    const mail = await parseMessageStream(ctx.transaction.raw ?? open, config);
    const parsed = fromStreamedMail(mail);
    if (mail.bounds.length === 0 && readsLikeTheIndexer(config)) ctx.transaction.searchContent = searchContentOf(mail);
    // `\S` finds the first non-blank character without trim()'s copy of the whole text.
    if (config.htmlToText && !NOT_BLANK.test(parsed.text) && parsed.html !== '') {
      const text = await runPassSliced(htmlToPlainTextSteps(parsed.html.slice(0, config.maxHtmlToTextChars)), new TimeSlice());
      parsed.text = text.slice(0, config.maxTextCharsPerPart);
    }
    return { parsed, bounds: mail.bounds };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown }).code;
    // mailsplit refuses a header block past its own limit (see stream-parse.ts): that is the
    // header-size bound, met before this plugin could cut the block.
    const bounds: BoundHit[] = code === 'EMAXLEN' ? [{ bound: 'maxHeaderBytes', limit: config.maxHeaderBytes }] : [];
    const head = ctx.transaction.raw?.subarray(0, fallbackWindow(config)) ?? (await readHead(open, fallbackWindow(config)));
    return { parsed: fallbackParsed(head, config), bounds, error };
  }
}

/** The reply for a message past a bound when the operator chose to refuse such messages. */
function boundVerdict(bounds: BoundHit[]): Verdict {
  const named = bounds.map((b) => `${b.bound} ${b.limit}`).join(', ');
  return { action: 'reject', code: 554, enhanced: '5.6.0', text: `Message structure exceeds a limit (${named})` };
}

async function onData(ctx: HookContext<ParseConfig>): Promise<Verdict | void> {
  const raw = ctx.transaction.raw;
  const open = ctx.transaction.rawStream ?? (raw ? () => Readable.from([raw]) : undefined);
  if (!open) {
    ctx.report({ reason: 'no message data to parse', details: { parsed: false } });
    return;
  }
  const { parsed, bounds, error } = await parseTransaction(ctx, open);
  ctx.transaction.parsed = parsed;
  ctx.transaction.summary = parsed;
  const details: Record<string, unknown> = {
    attachments: parsed.attachments.length,
    textChars: parsed.text.length,
    htmlChars: parsed.html.length,
    threadId: parsed.threadId,
  };
  const tags: string[] = [];
  const reasons: string[] = [];
  if (error !== undefined) {
    ctx.log.warn({ err: error }, 'mailparser failed; using header-only parse');
    tags.push('parse-failed');
    reasons.push(`mailparser failed, headers only: ${error}`);
    details.fallback = true;
  } else reasons.push(`parsed, ${parsed.attachments.length} attachment(s)`);
  if (bounds.length > 0) {
    tags.push('parse-bound');
    reasons.push(`parse bound hit: ${bounds.map((b) => `${b.bound} ${b.limit}`).join(', ')}`);
    details.bounds = bounds;
  }
  ctx.report({ ...(tags.length > 0 ? { tags } : {}), reason: reasons.join('; '), details });
  if (bounds.length > 0 && ctx.config.onBound === 'reject') return boundVerdict(bounds);
}

/** Parses the message once at the data stage so later plugins read `transaction.parsed`. */
const parse: PluginManifest<ParseConfig> = {
  name: 'parse',
  description: 'Parses the message (mailparser, streaming, bounded) into transaction.parsed: addresses, text, attachments, thread id.',
  configSchema: parseConfigSchema,
  hooks: { data: onData },
};

export default parse;
