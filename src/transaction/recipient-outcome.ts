import { REPLIES, replyForVerdict, type Reply } from '../mail/replies.js';
import type { RecipientState, Verdict } from '../pipeline/types.js';

/** How one recipient's copy ended after DATA; replyForOutcome turns it into its SMTP reply. */
export type RecipientOutcome =
  | { kind: 'stored'; recipient: RecipientState; entryId: string; duplicate: boolean }
  | { kind: 'verdict'; recipient: RecipientState; verdict: Verdict }
  | { kind: 'spam-rejected'; recipient: RecipientState }
  | { kind: 'spam-deferred'; recipient: RecipientState }
  | { kind: 'over-quota'; recipient: RecipientState; permanent: boolean }
  | { kind: 'store-failed'; recipient: RecipientState; error: Error };

/** The reply for one recipient after DATA. */
export function replyForOutcome(outcome: RecipientOutcome): Reply {
  switch (outcome.kind) {
    case 'stored':
      return outcome.duplicate ? REPLIES.duplicate : { ...REPLIES.accepted, text: `Ok: delivered as ${outcome.entryId}` };
    case 'verdict':
      return replyForVerdict(outcome.verdict) ?? REPLIES.accepted;
    case 'spam-rejected':
      return REPLIES.spamRejected;
    case 'spam-deferred':
      return REPLIES.spamDeferred;
    case 'over-quota':
      return outcome.permanent ? REPLIES.overQuotaPerm : REPLIES.overQuotaTemp;
    case 'store-failed':
      return REPLIES.storeFailure;
  }
}

/** The one reply of an SMTP DATA, and the recipients whose refused copy it leaves behind. */
export interface SingleReply {
  reply: Reply;
  /** Recipients refused for good while others were stored: their copy is dropped (and logged). */
  dropped: string[];
}

/**
 * SMTP has one reply for all recipients, so mixed per-recipient outcomes need a rule that never
 * stores a copy twice and never leaves the client retrying something that cannot heal:
 * - every copy stored (or already there) → 250;
 * - nothing stored → the common refusal, else the first temporary one (a retry may heal it),
 *   else the first permanent one;
 * - some stored and some refused temporarily → 451: the retry finds the stored copies before
 *   any policy (250, not stored again) and tries the others anew;
 * - some stored, the others refused for good → 250, and the refused copies are dropped with a
 *   logged reason: a 5xx would bounce mail that was delivered, a 4xx would be retried for days.
 * Spam thresholds, the usual cause of a per-recipient refusal, are kept uniform per SMTP
 * transaction at RCPT (see TransactionCore.addRecipient), so the last case is rare.
 */
export function singleReply(outcomes: RecipientOutcome[], replies: Reply[]): SingleReply {
  const stored = replies.filter((r) => r.code < 400);
  if (stored.length === replies.length) return { reply: replies[0], dropped: [] };
  const refused = replies.filter((r) => r.code >= 400);
  const temporary = refused.find((r) => r.code < 500);
  if (stored.length === 0) {
    const first = refused[0];
    const same = refused.every((r) => r.code === first.code && r.enhanced === first.enhanced);
    return { reply: same ? first : (temporary ?? first), dropped: [] };
  }
  if (temporary) return { reply: REPLIES.partialDelivery, dropped: [] };
  const dropped = outcomes.filter((_, i) => replies[i].code >= 500).map((o) => o.recipient.address);
  return { reply: stored[0], dropped };
}
