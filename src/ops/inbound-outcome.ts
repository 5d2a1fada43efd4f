import type { RecipientOutcome } from '../transaction/recipient-outcome.js';

/** What became of one recipient's copy of an inbound message. */
export type InboundOutcome = 'delivered' | 'deferred' | 'rejected' | 'discarded';

/** Why, from a fixed set: never text from the message or a plugin. */
export type InboundReason = 'ok' | 'duplicate' | 'policy' | 'spam' | 'quota' | 'store_error';

/** The outcome and reason class of a recipient's result after DATA, for hermod_inbound_recipients_total. */
export function inboundOutcome(outcome: RecipientOutcome): { outcome: InboundOutcome; reason: InboundReason } {
  switch (outcome.kind) {
    case 'stored':
      return { outcome: 'delivered', reason: outcome.duplicate ? 'duplicate' : 'ok' };
    case 'verdict': {
      const action = outcome.verdict.action;
      if (action === 'reject') return { outcome: 'rejected', reason: 'policy' };
      if (action === 'tempfail') return { outcome: 'deferred', reason: 'policy' };
      if (action === 'discard') return { outcome: 'discarded', reason: 'policy' };
      return { outcome: 'delivered', reason: 'ok' };
    }
    case 'spam-rejected':
      return { outcome: 'rejected', reason: 'spam' };
    case 'spam-deferred':
      return { outcome: 'deferred', reason: 'spam' };
    case 'over-quota':
      return { outcome: outcome.permanent ? 'rejected' : 'deferred', reason: 'quota' };
    case 'store-failed':
      return { outcome: 'deferred', reason: 'store_error' };
  }
}
