import type { Condition } from './conditions.js';
import type { ClassifyRule } from './config.js';

const LIST: Condition = { header: 'list-id' };
const BULK: Condition = {
  any: [{ header: 'list-unsubscribe' }, { header: 'precedence', matches: '^(bulk|list|junk)\\b' }],
};
// RFC 3834: any Auto-Submitted value other than "no" (which may carry a comment) is automatic;
// so is mail from the usual no-reply and notification mailboxes.
const NOTIFICATION: Condition = {
  any: [
    { all: [{ header: 'auto-submitted' }, { not: { header: 'auto-submitted', matches: '^no(\\s|\\(|$)' } }] },
    { from: '(^|<)(no-?reply|do-?not-?reply|notifications?|mailer-daemon)@' },
  ],
};

/**
 * The built-in rules, written in the same condition language operators use. `personal` only
 * applies when none of list, bulk and notification do.
 */
export const BUILTIN_RULES: readonly ClassifyRule[] = [
  { name: 'list', if: LIST, tags: ['list'], importance: -2 },
  { name: 'bulk', if: BULK, tags: ['bulk'], importance: -4 },
  { name: 'notification', if: NOTIFICATION, tags: ['notification'], importance: -3 },
  {
    name: 'personal',
    all: [{ recipientIn: 'to' }, { not: { any: [LIST, BULK, NOTIFICATION] } }],
    tags: ['personal'],
    importance: 2,
  },
  {
    name: 'high-priority',
    any: [{ header: 'x-priority', matches: '^1\\b' }, { header: 'importance', equals: 'high' }],
    tags: [],
    importance: 3,
  },
];
