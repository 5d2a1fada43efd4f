import { simpleParser } from 'mailparser';
import { z } from 'zod';
import type { HookContext, ParsedMessage, PluginManifest } from '../../src/plugin-api.js';
import { fallbackParsed, fromParsedMail } from './build-parsed.js';

export const parseConfigSchema = z.strictObject({
  /** Convert HTML to plain text when a message has no text part. @defaultValue true */
  htmlToText: z.boolean().default(true),
  /** HTML longer than this many characters is not converted to text. @defaultValue 2000000 */
  maxHtmlToTextChars: z.number().int().positive().default(2_000_000),
});

export type ParseConfig = z.infer<typeof parseConfigSchema>;

/** Parses with mailparser; on failure falls back to a header-only parse and says why. */
async function parseRaw(
  raw: Buffer,
  config: ParseConfig,
): Promise<{ parsed: ParsedMessage; error?: string }> {
  try {
    const mail = await simpleParser(raw, {
      skipHtmlToText: !config.htmlToText,
      maxHtmlLengthToParse: config.maxHtmlToTextChars,
      // Keep `html` to the real HTML parts and leave cid: links alone (no data: URIs inlined).
      skipTextToHtml: true,
      skipImageLinks: true,
    });
    return { parsed: fromParsedMail(mail) };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { parsed: fallbackParsed(raw), error };
  }
}

async function onData(ctx: HookContext<ParseConfig>): Promise<void> {
  const raw = ctx.transaction.raw;
  if (!raw) {
    ctx.report({ reason: 'no message data to parse', details: { parsed: false } });
    return;
  }
  const { parsed, error } = await parseRaw(raw, ctx.config);
  ctx.transaction.parsed = parsed;
  ctx.transaction.summary = parsed;
  const details = {
    attachments: parsed.attachments.length,
    textChars: parsed.text.length,
    htmlChars: parsed.html.length,
    threadId: parsed.threadId,
  };
  if (error !== undefined) {
    ctx.log.warn({ err: error }, 'mailparser failed; using header-only parse');
    ctx.report({
      tags: ['parse-failed'],
      reason: `mailparser failed, headers only: ${error}`,
      details: { ...details, fallback: true },
    });
    return;
  }
  ctx.report({ reason: `parsed, ${parsed.attachments.length} attachment(s)`, details });
}

/** Parses the message once at the data stage so later plugins read `transaction.parsed`. */
const parse: PluginManifest<ParseConfig> = {
  name: 'parse',
  description: 'Parses the message (mailparser) into transaction.parsed: addresses, text, attachments, thread id.',
  configSchema: parseConfigSchema,
  hooks: { data: onData },
};

export default parse;
