import { parseMailDsn, parseRcptDsn, type EnvelopeDsn, type RecipientDsn } from '../mail/dsn-parameters.js';
import { REPLIES, type Reply } from '../mail/replies.js';

/** A parameter's value as smtp-server parses it: the xtext-decoded string, or `true` for a bare keyword. */
export type ParameterValue = string | true;

/** Tells whether a value is allowed for a parameter Hermod knows. */
export type ParameterValidator = (value: ParameterValue) => boolean;

const keyword: ParameterValidator = (v) => v === true;
const text: ParameterValidator = (v) => typeof v === 'string' && v.length > 0 && v.length <= 500;

/**
 * The MAIL FROM parameters Hermod knows, each with its value check. An extension that adds a
 * parameter (DSN's RET and ENVID, say) adds its entry here; whatever is not listed is unknown.
 */
export const MAIL_PARAMETERS: Record<string, ParameterValidator> = {
  SIZE: (v) => typeof v === 'string' && /^\d{1,20}$/.test(v), // RFC 1870
  BODY: (v) => typeof v === 'string' && /^(7BIT|8BITMIME)$/i.test(v), // RFC 6152
  SMTPUTF8: keyword, // RFC 6531
  AUTH: text, // RFC 4954 §5, on the submission listener
};

/** The RCPT TO parameters Hermod knows on a listener without DSN. */
export const RCPT_PARAMETERS: Record<string, ParameterValidator> = {};

/**
 * RFC 3461 DSN parameters, known only where DSN is offered (submission and SMTP). Here they
 * need a value; its syntax is checked by src/mail/dsn-parameters.ts, whose refusal names the
 * fault precisely.
 */
export const DSN_MAIL_PARAMETERS: Record<string, ParameterValidator> = { RET: text, ENVID: text };
export const DSN_RCPT_PARAMETERS: Record<string, ParameterValidator> = { NOTIFY: text, ORCPT: text };

/** The MAIL and RCPT tables of a listener, with the DSN entries where it offers DSN. */
export function parameterTables(offersDsn: boolean): { mail: Record<string, ParameterValidator>; rcpt: Record<string, ParameterValidator> } {
  return offersDsn
    ? { mail: { ...MAIL_PARAMETERS, ...DSN_MAIL_PARAMETERS }, rcpt: { ...RCPT_PARAMETERS, ...DSN_RCPT_PARAMETERS } }
    : { mail: MAIL_PARAMETERS, rcpt: RCPT_PARAMETERS };
}

/**
 * The refusal for a command's parameters, or null when all are known and well formed:
 * an unknown parameter gets unknownParameter (RFC 5321 §4.1.1.11), a bad value of a known one badParameterValue.
 */
export function checkParameters(
  args: Record<string, ParameterValue> | false | undefined,
  known: Record<string, ParameterValidator>,
): Reply | null {
  if (!args) return null;
  for (const [key, value] of Object.entries(args)) {
    const valid = Object.hasOwn(known, key) ? known[key] : undefined;
    if (!valid) return { ...REPLIES.unknownParameter, text: `${REPLIES.unknownParameter.text} ${key}` };
    if (!valid(value)) return { ...REPLIES.badParameterValue, text: `${REPLIES.badParameterValue.text} for ${key}` };
  }
  return null;
}

/** A DSN request read from MAIL or RCPT, or the 501 5.5.4 refusal naming what is wrong. */
export type DsnRead<T> = { dsn?: T; reply?: undefined } | { reply: Reply };

/** RET and ENVID of MAIL FROM (none given: no `dsn`), or the refusal of a bad value. */
export function readMailDsn(args: unknown): DsnRead<EnvelopeDsn> {
  const dsn = parseMailDsn(upperKeys(args));
  if ('error' in dsn) return { reply: dsnRefusal(dsn.error) };
  return dsn.ret || dsn.envid ? { dsn } : {};
}

/** NOTIFY and ORCPT of RCPT TO (none given: no `dsn`), or the refusal of a bad value. */
export function readRcptDsn(args: unknown): DsnRead<RecipientDsn> {
  const dsn = parseRcptDsn(upperKeys(args));
  if ('error' in dsn) return { reply: dsnRefusal(dsn.error) };
  return dsn.notify || dsn.orcpt ? { dsn } : {};
}

/** MAIL/RCPT parameters with upper-case names (smtp-server keeps them as sent). */
function upperKeys(args: unknown): Record<string, unknown> {
  if (!args || typeof args !== 'object') return {};
  return Object.fromEntries(Object.entries(args as Record<string, unknown>).map(([k, v]) => [k.toUpperCase(), v]));
}

/** A refused DSN parameter (RFC 3461 §4): the table's bad-parameter reply, saying why. */
function dsnRefusal(text: string): Reply {
  return { ...REPLIES.badParameterValue, text };
}
