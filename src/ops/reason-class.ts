/**
 * Bounded label values for outbound results. A remote reply is free text from the Internet, so
 * it never becomes a label itself: only the subject of its enhanced status code (RFC 3463) does,
 * which has eight possible values, plus a few classes for replies without one.
 */
export type ReasonClass =
  | 'ok'
  | 'other'
  | 'addressing'
  | 'mailbox'
  | 'mail_system'
  | 'network'
  | 'protocol'
  | 'content'
  | 'policy'
  | 'connection'
  | 'expired'
  | 'unclassified';

/** RFC 3463 subjects X.0 … X.7, in order. */
const SUBJECTS: ReasonClass[] = ['other', 'addressing', 'mailbox', 'mail_system', 'network', 'protocol', 'content', 'policy'];

/** `NNN[ -]C.S.D`: anchored, fixed-width pieces; no backtracking on hostile reply text. */
const ENHANCED = /^\d{3}[ -][245]\.(\d{1,3})\.\d{1,3}(?:\s|$)/;

/**
 * The reason class of a recipient's last reply: `ok` for 2xx, `connection` for no reply at all
 * (code 0), else the enhanced status subject (subject 1 → addressing, subject 7 → policy), else
 * `unclassified`.
 */
export function reasonClass(code: number | undefined, response: string | undefined): ReasonClass {
  if (code !== undefined && code >= 200 && code < 300) return 'ok';
  if (code === 0) return 'connection';
  const match = ENHANCED.exec((response ?? '').slice(0, 32));
  if (!match) return 'unclassified';
  return SUBJECTS[Number(match[1])] ?? 'other';
}
