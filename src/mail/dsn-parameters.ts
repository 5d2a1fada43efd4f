/**
 * RFC 3461 DSN parameters of MAIL FROM (RET, ENVID) and RCPT TO (NOTIFY, ORCPT), parsed from the
 * values a listener received (already xtext-decoded) into typed values, or into the reason they
 * are refused (the badParameterValue reply). Pure: no SMTP, no I/O, so every listener and the queue share it.
 */

/** When the sender wants a notice about a recipient (RFC 3461 §4.1). */
export type DsnNotify = 'SUCCESS' | 'FAILURE' | 'DELAY';

/** The per-message DSN request: how much of the message a bounce returns, and the sender's id. */
export interface EnvelopeDsn {
  ret?: 'FULL' | 'HDRS';
  /** The sender's envelope id, returned as Original-Envelope-Id. */
  envid?: string;
}

/** The per-recipient DSN request. */
export interface RecipientDsn {
  /** `[]` is NOTIFY=NEVER; absent means the default (failures and delays). */
  notify?: DsnNotify[];
  /** `addr-type;address` as the sender gave it (decoded), returned as Original-Recipient. */
  orcpt?: string;
}

/** A refused parameter: the listener answers with the badParameterValue reply and this text. */
export interface DsnParameterError {
  error: string;
}

/** RFC 3461 §4.4: ENVID is at most 100 characters; §4.2: ORCPT at most 500. */
const MAX_ENVID = 100;
const MAX_ORCPT = 500;
const PRINTABLE = /^[\x21-\x7e]*$/;
const ADDR_TYPE = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** Reads RET and ENVID from MAIL FROM parameters (keys upper-case); other keys are ignored. */
export function parseMailDsn(params: Record<string, unknown>): EnvelopeDsn | DsnParameterError {
  const out: EnvelopeDsn = {};
  const ret = params.RET;
  if (ret !== undefined) {
    const value = typeof ret === 'string' ? ret.toUpperCase() : '';
    if (value !== 'FULL' && value !== 'HDRS') return { error: 'RET must be FULL or HDRS' };
    out.ret = value;
  }
  const envid = params.ENVID;
  if (envid !== undefined) {
    if (typeof envid !== 'string' || envid.length === 0 || envid.length > MAX_ENVID || !PRINTABLE.test(envid)) {
      return { error: `ENVID must be 1 to ${MAX_ENVID} printable ASCII characters` };
    }
    out.envid = envid;
  }
  return out;
}

/** Reads NOTIFY and ORCPT from RCPT TO parameters (keys upper-case); other keys are ignored. */
export function parseRcptDsn(params: Record<string, unknown>): RecipientDsn | DsnParameterError {
  const out: RecipientDsn = {};
  const notify = params.NOTIFY;
  if (notify !== undefined) {
    const parsed = parseNotify(notify);
    if ('error' in parsed) return parsed;
    out.notify = parsed.values;
  }
  const orcpt = params.ORCPT;
  if (orcpt !== undefined) {
    const text = typeof orcpt === 'string' ? orcpt : '';
    const semi = text.indexOf(';');
    const valid = semi > 0 && text.length <= MAX_ORCPT && ADDR_TYPE.test(text.slice(0, semi)) && semi < text.length - 1 && !/[\x00-\x1f\x7f]/.test(text);
    if (!valid) return { error: 'ORCPT must be addr-type;address' };
    out.orcpt = `${text.slice(0, semi).toLowerCase()};${text.slice(semi + 1)}`;
  }
  return out;
}

function parseNotify(value: unknown): { values: DsnNotify[] } | DsnParameterError {
  const list = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : [];
  const words = list.map((w) => w.trim().toUpperCase());
  if (words.length === 0 || words.length > 4) return { error: 'NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY' };
  if (words.includes('NEVER')) return words.length === 1 ? { values: [] } : { error: 'NOTIFY=NEVER cannot be combined with other values' };
  const allowed: readonly string[] = ['SUCCESS', 'FAILURE', 'DELAY'];
  if (!words.every((w) => allowed.includes(w)) || new Set(words).size !== words.length) {
    return { error: 'NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY' };
  }
  return { values: words as DsnNotify[] };
}

/** True when the recipient asked to hear about this kind of event (RFC 3461 §4.1 default: FAILURE, DELAY). */
export function wantsNotice(dsn: RecipientDsn | undefined, kind: DsnNotify): boolean {
  if (!dsn?.notify) return kind !== 'SUCCESS';
  return dsn.notify.includes(kind);
}

/** The NOTIFY value to pass on to the next hop, or undefined for the default. */
export function notifyParameter(dsn: RecipientDsn | undefined): string | undefined {
  if (!dsn?.notify) return undefined;
  return dsn.notify.length === 0 ? 'NEVER' : dsn.notify.join(',');
}
